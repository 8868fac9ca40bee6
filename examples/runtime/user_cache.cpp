// GenServer: a user cache with put, get, delete and all, as in the classic
// Elixir example of a GenServer holding a map.
//
//   def handle_call({:get, id}, _from, users), do: {:reply, Map.fetch(users, id), users}
//   def handle_cast({:put, id, user}, users), do: {:noreply, Map.put(users, id, user)}
//   def handle_cast({:delete, id}, users), do: {:noreply, Map.delete(users, id)}
//   def handle_call(:all, _from, users), do: {:reply, users, users}
#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include "runtime/gen_server.hpp"

using namespace otpd::runtime;

struct User {
  std::string name;
  std::string email;
};

class UserCache : public GenServer<UserCache> {
 public:
  void put(int id, User user) { users_[id] = std::move(user); }
  std::optional<User> get(int id) const {
    const auto found = users_.find(id);
    if (found == users_.end()) return std::nullopt;  // :error
    return found->second;                            // {:ok, user}
  }
  void remove(int id) { users_.erase(id); }  // `delete` is a C++ keyword
  std::map<int, User> all() const { return users_; }

 private:
  std::map<int, User> users_;
};

int main() {
  Scheduler scheduler(2);
  auto cache = start<UserCache>(scheduler);

  cache.cast(&UserCache::put, 1, User{"Ada", "ada@example.org"});
  cache.cast(&UserCache::put, 2, User{"Grace", "grace@example.org"});
  cache.cast(&UserCache::put, 3, User{"Edsger", "edsger@example.org"});
  cache.cast(&UserCache::remove, 2);

  // Casts and calls from one sender arrive in order: the call sees them all.
  const std::optional<User> ada = cache.call_blocking(&UserCache::get, 1);
  const std::optional<User> grace = cache.call_blocking(&UserCache::get, 2);
  const std::map<int, User> everyone = cache.call_blocking(&UserCache::all);

  for (const auto& [id, user] : everyone) {
    std::printf("%d: %s <%s>\n", id, user.name.c_str(), user.email.c_str());
  }
  const bool right = ada && ada->name == "Ada" && !grace && everyone.size() == 2 &&
                     everyone.at(3).email == "edsger@example.org";
  return right ? 0 : 1;
}
