#include "asio/readiness_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <unordered_map>

namespace otpd::on_asio {
namespace asio = boost::asio;

namespace {

// otpd's end of one child's readiness pipe.
struct ReadyPipe {
  explicit ReadyPipe(asio::io_context& io) : end(io) {}
  asio::posix::stream_descriptor end;
  std::function<void(bool)> fn;

  void finish(bool ready) {
    boost::system::error_code ignored;
    end.close(ignored);
    if (auto call = std::exchange(fn, nullptr)) call(ready);
  }

  void wait(std::shared_ptr<ReadyPipe> self) {
    end.async_wait(asio::posix::stream_descriptor::wait_read,
                   [self](const boost::system::error_code& error) {
                     if (error || !self->fn) return;
                     self->read(self);
                   });
  }

  // Never blocks: the child may write a little and nothing more.
  void read(std::shared_ptr<ReadyPipe> self) {
    char buffer[256];
    for (;;) {
      const ssize_t n = ::read(end.native_handle(), buffer, sizeof buffer);
      if (n > 0) {
        if (std::memchr(buffer, '\n', static_cast<std::size_t>(n)) != nullptr) {
          finish(true);
          return;
        }
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        wait(self);
        return;
      }
      finish(false);  // end of file: every copy of the write end is closed
      return;
    }
  }
};

class PipeWatch final : public supervise::Watch {
 public:
  explicit PipeWatch(std::shared_ptr<ReadyPipe> pipe) : pipe_(std::move(pipe)) {}
  ~PipeWatch() override {
    pipe_->fn = nullptr;
    boost::system::error_code ignored;
    pipe_->end.close(ignored);
  }

 private:
  std::shared_ptr<ReadyPipe> pipe_;
};

struct Attempt {
  explicit Attempt(asio::io_context& io) : socket(io), timer(io) {}
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  std::function<void(bool)> fn;

  void finish(bool accepted) {
    boost::system::error_code ignored;
    socket.close(ignored);
    timer.cancel();
    if (auto call = std::exchange(fn, nullptr)) call(accepted);
  }
};

class ConnectWatch final : public supervise::Watch {
 public:
  explicit ConnectWatch(std::shared_ptr<Attempt> attempt) : attempt_(std::move(attempt)) {}
  ~ConnectWatch() override {
    attempt_->fn = nullptr;
    attempt_->finish(false);
  }

 private:
  std::shared_ptr<Attempt> attempt_;
};

}  // namespace

struct ReadinessIo::Pipes {
  std::unordered_map<int, std::shared_ptr<ReadyPipe>> by_pid;
  int pending_read_end = -1;  // between open_ready_pipe and adopt_ready_pipe
};

ReadinessIo::ReadinessIo(asio::io_context& io)
    : io_(io), notify_(io), pipes_(std::make_shared<Pipes>()) {}

ReadinessIo::~ReadinessIo() {
  if (pipes_->pending_read_end >= 0) close(pipes_->pending_read_end);
}

int ReadinessIo::open_ready_pipe(std::string& error) {
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) {
    error = std::string("cannot create the readiness pipe: ") + std::strerror(errno);
    return -1;
  }
  // Only otpd's end is non-blocking; the child gets an ordinary pipe.
  fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK);
  if (pipes_->pending_read_end >= 0) close(pipes_->pending_read_end);
  pipes_->pending_read_end = ends[0];
  return ends[1];
}

void ReadinessIo::adopt_ready_pipe(int pid) {
  const int read_end = std::exchange(pipes_->pending_read_end, -1);
  if (read_end < 0) return;
  if (pid <= 0) {
    close(read_end);
    return;
  }
  auto pipe = std::make_shared<ReadyPipe>(io_);
  pipe->end.assign(read_end);
  pipes_->by_pid[pid] = std::move(pipe);
}

void ReadinessIo::drop_ready_pipe(int pid) {
  auto found = pipes_->by_pid.find(pid);
  if (found == pipes_->by_pid.end()) return;
  boost::system::error_code ignored;
  found->second->end.close(ignored);
  pipes_->by_pid.erase(found);
}

std::unique_ptr<supervise::Watch> ReadinessIo::watch_ready_fd(int pid,
                                                              std::function<void(bool)> fn) {
  auto found = pipes_->by_pid.find(pid);
  if (found == pipes_->by_pid.end()) return nullptr;
  std::shared_ptr<ReadyPipe> pipe = std::move(found->second);
  pipes_->by_pid.erase(found);  // one watch per pipe; the watch owns it now
  pipe->fn = std::move(fn);
  pipe->wait(pipe);
  return std::make_unique<PipeWatch>(std::move(pipe));
}

std::unique_ptr<supervise::Watch> ReadinessIo::try_connect(const std::string& host, int port,
                                                           supervise::Duration timeout,
                                                           std::function<void(bool)> fn) {
  auto attempt = std::make_shared<Attempt>(io_);
  attempt->fn = std::move(fn);
  boost::system::error_code error;
  const auto address = asio::ip::make_address(host, error);
  if (error) {
    asio::post(io_, [attempt] { attempt->finish(false); });
  } else {
    attempt->socket.async_connect(
        asio::ip::tcp::endpoint(address, static_cast<unsigned short>(port)),
        [attempt](const boost::system::error_code& result) { attempt->finish(!result); });
    attempt->timer.expires_after(timeout);
    attempt->timer.async_wait([attempt](const boost::system::error_code& result) {
      if (!result) attempt->finish(false);
    });
  }
  return std::make_unique<ConnectWatch>(std::move(attempt));
}

}  // namespace otpd::on_asio
