// otpd out of file descriptors: clients are told 'busy' at once instead of
// hanging, supervision goes on, and the socket serves again as soon as
// descriptors are free.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <vector>

#include "client.hpp"

using namespace otpd::it;
using namespace otpd::pt;
using nlohmann::json;

namespace {

#ifdef __SANITIZE_ADDRESS__
// The sanitizer runtime probes memory through a pipe(2) at every virtual
// call it checks; with no descriptor left it reports every object as bad.
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// Far more clients than otpd has descriptors for under a limit of 64.
constexpr int kClients = 100;

enum class Answer { none, pong, busy, other };

Answer answer_of(const std::optional<json>& reply) {
  if (!reply) return Answer::none;
  if (reply->value("result", json()) == "pong") return Answer::pong;
  if (reply->contains("error") && (*reply)["error"].value("code", "") == "busy") {
    return Answer::busy;
  }
  return Answer::other;
}

// Every client's answer to the ping it sent, within one deadline for all.
std::vector<Answer> answers(Otpd& otpd, std::vector<Client>& clients, Ms timeout) {
  std::vector<Answer> got(clients.size(), Answer::none);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t left = clients.size();
  while (left > 0 && std::chrono::steady_clock::now() < deadline) {
    for (std::size_t i = 0; i < clients.size(); ++i) {
      if (got[i] != Answer::none) continue;
      got[i] = answer_of(clients[i].reply(otpd, Ms{1}));
      if (got[i] == Answer::none && clients[i].eof()) got[i] = Answer::other;
      if (got[i] != Answer::none) --left;
    }
  }
  return got;
}

}  // namespace

TEST_CASE(
    "out of descriptors, clients are answered 'busy' at once; freed, the socket serves again" *
    doctest::skip(kSanitized)) {
  Sandbox box;
  Options options;
  options.env.push_back("OTPD_SOCKET=" + socket_in(box));
  options.wrapper = {"/usr/bin/prlimit", "--nofile=64:64", "--"};
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a]
)",
                        options);
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  REQUIRE(otpd.wait_recorded(box, "start", "a"));
  const int baseline = open_fds(otpd.pid());

  // Connections that stay open take otpd's descriptors one by one; the
  // kernel queues the rest, which otpd cannot accept.
  std::vector<Client> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back(socket_in(box));
    REQUIRE(clients.back().ok());
    clients.back().send_line({{"id", i}, {"cmd", "ping"}});
  }
  const std::vector<Answer> got = answers(otpd, clients, Ms{10000});
  int pongs = 0, busy = 0, unanswered = 0;
  for (Answer answer : got) {
    pongs += answer == Answer::pong;
    busy += answer == Answer::busy;
    unanswered += answer == Answer::none;
  }
  CHECK(unanswered == 0);  // nobody hangs
  CHECK(pongs > 0);
  CHECK(busy > 0);
  CHECK(pongs + busy == kClients);
  for (std::size_t i = 0; i < clients.size(); ++i) {
    if (got[i] == Answer::busy) CHECK(clients[i].read_to_eof(otpd));  // and closed
  }
  CHECK_MESSAGE(otpd.wait_message("control: out of file descriptors (Too many open files): "
                                  "answered a connection from uid"),
                otpd.transcript());

  // Supervision goes on meanwhile.
  kill(box.pid("a"), SIGKILL);
  CHECK(otpd.wait_recorded(box, "start", "a", 2));

  // The sessions end, their descriptors come back, and new clients are
  // served as before.
  clients.clear();
  CHECK(otpd.wait_for([&] { return open_fds(otpd.pid()) <= baseline; }));
  Client again(socket_in(box));
  REQUIRE(again.ok());
  CHECK(again.call(otpd, {{"id", 1}, {"cmd", "ping"}})["result"] == "pong");
  again.close();

  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
  // The 'busy' answers are in the log: the first in full, the rest counted.
  CHECK(otpd.lines().size() < 100);
}
