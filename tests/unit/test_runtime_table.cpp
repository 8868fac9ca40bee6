// Table: reads from any thread, writes by the owner (or anyone, public),
// set and ordered_set, and deletion when the owner ends.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "end_processes.hpp"
#include "runtime/gen_server.hpp"
#include "runtime/table.hpp"

using namespace otpd::runtime;
using otpd::test::end_processes;
using namespace std::chrono_literals;

namespace {

using Scores = Table<std::string, int>;

// Owns a table and writes to it on request, as an ETS owner does.
class Keeper : public GenServer<Keeper> {
 public:
  explicit Keeper(TableAccess access) : access_(access) {}
  void init() { scores_ = Scores::create("scores", access_); }
  Scores table() const { return scores_; }
  void put(std::string key, int value) { scores_.insert(std::move(key), value); }
  bool put_new(std::string key, int value) { return scores_.insert_new(std::move(key), value); }
  bool remove(std::string key) { return scores_.erase(key); }
  int bump(std::string key, int by) { return scores_.update_counter(key, by, 0); }
  int bump_existing(std::string key) { return scores_.update_counter(key, 1); }
  std::size_t size_here() const { return scores_.size(); }
  void drop() { scores_.drop(); }

 private:
  TableAccess access_;
  Scores scores_;
};

class Ledger : public GenServer<Ledger> {
 public:
  void init() { days_ = OrderedTable<int, std::string>::create("days"); }
  OrderedTable<int, std::string> table() const { return days_; }
  void put(int day, std::string what) { days_.insert(day, std::move(what)); }

 private:
  OrderedTable<int, std::string> days_;
};

}  // namespace

TEST_CASE("a protected set: the owner writes, any thread reads") {
  Scheduler scheduler(2);
  auto keeper = start<Keeper>(scheduler, TableAccess::protected_);
  const Scores scores = keeper.call_blocking(&Keeper::table);
  keeper.call_blocking(&Keeper::put, std::string("ada"), 10);
  keeper.call_blocking(&Keeper::put, std::string("bob"), 3);
  CHECK(scores.lookup("ada") == 10);
  CHECK_FALSE(scores.lookup("eve"));
  CHECK(scores.member("bob"));
  CHECK(scores.size() == 2);

  CHECK_FALSE(keeper.call_blocking(&Keeper::put_new, std::string("ada"), 99));
  CHECK(keeper.call_blocking(&Keeper::put_new, std::string("cy"), 1));
  CHECK(scores.lookup("ada") == 10);
  CHECK(keeper.call_blocking(&Keeper::bump, std::string("ada"), 5) == 15);
  CHECK(keeper.call_blocking(&Keeper::bump, std::string("new"), 2) == 2);
  CHECK_THROWS_WITH_AS(keeper.call_blocking(&Keeper::bump_existing, std::string("nobody")),
                       "update_counter: no such key in scores", CallError);
  keeper = start<Keeper>(scheduler, TableAccess::protected_);  // that error ended the owner
  REQUIRE(scores.wait_deleted(5s));
  CHECK_THROWS_AS(scores.size(), TableDeleted);

  const Scores fresh = keeper.call_blocking(&Keeper::table);
  for (int i = 0; i < 10; ++i) keeper.call_blocking(&Keeper::put, "k" + std::to_string(i), i);
  const auto big = fresh.match([](const std::string&, int v) { return v >= 7; });
  CHECK(big.size() == 3);
  CHECK(keeper.call_blocking(&Keeper::remove, std::string("k0")));
  CHECK_FALSE(keeper.call_blocking(&Keeper::remove, std::string("k0")));
  CHECK(fresh.to_list().size() == 9);

  Scores writable = fresh;
  CHECK_THROWS_AS(writable.insert("outsider", 1), TableAccessError);
  CHECK_FALSE(fresh.member("outsider"));
  CHECK(end_processes({keeper.pid()}));
}

