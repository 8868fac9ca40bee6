// Where the control socket lives, and creating it there without stealing it
// from an otpd that is still running.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "control/peer_access.hpp"

namespace otpd::control {

// The first that is not empty: --socket, $OTPD_SOCKET, control.socket,
// the default for this user; the protocol's rule (protocol/socket_path.hpp),
// which otpctl follows to find it.
std::string choose_socket_path(const std::string& flag, const std::string& configured);

struct ListeningSocket {
  int fd = -1;  // non-blocking, close-on-exec, listening
  std::string path;
  dev_t dev = 0;  // the file bound, so that only that file is removed later
  ino_t ino = 0;
};

// Creates the socket's directory if missing, checks that it is otpd's own
// (socket_dir.hpp), replaces a socket file no process answers on, and
// listens with the mode `policy` calls for: 0600, 0660 for one group, 0666
// for two (then peer checks do the sorting). Refuses when another process
// is listening there.
std::optional<ListeningSocket> listen_on(const std::string& path, const AccessPolicy& policy,
                                         std::string& error);

// Removes the socket file if it is still the one `socket` created.
void remove_socket_file(const ListeningSocket& socket);

}  // namespace otpd::control
