// Reader for `worker:` on a child: the built-in in-process worker kinds and
// their settings (docs/workers.md).
#pragma once

#include "config/spec.hpp"
#include "config/yaml_reader.hpp"

namespace otpd::config {

// {kind: KIND, ...settings of that kind}. Unknown kinds and keys fail with a
// suggestion; every value is checked here, so that a worker never fails to
// start on a bad setting.
WorkerSpec read_worker(const Field& field);

}  // namespace otpd::config
