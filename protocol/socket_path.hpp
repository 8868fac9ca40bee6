// Where otpd's control socket is (docs/protocol.md, Transport): the one
// rule otpd follows to listen and otpctl follows to connect, so that both
// find each other without flags.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace otpd::protocol {

// Reads an environment variable; nullptr when unset. Tests pass their own.
using Getenv = std::function<const char*(const char*)>;

// The variable that names the socket for both, after --socket.
inline constexpr const char* kSocketVariable = "OTPD_SOCKET";
// Where the system's otpd (run by root) listens.
inline constexpr std::string_view kSystemSocket = "/run/otpd/otpd.sock";
// Unix socket addresses hold at most this many bytes of path.
inline constexpr std::size_t kMaxSocketPath = 107;

// Where an otpd run by `uid` listens when nothing names its socket:
// kSystemSocket for root; otherwise $XDG_RUNTIME_DIR/otpd.sock when that
// is an absolute path, else /tmp/otpd-UID/otpd.sock.
std::string default_socket_path(const Getenv& getenv, uid_t uid);

// Where a client run by `uid` looks when nothing names the socket, in
// order: first default_socket_path, where otpd run by the same user
// listens. Then, for a non-root user without XDG_RUNTIME_DIR (su, sudo
// -u), /run/user/UID, where a session's otpd listens; and kSystemSocket,
// which a member of the system otpd's control groups may use.
std::vector<std::string> client_socket_paths(const Getenv& getenv, uid_t uid);

// The socket named by --socket (`flag`), else by kSocketVariable, else by
// the config (`configured`); empty when none names one.
std::string named_socket_path(std::string_view flag, const Getenv& getenv,
                              std::string_view configured = {});

}  // namespace otpd::protocol
