#include "runtime/table.hpp"

#include <utility>

#include "runtime/scheduler.hpp"

namespace otpd::runtime::detail {

namespace {

// Deletes a table when its owner ends. A process of its own, since the
// owner's class knows nothing of its tables and cannot be asked to clean up.
class OwnerWatch final : public Process {
 public:
  OwnerWatch(std::weak_ptr<TableCore> table, Pid owner)
      : table_(std::move(table)), owner_(std::move(owner)) {}

 private:
  // Lets go of the Pid at once: the owner may hold this process's monitor
  // request in its mailbox, and two Pids held crosswise keep both alive.
  void on_start() override { monitor(std::exchange(owner_, {})); }
  void on_down(MonitorRef, const Pid&, const ExitReason&) override {
    if (auto table = table_.lock()) table->drop();
    exit(ExitReason::normal());
  }

  // Weak: a table nobody holds any more needs no deleting.
  std::weak_ptr<TableCore> table_;
  Pid owner_;
};

}  // namespace

TableCore::TableCore(std::string name, TableAccess access, const Pid& owner)
    : name_(std::move(name)), access_(access), owner_id_(owner.id()) {}

bool TableCore::caller_is_owner() const {
  const Process* caller = Process::current();
  return caller != nullptr && caller->id() == owner_id_;
}

void TableCore::check_alive() const {
  if (deleted_)
    throw TableDeleted("table " + name_ + " was deleted: its owner ended or dropped it");
}

void TableCore::check_read() const {
  check_alive();
  if (access_ == TableAccess::private_ && !caller_is_owner()) {
    throw TableAccessError("table " + name_ + " is private: only its owner reads it");
  }
}

void TableCore::check_write() const {
  check_alive();
  if (access_ != TableAccess::public_ && !caller_is_owner()) {
    throw TableAccessError("table " + name_ +
                           " is written by its owner only: ask the owner, or make it public");
  }
}

void TableCore::drop() {
  std::unique_lock lock(mutex);
  if (deleted_) return;
  deleted_ = true;
  clear_data();
  deleted_changed_.notify_all();
}

bool TableCore::wait_deleted(std::chrono::milliseconds timeout) const {
  std::shared_lock lock(mutex);
  return deleted_changed_.wait_for(lock, timeout, [this] { return deleted_; });
}

void delete_with_owner(const std::shared_ptr<TableCore>& table, const Pid& owner) {
  if (!owner) throw std::invalid_argument("a table needs an owner");
  auto* watch = new OwnerWatch(table, owner);
  owner.get()->scheduler().start(*watch);
}

}  // namespace otpd::runtime::detail
