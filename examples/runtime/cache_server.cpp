// Table: a cache server backed by an ETS-like table, the classic Elixir
// pattern: reads go straight to the table, writes through the owner.
//
//   def init(_), do: {:ok, :ets.new(:cache, [:set, :protected, :named_table])}
//   def get(key), do: (case :ets.lookup(:cache, key) do [{^key, v}] -> {:ok, v}; [] -> :error end)
//   def put(key, value), do: GenServer.cast(Cache, {:put, key, value})
//   def handle_cast({:put, key, value}, t), do: (:ets.insert(t, {key, value}); {:noreply, t})
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/gen_server.hpp"
#include "runtime/table.hpp"

using namespace otpd::runtime;

namespace {

using CacheTable = Table<std::string, std::string>;

// The owner: the only writer, so writes are ordered and nobody races.
class CacheServer : public GenServer<CacheServer> {
 public:
  void init() { table_ = CacheTable::create("cache"); }  // :set, :protected
  CacheTable table() const { return table_; }
  void put(std::string key, std::string value) { table_.insert(std::move(key), std::move(value)); }
  void evict(std::string key) { table_.erase(key); }

 private:
  CacheTable table_;
};

// The client API, as the Elixir module's public functions.
class Cache {
 public:
  explicit Cache(Scheduler& scheduler)
      : server_(start<CacheServer>(scheduler)),
        table_(server_.call_blocking(&CacheServer::table)) {}

  std::optional<std::string> get(const std::string& key) const { return table_.lookup(key); }
  void put(std::string key, std::string value) const {
    server_.cast(&CacheServer::put, std::move(key), std::move(value));
  }
  // Waits until the owner has applied every write sent before.
  void sync() const {
    server_.call_blocking([](CacheServer&) {});
  }
  void stop() const { server_.stop(); }

 private:
  Server<CacheServer> server_;
  CacheTable table_;
};

}  // namespace

int main() {
  Scheduler scheduler(2);
  Cache cache(scheduler);
  cache.put("home", "<h1>Welcome</h1>");
  cache.put("about", "<p>otpd</p>");
  cache.sync();

  // Four reader threads hit the table at once, with no message to the owner.
  std::vector<std::thread> readers;
  std::vector<int> hits(4, 0);
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&, r] {
      for (int i = 0; i < 10000; ++i) hits[r] += cache.get(i % 2 ? "home" : "about") ? 1 : 0;
    });
  }
  for (auto& reader : readers) reader.join();
  const bool miss = !cache.get("missing");
  std::printf("hits per reader: %d %d %d %d; a missing key misses: %s\n", hits[0], hits[1], hits[2],
              hits[3], miss ? "yes" : "no");

  // The table dies with its owner: later reads throw rather than lie.
  cache.stop();
  bool deleted = false;
  for (int i = 0; i < 500 && !deleted; ++i) {
    try {
      cache.get("home");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } catch (const TableDeleted& e) {
      std::printf("after the owner stops: %s\n", e.what());
      deleted = true;
    }
  }
  const bool right = miss && deleted && hits == std::vector<int>(4, 10000);
  return right ? 0 : 1;
}
