// Reader for the settings of a `file_watch` worker (docs/workers.md): what it
// watches, what it does to its target on a change, and how long it waits for
// a burst of changes to end.
#pragma once

#include <vector>

#include "config/spec.hpp"
#include "config/yaml_reader.hpp"

namespace otpd::config {

// `entries` are the worker's settings, their keys already checked; `worker`
// is the `worker:` field, for errors about what is missing. Paths are made
// absolute against the file's directory, and a path whose directory does
// not exist fails here: a file that does not exist yet is fine.
FileWatchSettings read_file_watch(const std::vector<Field>& entries, const Field& worker);

}  // namespace otpd::config
