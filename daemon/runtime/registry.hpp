// Elixir's Registry: processes found by key, with unique keys (one process
// a key: naming) or duplicate keys (many: publish/subscribe).
//
//   Registry names(scheduler, Registry::Keys::unique);
//   Server<Session> s = names.start_named<Session>(scheduler, "user:42", 42);
//   names.via<Session>("user:42").cast(&Session::touch);    // {:via, Registry, ...}
//   Pid pid = names.whereis("user:42");                       // any thread
//
//   Registry topics(scheduler, Registry::Keys::duplicate);
//   topics.register_self("news");                            // in a subscriber's handler
//   topics.dispatch("news", [](const Registry::Entry& e) { Server<Reader>(e.pid).cast(...); });
//
// Reads (lookup, whereis, keys_of, dispatch) take a shared lock and never
// wait for a process, so any thread may ask, the daemon's control socket
// included. A registered process is removed from every key when it ends:
// the registry's own process monitors it. The removal runs on that process's
// thread shortly after the end, so a lookup may still see an ended process
// for a moment; a message sent to it then is dropped, as in Erlang.
//
// Differences from Elixir: keys are strings and values are strings; a
// registration takes effect at once, from any thread, for any pid
// (register_pid), where Elixir only lets a process register itself.
#pragma once

#include <functional>
#include <memory>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/gen_server.hpp"
#include "runtime/process.hpp"
#include "runtime/scheduler.hpp"

namespace otpd::runtime {

// start_named found the key taken: Elixir's {:error, {:already_started, pid}}.
class AlreadyRegistered : public std::runtime_error {
 public:
  AlreadyRegistered(const std::string& key, Pid holder)
      : std::runtime_error("the name '" + key + "' is already registered"),
        holder_(std::move(holder)) {}
  const Pid& holder() const { return holder_; }

 private:
  Pid holder_;
};

class RegistryWatcher;

class Registry {
 public:
  enum class Keys { unique, duplicate };
  struct Entry {
    Pid pid;
    std::string value;
  };

  // Runs on the registry's process once an ended process has been removed
  // from every key, for whoever must know that the removal is done (tests,
  // tools): it follows the end by a message's time.
  using OnRemoved = std::function<void(const Pid&)>;

  // Starts the registry's process (the one that monitors registered
  // processes) on `scheduler`; the destructor stops it.
  Registry(Scheduler& scheduler, Keys keys, OnRemoved on_removed = {});
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Keys keys() const;

  // Registry.register from a handler: the calling process under `key`.
  // With unique keys, false when another process holds it.
  bool register_self(const std::string& key, std::string value = {});
  // The same for any process, from any thread.
  bool register_pid(const std::string& key, const Pid& pid, std::string value = {});
  // Registry.unregister; the calling process, or `pid`.
  void unregister_self(const std::string& key);
  void unregister(const std::string& key, const Pid& pid);

  std::vector<Entry> lookup(const std::string& key) const;
  // The process under a unique key; an empty Pid when none.
  Pid whereis(const std::string& key) const;
  // Registry.keys: the keys `pid` is registered under.
  std::vector<std::string> keys_of(const Pid& pid) const;
  // Registry.count: entries over all keys.
  std::size_t count() const;

  // Registry.dispatch: fn(entry) for each entry under `key`, on the calling
  // thread, after the lock is released (fn may register or send freely).
  template <typename Fn>
  void dispatch(const std::string& key, Fn fn) const {
    for (const Entry& entry : lookup(key)) fn(entry);
  }

  // {:via, Registry, {registry, key}}: a Server<T> whose every call and cast
  // finds the process under `key` at that moment; a call fails with
  // CallError(noproc) and a cast is dropped when no process holds it.
  template <typename T>
  class Via {
   public:
    Via(const Registry& registry, std::string key) : registry_(&registry), key_(std::move(key)) {}
    Server<T> resolve() const { return Server<T>(registry_->whereis(key_)); }
    template <typename F, typename... Args>
    void cast(F f, Args... args) const {
      resolve().cast(std::move(f), std::move(args)...);
    }
    template <typename F, typename... Args>
    auto call(F f, Args... args) const {
      return resolve().call(std::move(f), std::move(args)...);
    }
    template <typename F, typename... Args>
    auto call_blocking(F f, Args... args) const {
      return resolve().call_blocking(std::move(f), std::move(args)...);
    }

   private:
    const Registry* registry_;
    std::string key_;
  };

  template <typename T>
  Via<T> via(std::string key) const {
    return Via<T>(*this, std::move(key));
  }

  // GenServer.start with name: {:via, ...}: the key is claimed before the
  // server starts, so that two starters cannot both win; throws
  // AlreadyRegistered (unique keys only).
  template <typename T, typename... Args>
  Server<T> start_named(Scheduler& scheduler, const std::string& key, Args&&... args) {
    reserve(key);
    T* server = nullptr;
    try {
      server = new T(std::forward<Args>(args)...);
    } catch (...) {
      release_reservation(key);
      throw;
    }
    Server<T> handle(server->self());
    scheduler.start(*server);
    fill_reservation(key, handle.pid());
    return handle;
  }

  // Shared with the registry's process, which outlives nothing it needs.
  struct Tables;

 private:
  void reserve(const std::string& key);
  void release_reservation(const std::string& key);
  void fill_reservation(const std::string& key, const Pid& pid);

  std::shared_ptr<Tables> tables_;
  Server<RegistryWatcher> watcher_;
};

}  // namespace otpd::runtime
