// An ETS-like table: a key-value store owned by a process, read by any
// thread without a message round trip.
//
//   // In the owner's handler (init, say):
//   auto cache = Table<std::string, std::string>::create("cache");   // :set, :protected
//   cache.insert("k", "v");                           // the owner writes
//   // Anywhere, any thread, holding a copy of the handle:
//   std::optional<std::string> v = cache.lookup("k"); // no mailbox, no wait
//
// Kinds: TableKind::set (a hash table) and TableKind::ordered_set (a tree,
// with range reads, first/last/next). Access, as ETS's: protected (the
// default: the owner writes, everyone reads), public (any thread writes)
// and private (only the owner reads or writes). A write or read that its
// access forbids throws TableAccessError. Others write to a protected table
// by asking its owner (a call or cast to it), which is the OTP way.
//
// The table is deleted when its owner ends (or on drop()): its contents go
// and every later operation throws TableDeleted, so a reader never sees a
// table whose owner is gone.
//
// Concurrency: one reader-writer lock per table. A read takes it shared and
// copies the value out (std::optional<V>), so readers on many threads run
// together and never wait for a process; a write takes it exclusively for
// the one change. This was chosen over copy-on-write snapshots because a
// write then stays O(1)/O(log n) instead of copying the table, which is
// what a cache under steady writes needs; the cost is one atomic operation
// on a shared cache line per read (see docs/benchmarks.md for ns per read).
// for_each, match and range hold the shared lock while they run: their
// functions must not write to the same table.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/call.hpp"
#include "runtime/process.hpp"

namespace otpd::runtime {

enum class TableKind { set, ordered_set };
enum class TableAccess { private_, protected_, public_ };

// An operation on a table that its owner's end (or drop()) deleted.
class TableDeleted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A write to a protected table from other than its owner, or any use of a
// private table from other than its owner.
class TableAccessError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

// What every table has whatever its types: the lock, the owner, the access
// rules, and the deletion that the owner's end triggers.
class TableCore {
 public:
  TableCore(std::string name, TableAccess access, const Pid& owner);
  virtual ~TableCore() = default;

  const std::string& name() const { return name_; }
  TableAccess access() const { return access_; }
  std::uint64_t owner_id() const { return owner_id_; }

  // Under the lock, shared or exclusive: throw when not allowed.
  void check_read() const;
  void check_write() const;

  // Empties the table and marks it deleted; once.
  void drop();
  // Whether it is deleted, or is within `timeout`.
  bool wait_deleted(std::chrono::milliseconds timeout) const;

  mutable std::shared_mutex mutex;

 protected:
  virtual void clear_data() = 0;

 private:
  void check_alive() const;
  bool caller_is_owner() const;

  const std::string name_;
  const TableAccess access_;
  const std::uint64_t owner_id_;
  bool deleted_ = false;
  mutable std::condition_variable_any deleted_changed_;
};

// Deletes `table` when `owner` ends: a small process monitors the owner.
void delete_with_owner(const std::shared_ptr<TableCore>& table, const Pid& owner);

template <typename K, typename V, TableKind kind>
using TableMap =
    std::conditional_t<kind == TableKind::set, std::unordered_map<K, V>, std::map<K, V>>;

template <typename K, typename V, TableKind kind>
class TableState final : public TableCore {
 public:
  using TableCore::TableCore;
  TableMap<K, V, kind> map;

 private:
  void clear_data() override { TableMap<K, V, kind>().swap(map); }
};

}  // namespace detail

template <typename K, typename V, TableKind kind = TableKind::set>
class Table {
 public:
  using Entry = std::pair<K, V>;

  Table() = default;

  // ets:new from a handler: the calling process owns the table.
  static Table create(std::string name, TableAccess access = TableAccess::protected_) {
    return create(std::move(name), calling_process("Table::create()").self(), access);
  }
  // For a running `owner`, from anywhere.
  static Table create(std::string name, const Pid& owner, TableAccess access) {
    auto state = std::make_shared<State>(std::move(name), access, owner);
    detail::delete_with_owner(state, owner);
    return Table(std::move(state));
  }

  const std::string& name() const { return state_->name(); }

  // --- reads: any thread (private: the owner only) --------------------------------

