// What an operation of the engine that can fail hands back: nothing when it
// worked, or why it did not, in the words the operator reads ("no child 'x'
// in the tree"). The shape of ChildStdio::failure and ReloadOutcome::failure,
// so that success is never a string that happens to be empty.
#pragma once

#include <optional>
#include <string>

namespace otpd::supervise {

using Failure = std::optional<std::string>;

}  // namespace otpd::supervise
