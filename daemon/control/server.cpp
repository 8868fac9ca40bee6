#include "control/server.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "control/descriptor_reserve.hpp"
#include "control/refusal_log.hpp"
#include "control/reply.hpp"
#include "control/session.hpp"

namespace otpd::control {
namespace {

using boost::asio::local::stream_protocol;

// When accepting fails and no client can even be told why, accepting
// stops for a while rather than spinning on a listening socket that stays
// readable: first this long, doubling up to kLongestPause.
constexpr std::chrono::milliseconds kFirstPause{50};
constexpr std::chrono::milliseconds kLongestPause{1600};
// Connections taken per wake-up, so that a flood of them cannot starve the
// supervisor's own work on the same thread.
constexpr int kAcceptsPerRound = 64;

const std::string& busy_line() {
  static const std::string line = [] {
    std::string text;
    append_error(text, "null", ErrorCode::busy, "otpd is out of file descriptors; try again");
    return text;
  }();
  return line;
}

std::string peer_text(const Peer& peer) {
  return "uid " + std::to_string(peer.uid) + ", pid " + std::to_string(peer.pid);
}

// Best effort and never blocking: one line fits an empty socket buffer.
void send_and_close(int fd, const std::string& line) {
  [[maybe_unused]] const ssize_t ignored = ::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
  ::close(fd);
}

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
      const int fd = accept();
      if (fd >= 0) {
        accepting_again();
        admit(fd);
        continue;
      }
      const int error = errno;
      if (error == EINTR || error == ECONNABORTED) continue;
      if (error == EAGAIN || error == EWOULDBLOCK) break;
      if (error == EMFILE || error == ENFILE) {
        const Busy busy = answer_busy(error);
        if (busy == Busy::answered) continue;
        if (busy == Busy::nobody_waits) break;
      }
      back_off(error);
      return;
    }
    if (acceptor.is_open()) {
      // Yield to other work between rounds; the next round comes at once if
      // more clients wait (the wait re-arms the descriptor, which reports
      // a backlog that is not empty).
      wait_for_clients();
    }
  }

  int accept() {
    return accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  }

  enum class Busy { answered, nobody_waits, impossible };

  // Out of descriptors: the reserve is let go for the time of one accept,
  // so that the client waiting is told why and closed at once, instead of
  // waiting until it gives up. Supervision needs no new descriptor from
  // the socket, so it goes on meanwhile.
  Busy answer_busy(int shortage) {
    if (!reserve.release()) return Busy::impossible;
    const int fd = accept();
    const int error = errno;
    if (fd >= 0) {
      Peer peer;
      std::string ignored;
      const bool known = read_peer(fd, false, peer, ignored);
      send_and_close(fd, busy_line());
      if (refusals.admit(Refusal::busy, peer.uid)) {
        log.warning(std::string("control: out of file descriptors (") + std::strerror(shortage) +
                    "): answered a connection" + (known ? " from " + peer_text(peer) : "") +
                    " with 'busy'; connections are answered so until descriptors are free "
                    "(raise LimitNOFILE=)");
      }
    }
    // Taken back at once: on this thread nothing else opens a descriptor in
    // between, but a worker thread may have.
    reserve.take();
    if (fd >= 0) return Busy::answered;
    if (error == EAGAIN || error == EWOULDBLOCK) return Busy::nobody_waits;
    return Busy::impossible;
  }

  // Accepting fails and nobody can be told: look again later, each time a
  // little later, and take the reserve back as soon as a descriptor is free.
  void back_off(int error) {
    if (!backing_off) {
      log.warning(std::string("control: cannot accept connections: ") + std::strerror(error) +
                  (error == EMFILE || error == ENFILE
                       ? "; no descriptor left even to answer 'busy'; trying again"
                       : "; trying again"));
      backing_off = true;
    }
    pause.expires_after(pause_length);
    pause_length = std::min(pause_length * 2, kLongestPause);
    pause.async_wait([this](const boost::system::error_code& error) {
      if (error) return;  // the server is closing
      reserve.take();
      wait_for_clients();
    });
  }

  void accepting_again() {
    if (backing_off) log.info("control: accepting connections again");
    backing_off = false;
    pause_length = kFirstPause;
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
        log.warning("control: refused a connection from " + peer_text(peer) +
                    ": not otpd's user nor in its groups");
      }
      std::string line;
      append_error(line, "null", ErrorCode::forbidden,
                   "this user may not use otpd's control socket");
      send_and_close(fd, line);
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
  std::chrono::milliseconds pause_length = kFirstPause;
  bool backing_off = false;
  DescriptorReserve reserve;
  AccessPolicy policy;
  log::EventLog& log;
  RefusalLog refusals;
  std::shared_ptr<SessionShared> shared;
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