  std::optional<V> lookup(const K& key) const {
    auto lock = read_lock();
    const auto found = state_->map.find(key);
    if (found == state_->map.end()) return std::nullopt;
    return found->second;
  }
  bool member(const K& key) const {
    auto lock = read_lock();
    return state_->map.find(key) != state_->map.end();
  }
  std::size_t size() const {
    auto lock = read_lock();
    return state_->map.size();
  }
  // ets:foldl-like: fn(key, value) for every entry (in key order for an
  // ordered_set); fn must not write to this table.
  template <typename Fn>
  void for_each(Fn fn) const {
    auto lock = read_lock();
    for (const auto& [key, value] : state_->map) fn(key, value);
  }
  // ets:select with a predicate: the entries for which pred(key, value).
  template <typename Pred>
  std::vector<Entry> match(Pred pred) const {
    std::vector<Entry> found;
    for_each([&](const K& key, const V& value) {
      if (pred(key, value)) found.emplace_back(key, value);
    });
    return found;
  }
  std::vector<Entry> to_list() const {
    return match([](const K&, const V&) { return true; });
  }

  // ordered_set only: the entries with from <= key < to, in order.
  std::vector<Entry> range(const K& from, const K& to) const
      requires(kind == TableKind::ordered_set) {
    auto lock = read_lock();
    std::vector<Entry> found;
    for (auto it = state_->map.lower_bound(from); it != state_->map.end() && it->first < to; ++it) {
      found.emplace_back(it->first, it->second);
    }
    return found;
  }
  // ets:first, ets:last, ets:next: keys in order; nullopt past the end.
  std::optional<K> first() const requires(kind == TableKind::ordered_set) {
    auto lock = read_lock();
    if (state_->map.empty()) return std::nullopt;
    return state_->map.begin()->first;
  }
  std::optional<K> last() const requires(kind == TableKind::ordered_set) {
    auto lock = read_lock();
    if (state_->map.empty()) return std::nullopt;
    return state_->map.rbegin()->first;
  }
  std::optional<K> next(const K& key) const requires(kind == TableKind::ordered_set) {
    auto lock = read_lock();
    const auto after = state_->map.upper_bound(key);
    if (after == state_->map.end()) return std::nullopt;
    return after->first;
  }

  // --- writes: the owner (public: anyone) -------------------------------------------

  // ets:insert: adds or replaces.
  void insert(K key, V value) {
    auto lock = write_lock();
    state_->map.insert_or_assign(std::move(key), std::move(value));
  }
  // ets:insert_new: false, and no change, when the key is there.
  bool insert_new(K key, V value) {
    auto lock = write_lock();
    return state_->map.try_emplace(std::move(key), std::move(value)).second;
  }
  // ets:delete/2: whether the key was there.
  bool erase(const K& key) {
    auto lock = write_lock();
    return state_->map.erase(key) > 0;
  }
  // ets:delete_all_objects.
  void clear() {
    auto lock = write_lock();
    state_->map.clear();
  }
  // ets:update_counter: adds `increment` and returns the new value; a
  // missing key throws std::out_of_range, unless `initial` is given: then
  // the key starts at `initial` (ETS's Default).
  V update_counter(const K& key, V increment,
                   std::optional<V> initial = std::nullopt) requires std::is_arithmetic_v<V> {
    auto lock = write_lock();
    auto found = state_->map.find(key);
    if (found == state_->map.end()) {
      if (!initial) throw std::out_of_range("update_counter: no such key in " + name());
      found = state_->map.emplace(key, *initial).first;
    }
    return found->second += increment;
  }

  // Waits until the table is deleted, up to `timeout`; false if it is not.
  // Its owner's end deletes it a message's time later (a small process
  // monitors the owner): for whoever must know that the old table is gone,
  // a test or a process about to make another.
  bool wait_deleted(std::chrono::milliseconds timeout) const {
    return state_->wait_deleted(timeout);
  }

  // ets:delete/1: the table is deleted now, as when its owner ends.
  void drop() {
    write_lock().unlock();  // only who may write may delete
    state_->drop();
  }

 private:
  using State = detail::TableState<K, V, kind>;
  explicit Table(std::shared_ptr<State> state) : state_(std::move(state)) {}

  std::shared_lock<std::shared_mutex> read_lock() const {
    std::shared_lock lock(state_->mutex);
    state_->check_read();
    return lock;
  }
  std::unique_lock<std::shared_mutex> write_lock() const {
    std::unique_lock lock(state_->mutex);
    state_->check_write();
    return lock;
  }

  std::shared_ptr<State> state_;
};

template <typename K, typename V>
using OrderedTable = Table<K, V, TableKind::ordered_set>;

}  // namespace otpd::runtime
