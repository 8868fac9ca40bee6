// Reads the `workers:` section: how many threads run the tree's in-process
// workers and when a handler counts as slow (docs/workers.md).
#pragma once

#include "config/spec.hpp"
#include "config/yaml_reader.hpp"

namespace otpd::config {

WorkerPoolSpec read_worker_pool(const Field& workers);

}  // namespace otpd::config
