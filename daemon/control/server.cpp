#include "control/server.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "control/refusal_log.hpp"
#include "control/reply.hpp"
#include "control/session.hpp"

namespace otpd::control {
namespace {

using boost::asio::local::stream_protocol;

// Accepting stops for this long when otpd is out of descriptors, rather
// than spinning on a listening socket that stays readable.
constexpr std::chrono::milliseconds kFullPause{100};
// Connections taken per wake-up, so that a flood of them cannot starve the
// supervisor's own work on the same thread.
constexpr int kAcceptsPerRound = 64;

}  // namespace

struct Server::Impl {
  Impl(boost::asio::io_context& io, ListeningSocket socket, AccessPolicy policy, Commands& commands,
       EventHub& events, log::EventLog& log)
      : io(io),
        listening(std::move(socket)),
        acceptor(io, stream_protocol(), listening.fd),
        pause(io),
        policy(policy),
        log(log),
        refusals(io, log),
        shared(std::make_shared<SessionShared>(
            SessionShared{commands, events, log, refusals, {}, false})) {}

  void wait_for_clients() {
    acceptor.async_wait(stream_protocol::acceptor::wait_read,
                        [this](const boost::system::error_code& error) {
                          if (error) return;  // the server is closing
                          accept_waiting();
                        });
  }

  // accept4 rather than async_accept: the descriptor is close-on-exec from
  // its first moment, so no child spawned meanwhile can inherit it.
  void accept_waiting() {
    for (int round = 0; round < kAcceptsPerRound; ++round) {
      const int fd =
          accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd >= 0) {
        admit(fd);
        continue;
      }
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        if (!warned_full)
          log.warning(std::string("control: cannot accept: ") + std::strerror(errno));
        warned_full = true;
        pause.expires_after(kFullPause);
        pause.async_wait([this](const boost::system::error_code& error) {
          if (!error) wait_for_clients();
        });
        return;
      }
      log.warning(std::string("control: accept failed: ") + std::strerror(errno));
      break;
    }
    warned_full = false;
    if (acceptor.is_open()) {
      // Yield to other work between rounds; the next round comes at once if
      // more clients wait.
      wait_for_clients();
    }
  }

  void admit(int fd) {
    Peer peer;
    std::string error;
    if (!read_peer(fd, policy.has_groups(), peer, error)) {
      if (refusals.admit(Refusal::unidentified, 0)) {
        log.warning("control: refused a connection: " + error);
      }
      ::close(fd);
      return;
    }
    const Access access = access_of(policy, peer);
    if (access == Access::none) {
      // Anyone who can reach the socket can come here at will: the log
      // gets the first refusal and then a count at most every interval.
      if (refusals.admit(Refusal::connection, peer.uid)) {
        log.warning("control: refused a connection from uid " + std::to_string(peer.uid) +
                    ", pid " + std::to_string(peer.pid) + ": not otpd's user nor in its groups");
      }
      std::string line;
      append_error(line, "null", ErrorCode::forbidden,
                   "this user may not use otpd's control socket");
      // Best effort and never blocking: the line fits an empty socket buffer.
      [[maybe_unused]] const ssize_t ignored = ::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
      ::close(fd);
      return;
    }
    boost::system::error_code assign_error;
    stream_protocol::socket socket(io);
    socket.assign(stream_protocol(), fd, assign_error);
    if (assign_error) {
      ::close(fd);
      return;
    }
    std::make_shared<Session>(shared, std::move(socket), access, std::move(peer))->start();
  }

  void close_all() {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    pause.cancel();
    refusals.flush();
    shared->closed = true;
    // Copied: closing a session may release the last reference to it.
    const std::vector<Session*> open(shared->sessions.begin(), shared->sessions.end());
    shared->sessions.clear();
    for (Session* session : open) session->close();
  }

  boost::asio::io_context& io;
  ListeningSocket listening;
  stream_protocol::acceptor acceptor;
  boost::asio::steady_timer pause;
  AccessPolicy policy;
  log::EventLog& log;
  RefusalLog refusals;
  std::shared_ptr<SessionShared> shared;
  bool warned_full = false;
};

Server::Server(boost::asio::io_context& io, ListeningSocket socket, AccessPolicy policy,
               Commands& commands, EventHub& events, log::EventLog& log)
    : impl_(std::make_unique<Impl>(io, std::move(socket), policy, commands, events, log)) {
  impl_->wait_for_clients();
}

Server::~Server() {
  impl_->close_all();
  remove_socket_file(impl_->listening);
}

std::size_t Server::connections() const {
  return impl_->shared->sessions.size();
}

std::uint64_t Server::refused(Refusal kind) const {
  return impl_->refusals.count(kind);
}

}  // namespace otpd::control