TEST_CASE("a public table takes writes from any thread") {
  Scheduler scheduler(2);
  auto keeper = start<Keeper>(scheduler, TableAccess::public_);
  Scores hits = keeper.call_blocking(&Keeper::table);
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&hits] {
      for (int i = 0; i < 1000; ++i) hits.update_counter("page", 1, 0);
    });
  }
  for (auto& writer : writers) writer.join();
  CHECK(hits.lookup("page") == 2000);
  CHECK(keeper.call_blocking(&Keeper::size_here) == 1);
  CHECK(end_processes({keeper.pid()}));
}

TEST_CASE("a private table is the owner's alone") {
  Scheduler scheduler(1);
  auto keeper = start<Keeper>(scheduler, TableAccess::private_);
  const Scores secret = keeper.call_blocking(&Keeper::table);
  keeper.call_blocking(&Keeper::put, std::string("pin"), 1234);
  CHECK(keeper.call_blocking(&Keeper::size_here) == 1);
  CHECK_THROWS_AS(secret.lookup("pin"), TableAccessError);
  CHECK(end_processes({keeper.pid()}));
}

TEST_CASE("an ordered_set reads in key order and by range") {
  Scheduler scheduler(1);
  auto ledger = start<Ledger>(scheduler);
  const auto days = ledger.call_blocking(&Ledger::table);
  for (int day : {5, 1, 9, 3, 7})
    ledger.call_blocking(&Ledger::put, day, "day " + std::to_string(day));
  CHECK(days.first() == 1);
  CHECK(days.last() == 9);
  CHECK(days.next(3) == 5);
  CHECK(days.next(4) == 5);
  CHECK_FALSE(days.next(9));
  const auto middle = days.range(3, 9);
  REQUIRE(middle.size() == 3);
  CHECK(middle[0].first == 3);
  CHECK(middle[2].second == "day 7");
  std::vector<int> order;
  days.for_each([&](int day, const std::string&) { order.push_back(day); });
  CHECK(order == std::vector<int>{1, 3, 5, 7, 9});
  CHECK(end_processes({ledger.pid()}));
}

TEST_CASE("the table is deleted when its owner ends, or when it drops it") {
  Scheduler scheduler(2);
  auto keeper = start<Keeper>(scheduler, TableAccess::protected_);
  const Scores scores = keeper.call_blocking(&Keeper::table);
  keeper.call_blocking(&Keeper::put, std::string("ada"), 1);
  keeper.stop();
  REQUIRE(scores.wait_deleted(5s));
  try {
    scores.lookup("ada");
    FAIL("a deleted table must refuse a lookup");
  } catch (const TableDeleted& e) {
    CHECK(std::string(e.what()).find("scores") != std::string::npos);
  }
  CHECK_THROWS_AS(scores.to_list(), TableDeleted);

  auto dropper = start<Keeper>(scheduler, TableAccess::protected_);
  const Scores dropped = dropper.call_blocking(&Keeper::table);
  dropper.call_blocking(&Keeper::drop);
  CHECK_THROWS_AS(dropped.member("x"), TableDeleted);
  CHECK(dropper.pid().get()->alive());
  CHECK(end_processes({dropper.pid()}));
}

TEST_CASE("readers on other threads while the owner writes") {
  Scheduler scheduler(2);
  auto keeper = start<Keeper>(scheduler, TableAccess::protected_);
  const Scores scores = keeper.call_blocking(&Keeper::table);
  // Each reader reads while the owner writes, until it sees the last value
  // (or gives up after a bound, which fails the test).
  std::atomic<int> saw_last{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      const auto until = std::chrono::steady_clock::now() + 5s;
      while (std::chrono::steady_clock::now() < until) {
        if (scores.lookup("n") == 500) {
          ++saw_last;
          return;
        }
      }
    });
  }
  for (int i = 1; i <= 500; ++i) keeper.cast(&Keeper::put, std::string("n"), i);
  CHECK(keeper.call_blocking(&Keeper::size_here) == 1);
  for (auto& reader : readers) reader.join();
  CHECK(saw_last == 2);
  CHECK(end_processes({keeper.pid()}));
}
