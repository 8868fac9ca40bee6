// What OsProcesses needs to learn that a child is ready: the notify socket,
// the pipes behind `ready: {fd: N}`, and TCP connection attempts, all on the
// supervision io_context. Asio stays out of this header.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "asio/notify_socket.hpp"
#include "supervise/host.hpp"

namespace boost::asio {
class io_context;
}

namespace otpd::on_asio {

class ReadinessIo {
 public:
  explicit ReadinessIo(boost::asio::io_context& io);
  ~ReadinessIo();
  ReadinessIo(const ReadinessIo&) = delete;
  ReadinessIo& operator=(const ReadinessIo&) = delete;

  NotifySocket& notify() { return notify_; }

  // A pipe for a child about to be spawned with ready: {fd: N}: returns the
  // write end (close-on-exec; the caller closes it after the spawn), or -1
  // with `error` set. adopt_ready_pipe(pid) then files the read end under
  // the child's pid; drop_ready_pipe(0) forgets it when the spawn failed.
  int open_ready_pipe(std::string& error);
  void adopt_ready_pipe(int pid);
  // Closes otpd's end of a child's pipe (the child has exited).
  void drop_ready_pipe(int pid);
  std::unique_ptr<supervise::Watch> watch_ready_fd(int pid, std::function<void(bool)> fn);

  std::unique_ptr<supervise::Watch> try_connect(const std::string& host, int port,
                                                supervise::Duration timeout,
                                                std::function<void(bool)> fn);

  struct Pipes;  // public for the watches it hands out

 private:
  boost::asio::io_context& io_;
  NotifySocket notify_;
  std::shared_ptr<Pipes> pipes_;
};

}  // namespace otpd::on_asio
