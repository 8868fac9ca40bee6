// Registry: per-user sessions found by user id, as in Elixir's Registry
// docs ("using in :via").
//
//   {:ok, _} = Registry.start_link(keys: :unique, name: Sessions)
//   name = {:via, Registry, {Sessions, user_id}}
//   {:ok, _} = GenServer.start_link(Session, user_id, name: name)
//   GenServer.cast(name, {:visit, "/home"})
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "runtime/registry.hpp"

using namespace otpd::runtime;

namespace {

class Session : public GenServer<Session> {
 public:
  explicit Session(int user) : user_(user) {}
  void visit(std::string page) { pages_.push_back(std::move(page)); }
  std::vector<std::string> pages() const { return pages_; }
  int user() const { return user_; }

 private:
  int user_;
  std::vector<std::string> pages_;
};

std::string key_of(int user) {
  return "user:" + std::to_string(user);
}

}  // namespace

int main() {
  Scheduler scheduler(2);
  Registry sessions(scheduler, Registry::Keys::unique);

  for (int user : {7, 42}) sessions.start_named<Session>(scheduler, key_of(user), user);
  try {
    sessions.start_named<Session>(scheduler, key_of(42), 42);
    return 1;  // one session a user
  } catch (const AlreadyRegistered& e) {
    std::printf("second session refused: %s\n", e.what());
  }

  // Anyone reaches a session by user id, without holding its pid.
  auto session_of = [&](int user) { return sessions.via<Session>(key_of(user)); };
  session_of(42).cast(&Session::visit, std::string("/home"));
  session_of(42).cast(&Session::visit, std::string("/cart"));
  session_of(7).cast(&Session::visit, std::string("/help"));
  const auto pages = session_of(42).call_blocking(&Session::pages);
  std::printf("user 42 visited %zu pages; user 7's session is %s\n", pages.size(),
              sessions.whereis(key_of(7)) ? "registered" : "missing");

  // A session that ends leaves the registry by itself, a moment later (the
  // registry's process is told of the end by a monitor).
  session_of(7).resolve().stop();
  for (int i = 0; i < 500 && sessions.whereis(key_of(7)); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const bool gone = !sessions.whereis(key_of(7));
  std::printf("after user 7 logs out: %s\n", gone ? "no session" : "still registered");

  const bool right = pages == std::vector<std::string>{"/home", "/cart"} && gone &&
                     sessions.keys_of(sessions.whereis(key_of(42))).size() == 1;
  return right ? 0 : 1;
}
