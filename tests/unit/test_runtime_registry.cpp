// Registry: unique and duplicate keys, removal of ended processes, via
// naming, dispatch, and lookups from other threads.
#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "end_processes.hpp"
#include "journal.hpp"
#include "process_end.hpp"
#include "runtime/registry.hpp"

using namespace otpd::runtime;
using otpd::test::end_processes;
using otpd::test::ends_within;
using otpd::test::Journal;

namespace {

class Session : public GenServer<Session> {
 public:
  explicit Session(int user) : user_(user) {}
  int user() const { return user_; }
  bool join(Registry* registry, std::string key) { return registry->register_self(key, "joined"); }
  void leave(Registry* registry, std::string key) { registry->unregister_self(key); }
  void hear(std::string news) { heard_.push_back(std::move(news)); }
  std::vector<std::string> heard() const { return heard_; }

 private:
  int user_;
  std::vector<std::string> heard_;
};

bool ended(const Pid& pid) {
  return ends_within(pid);
}

// Notes each removal of an ended process, for the test to wait on. The
// journal must outlive the scheduler, whose threads may still call this.
Registry::OnRemoved into(Journal& removed) {
  return [&removed](const Pid& pid) { removed.add(std::to_string(pid.id())); };
}

}  // namespace

TEST_CASE("unique keys: one process a key, found from any thread") {
  Scheduler scheduler(2);
  Registry names(scheduler, Registry::Keys::unique);
  auto alice = start<Session>(scheduler, 1);
  auto bob = start<Session>(scheduler, 2);
  CHECK(names.register_pid("alice", alice.pid(), "admin"));
  CHECK_FALSE(names.register_pid("alice", bob.pid()));
  CHECK(names.whereis("alice") == alice.pid());
  CHECK_FALSE(names.whereis("carol"));
  const auto entries = names.lookup("alice");
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].value == "admin");

  CHECK(bob.call_blocking(&Session::join, &names, std::string("bob")));
  CHECK(names.whereis("bob") == bob.pid());
  CHECK(names.register_pid("robert", bob.pid()));
  CHECK(names.keys_of(bob.pid()) == std::vector<std::string>{"bob", "robert"});
  CHECK(names.count() == 3);

  bob.call_blocking(&Session::leave, &names, std::string("bob"));
  CHECK_FALSE(names.whereis("bob"));
  names.unregister("alice", alice.pid());
  CHECK(names.count() == 1);
  CHECK_THROWS_AS(names.register_self("outside"), std::logic_error);
  CHECK(end_processes({alice.pid(), bob.pid()}));
}

TEST_CASE("a process that ends leaves every key it held") {
  Journal removed;
  Scheduler scheduler(2);
  Registry names(scheduler, Registry::Keys::unique, into(removed));
  auto session = start<Session>(scheduler, 7);
  names.register_pid("user:7", session.pid());
  names.register_pid("latest", session.pid());
  session.stop();
  REQUIRE(removed.wait_for(1));
  CHECK(names.count() == 0);
  CHECK_FALSE(names.whereis("user:7"));
  CHECK(names.keys_of(session.pid()).empty());

  // An ended process registered late is removed too (its monitor reports noproc).
  CHECK(ended(session.pid()));
  names.register_pid("ghost", session.pid());
  REQUIRE(removed.wait_for(2));
  CHECK(names.count() == 0);
}

TEST_CASE("via names address a server by key at each call") {
  Journal removed;
  Scheduler scheduler(2);
  Registry names(scheduler, Registry::Keys::unique, into(removed));
  auto first = names.start_named<Session>(scheduler, "user:42", 42);
  CHECK(names.via<Session>("user:42").call_blocking(&Session::user) == 42);
  CHECK_THROWS_AS(names.start_named<Session>(scheduler, "user:42", 43), AlreadyRegistered);

  first.stop();
  REQUIRE(removed.wait_for(1));
  CHECK_FALSE(names.whereis("user:42"));
  try {
    names.via<Session>("user:42").call_blocking(&Session::user);
    FAIL("a call to a free name must fail");
  } catch (const CallError& e) {
    CHECK(e.kind() == CallError::Kind::noproc);
  }
  names.via<Session>("user:42").cast(&Session::hear, std::string("dropped"));

  names.start_named<Session>(scheduler, "user:42", 44);
  CHECK(names.via<Session>("user:42").call_blocking(&Session::user) == 44);
  CHECK(end_processes({names.whereis("user:42")}));
}

TEST_CASE("duplicate keys: dispatch reaches every subscriber") {
  Journal removed;
  Scheduler scheduler(2);
  Registry topics(scheduler, Registry::Keys::duplicate, into(removed));
  std::vector<Server<Session>> readers;
  for (int i = 0; i < 3; ++i) {
    readers.push_back(start<Session>(scheduler, i));
    CHECK(readers.back().call_blocking(&Session::join, &topics, std::string("news")));
  }
  CHECK(topics.lookup("news").size() == 3);
  topics.dispatch("news", [](const Registry::Entry& entry) {
    Server<Session>(entry.pid).cast(&Session::hear, entry.value + ": otpd 1.0");
  });
  // The casts went from this thread, before these calls.
  for (auto& reader : readers) {
    CHECK(reader.call_blocking(&Session::heard) == std::vector<std::string>{"joined: otpd 1.0"});
  }
  readers[1].stop();
  REQUIRE(removed.wait_for(1));
  CHECK(topics.lookup("news").size() == 2);
  CHECK_THROWS_AS(topics.start_named<Session>(scheduler, "news", 9), std::logic_error);
  CHECK(end_processes({readers[0].pid(), readers[2].pid()}));
}

TEST_CASE("lookups on other threads while processes register and end") {
  Journal removed;
  Scheduler scheduler(2);
  Registry names(scheduler, Registry::Keys::unique, into(removed));
  std::atomic<bool> done{false};
  std::atomic<long> found{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!done) {
        for (int i = 0; i < 20; ++i) {
          if (names.whereis("worker:" + std::to_string(i))) ++found;
        }
      }
    });
  }
  for (int round = 0; round < 20; ++round) {
    std::vector<Server<Session>> workers;
    for (int i = 0; i < 20; ++i) {
      workers.push_back(names.start_named<Session>(scheduler, "worker:" + std::to_string(i), i));
    }
    for (auto& worker : workers) worker.stop();
    REQUIRE(removed.wait_for(20 * (round + 1)));
    CHECK(names.count() == 0);
  }
  done = true;
  for (auto& reader : readers) reader.join();
  CHECK(found > 0);
}
