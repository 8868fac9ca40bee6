// Readers for a process's execution settings: who it runs as (user, group,
// groups), its umask, rlimits, environment sources (env_file, inherit_env)
// and how it is stopped (stop_signal, kill_mode). Users and groups are
// resolved on the machine loading the config, so `otpd check` reports an
// unknown one just as starting otpd would.
#pragma once

#include <optional>

#include "config/spec.hpp"
#include "config/yaml_reader.hpp"

namespace otpd::config {

// What the identity keys leave for finish_exec, which applies the defaults
// that depend on more than one key.
struct ExecDraft {
  std::optional<unsigned> primary_gid;  // of `user`, when it has an entry
  SourceLocation user_where;
};

void read_user(const Field& field, ProcessSpec& process, ExecDraft& draft);
void read_group(const Field& field, ProcessSpec& process);
void read_groups(const Field& field, ProcessSpec& process);
void read_umask(const Field& field, ProcessSpec& process);
void read_rlimits(const Field& field, ProcessSpec& process);
void read_env_file(const Field& field, ProcessSpec& process);
void read_inherit_env(const Field& field, ProcessSpec& process);
void read_stop_signal(const Field& field, ProcessSpec& process);
// A signal written as SIGTERM, TERM (any case) or 15; returns its number.
int read_signal(const Field& field);
void read_kill_mode(const Field& field, ProcessSpec& process);

// Once every key of the process has been read: `group` defaults to the
// user's primary group and `groups` to the user's groups (as root).
void finish_exec(const ExecDraft& draft, ProcessSpec& process);

}  // namespace otpd::config
