// Many pipes read on the event loop through one descriptor of Asio's: an
// epoll set of otpd's own, which Asio watches. Asio keeps some 300 bytes of
// state and a pending operation for each descriptor it watches; a pipe in
// this set costs the kernel's entry and nothing on otpd's heap, which for
// a tree of 10,000 children is megabytes.
//
// Pipes are watched level-triggered. When the set is readable, each ready
// pipe is told once (and reads one chunk), then the next round is queued
// behind the rest of the loop's work, until no pipe is ready: a pipe that
// never empties gets its turn and no more.
#pragma once

#include <memory>

namespace boost::asio {
class io_context;
}

namespace otpd::output {

class PipeSet {
 public:
  class Pipe {
   public:
    virtual ~Pipe() = default;
    // Readable, or at its end: read (at most one chunk). May remove, and
    // delete, itself.
    virtual void readable() = 0;
  };

  // Throws std::system_error when no epoll set can be made.
  explicit PipeSet(boost::asio::io_context& io);
  ~PipeSet();
  PipeSet(const PipeSet&) = delete;
  PipeSet& operator=(const PipeSet&) = delete;

  // Watches `fd` (non-blocking) for `pipe`, until remove(fd); false with
  // errno set when the kernel refuses.
  bool add(int fd, Pipe& pipe);
  void remove(int fd);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace otpd::output
