// Readers for the keys that only a process child has.
#pragma once

#include "config/spec.hpp"
#include "config/yaml_reader.hpp"

namespace otpd::config {

void read_command(const Field& field, ProcessSpec& process);
void read_shell(const Field& field, ProcessSpec& process);
void read_env(const Field& field, ProcessSpec& process);
void read_cwd(const Field& field, ProcessSpec& process);
void read_normal_exit(const Field& field, ProcessSpec& process);
// The limits of the child's cgroup: memory_max, cpu_max, pids_max.
void read_memory_max(const Field& field, ProcessSpec& process);
void read_cpu_max(const Field& field, ProcessSpec& process);
void read_pids_max(const Field& field, ProcessSpec& process);

}  // namespace otpd::config
