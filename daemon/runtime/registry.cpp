#include "runtime/registry.hpp"

#include <algorithm>
#include <mutex>
#include <unordered_set>

namespace otpd::runtime {

// An entry with an empty pid is a name claimed by start_named whose server
// is being built: it blocks the key and is invisible to readers.
struct Registry::Tables {
  explicit Tables(Keys keys) : keys(keys) {}

  // Whether it was added, and whether its process must now be monitored.
  struct Added {
    bool added = false;
    bool watch = false;
  };

  Added insert(const std::string& key, const Pid& pid, std::string value) {
    std::unique_lock lock(mutex);
    auto& entries = by_key[key];
    if (keys == Keys::unique && !entries.empty()) return {};
    entries.push_back({pid, std::move(value)});
    if (!pid) return {.added = true, .watch = false};
    keys_by_pid[pid.id()].push_back(key);
    ++count;
    return {.added = true, .watch = watched.insert(pid.id()).second};
  }

  // start_named's claim on `key` becomes `pid`'s entry; true when its
  // process must now be monitored.
  bool fill(const std::string& key, const Pid& pid) {
    std::unique_lock lock(mutex);
    by_key[key] = {Entry{pid, {}}};
    keys_by_pid[pid.id()].push_back(key);
    ++count;
    return watched.insert(pid.id()).second;
  }

  void remove(const std::string& key, const Pid& pid) {
    std::unique_lock lock(mutex);
    remove_locked(key, pid);
    if (!pid) return;
    const auto keys_found = keys_by_pid.find(pid.id());
    if (keys_found == keys_by_pid.end()) return;
    auto& keys_of_pid = keys_found->second;
    const auto one = std::find(keys_of_pid.begin(), keys_of_pid.end(), key);
    if (one != keys_of_pid.end()) keys_of_pid.erase(one);
    if (keys_of_pid.empty()) keys_by_pid.erase(keys_found);
  }

  void remove_all(const Pid& pid) {
    std::unique_lock lock(mutex);
    watched.erase(pid.id());
    const auto found = keys_by_pid.find(pid.id());
    if (found == keys_by_pid.end()) return;
    for (const std::string& key : found->second) remove_locked(key, pid);
    keys_by_pid.erase(found);
  }

  // One entry of `pid` under `key` (duplicate keys may hold several).
  void remove_locked(const std::string& key, const Pid& pid) {
    const auto found = by_key.find(key);
    if (found == by_key.end()) return;
    auto& entries = found->second;
    const auto entry =
        std::find_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.pid == pid; });
    if (entry == entries.end()) return;
    entries.erase(entry);
    if (pid) --count;
    if (entries.empty()) by_key.erase(found);
  }

  const Keys keys;
  mutable std::shared_mutex mutex;
  std::unordered_map<std::string, std::vector<Entry>> by_key;
  std::unordered_map<std::uint64_t, std::vector<std::string>> keys_by_pid;
  std::unordered_set<std::uint64_t> watched;  // monitored by the registry's process
  std::size_t count = 0;
};

// Monitors registered processes and removes an ended one from every key.
class RegistryWatcher : public GenServer<RegistryWatcher> {
 public:
  RegistryWatcher(std::weak_ptr<Registry::Tables> tables, Registry::OnRemoved on_removed)
      : tables_(std::move(tables)), on_removed_(std::move(on_removed)) {}
  void watch(const Pid& pid) { monitor(pid); }
  void handle_down(MonitorRef, const Pid& who, const ExitReason&) {
    if (auto tables = tables_.lock()) tables->remove_all(who);
    if (on_removed_) on_removed_(who);
  }

 private:
  // Weak: the tables hold registered Pids, and a registered process may
  // hold a message from this one (a monitor request); a strong reference
  // would make a cycle that outlives the registry.
  std::weak_ptr<Registry::Tables> tables_;
  Registry::OnRemoved on_removed_;
};

Registry::Registry(Scheduler& scheduler, Keys keys, OnRemoved on_removed)
    : tables_(std::make_shared<Tables>(keys)),
      watcher_(start<RegistryWatcher>(scheduler, std::weak_ptr<Tables>(tables_),
                                      std::move(on_removed))) {}

Registry::~Registry() {
  watcher_.stop(ExitReason::shutdown());
}

Registry::Keys Registry::keys() const {
  return tables_->keys;
}

bool Registry::register_self(const std::string& key, std::string value) {
  return register_pid(key, calling_process("Registry::register_self()").self(), std::move(value));
}

bool Registry::register_pid(const std::string& key, const Pid& pid, std::string value) {
  if (!pid) throw std::invalid_argument("register_pid(): an empty pid");
  const auto added = tables_->insert(key, pid, std::move(value));
  if (added.watch) watcher_.cast(&RegistryWatcher::watch, pid);
  return added.added;
}

void Registry::unregister_self(const std::string& key) {
  unregister(key, calling_process("Registry::unregister_self()").self());
}

void Registry::unregister(const std::string& key, const Pid& pid) {
  if (pid) tables_->remove(key, pid);
}

std::vector<Registry::Entry> Registry::lookup(const std::string& key) const {
  std::shared_lock lock(tables_->mutex);
  const auto found = tables_->by_key.find(key);
  if (found == tables_->by_key.end()) return {};
  std::vector<Entry> entries;
  entries.reserve(found->second.size());
  for (const Entry& entry : found->second) {
    if (entry.pid) entries.push_back(entry);
  }
  return entries;
}

Pid Registry::whereis(const std::string& key) const {
  std::shared_lock lock(tables_->mutex);
  const auto found = tables_->by_key.find(key);
  if (found == tables_->by_key.end() || found->second.empty()) return {};
  return found->second.front().pid;
}

std::vector<std::string> Registry::keys_of(const Pid& pid) const {
  std::shared_lock lock(tables_->mutex);
  const auto found = tables_->keys_by_pid.find(pid.id());
  if (found == tables_->keys_by_pid.end()) return {};
  return found->second;
}

std::size_t Registry::count() const {
  std::shared_lock lock(tables_->mutex);
  return tables_->count;
}

void Registry::reserve(const std::string& key) {
  if (tables_->keys != Keys::unique) {
    throw std::logic_error("start_named() needs a registry of unique keys");
  }
  if (!tables_->insert(key, Pid(), {}).added) throw AlreadyRegistered(key, whereis(key));
}

void Registry::release_reservation(const std::string& key) {
  tables_->remove(key, Pid());
}

void Registry::fill_reservation(const std::string& key, const Pid& pid) {
  if (tables_->fill(key, pid)) watcher_.cast(&RegistryWatcher::watch, pid);
}

}  // namespace otpd::runtime
