// Waiting, on the event loop, for a cgroup v2 to become empty: its
// cgroup.events file says "populated 0". The kernel reports each change of
// that file as an inotify IN_MODIFY, so one inotify descriptor serves
// every wait and nothing polls; without inotify, the file is read again
// every few milliseconds until the wait ends.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace otpd::process {

class CgroupDrain {
 public:
  explicit CgroupDrain(boost::asio::io_context& io);
  ~CgroupDrain();
  CgroupDrain(const CgroupDrain&) = delete;
  CgroupDrain& operator=(const CgroupDrain&) = delete;

  // Calls done(true) from the loop once the cgroup `dir` holds no process
  // (or has gone), or done(false) when `patience` runs out first. Never
  // calls it from inside wait().
  void wait(const std::string& dir, std::chrono::milliseconds patience,
            std::function<void(bool emptied)> done);
  // Waits not yet done (for tests).
  std::size_t waiting() const;
  // Calls fn from the loop after `delay`, unless a call is pending already:
  // for the removal of the leaves that rest (Cgroups::remove_rested).
  void later(std::chrono::milliseconds delay, std::function<void()> fn);
  // Calls fn from the loop after what is queued there now.
  void soon(std::function<void()> fn);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace otpd::process
