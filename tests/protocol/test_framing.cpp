// Lines that are not requests, lines too long, lines cut short, many lines
// at once, and clients that hang up: the connection and otpd go on.
#include <doctest/doctest.h>
#include <sys/socket.h>

#include "client.hpp"

using namespace otpd::it;
using namespace otpd::pt;
using nlohmann::json;

namespace {

constexpr std::string_view kTree = R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a]
    - name: slow
      command: [@CHILD@, --name, slow, --ignore-term, --term-delay, "0"]
      shutdown: 1s
)";

std::string code_of(const std::optional<json>& reply) {
  if (!reply || !reply->contains("error")) return "(no error)";
  return (*reply)["error"]["code"];
}

}  // namespace

TEST_CASE("every error code, and the connection goes on after each") {
  Sandbox box;
  Otpd otpd = start_otpd(box, kTree);
  Client c(socket_in(box));
  c.send("this is not json\n");
  CHECK(code_of(c.reply(otpd)) == "parse_error");
  c.send("[1,2,3]\n");
  CHECK(code_of(c.reply(otpd)) == "parse_error");
  c.send(R"({"cmd":"ping"})"
         "\n");
  CHECK(code_of(c.reply(otpd)) == "invalid_request");
  c.send(R"({"id":1,"cmd":"stop","path":42})"
         "\n");
  CHECK(code_of(c.reply(otpd)) == "invalid_request");
  c.send(R"({"id":1,"cmd":"events","backlog":"ten"})"
         "\n");
  CHECK(code_of(c.reply(otpd)) == "invalid_request");
  c.send(R"({"id":1,"cmd":"stauts"})"
         "\n");
  const auto unknown = c.reply(otpd);
  CHECK(code_of(unknown) == "unknown_command");
  CHECK((*unknown)["error"]["message"] == "no command 'stauts' (did you mean 'status'?)");
  c.send(R"({"id":1,"cmd":"stop","path":"nope"})"
         "\n");
  CHECK(code_of(c.reply(otpd)) == "not_found");
  c.send(R"({"id":1,"cmd":"hello","protocol":99})"
         "\n");
  CHECK(code_of(c.reply(otpd)) == "unsupported_version");
  c.send(R"({"id":1,"cmd":"signal","path":"a","signal":"SIGNOPE"})"
         "\n");
  CHECK(code_of(c.reply(otpd)) == "invalid_request");
  c.send("\n\r\n");  // blank lines are ignored
  CHECK(c.call(otpd, {{"id", "after"}, {"cmd", "ping"}})["result"] == "pong");
}

TEST_CASE("a line just over 1 MiB is refused, and the next request is answered") {
  Sandbox box;
  Otpd otpd = start_otpd(box, kTree);
  Client c(socket_in(box));
  std::string big = R"({"id":1,"cmd":"ping","pad":")";
  big.append((std::size_t{1} << 20) + 1 - big.size() - 2, 'x');
  big += "\"}";
  REQUIRE(big.size() == (std::size_t{1} << 20) + 1);
  c.send(big + "\n" + R"({"id":2,"cmd":"ping"})" + "\n");
  const auto refused = c.reply(otpd);
  CHECK(code_of(refused) == "too_large");
  CHECK((*refused)["id"].is_null());
  const auto next = c.reply(otpd);
  REQUIRE(next);
  CHECK(*next == json::parse(R"({"id":2,"result":"pong"})"));

  // Exactly 1 MiB is allowed (and then rejected for its stray argument).
  std::string limit = R"({"id":3,"cmd":"ping","pad":")";
  limit.append((std::size_t{1} << 20) - limit.size() - 2, 'x');
  limit += "\"}";
  c.send(limit + "\n");
  CHECK(code_of(c.reply(otpd)) == "invalid_request");

  // Several MiB without a newline are refused once, then skipped to the newline.
  c.send(std::string(3 << 20, 'y'));
  CHECK(code_of(c.reply(otpd)) == "too_large");
  c.send(std::string(1000, 'y') + "\n" + R"({"id":4,"cmd":"ping"})" + "\n");
  CHECK((*c.reply(otpd))["id"] == 4);
}

TEST_CASE("pipelined requests are answered in order, slow ones included") {
  Sandbox box;
  Otpd otpd = start_otpd(box, kTree);
  Client c(socket_in(box));
  std::string batch;
  batch += R"({"id":1,"cmd":"ping"})"
           "\n";
  batch += R"({"id":2,"cmd":"stop","path":"slow"})"
           "\n";  // waits for its shutdown
  batch += R"({"id":3,"cmd":"status","path":"slow"})"
           "\n";
  batch += R"({"id":4,"cmd":"start","path":"slow"})"
           "\n";
  batch += "garbage\n";
  for (int i = 6; i < 200; ++i)
    batch += R"({"id":)" + std::to_string(i) +
             R"(,"cmd":"ping"})"
             "\n";
  // Split mid-line, as a stream may be.
  c.send(batch.substr(0, 37));
  c.send(batch.substr(37));
  std::vector<json> replies;
  for (int i = 1; i < 200; ++i) {  // 1-4, garbage (5), 6-199
    const auto r = c.reply(otpd);
    REQUIRE(r);
    replies.push_back(*r);
  }
  for (int i = 1; i < 200; ++i) {
    if (i == 5) {
      CHECK(replies[i - 1]["id"].is_null());
    } else {
      CHECK(replies[i - 1]["id"] == i);
    }
  }
  CHECK(replies[1]["result"]["state"] == "stopped");
  CHECK(replies[2]["result"]["held"] == true);
  CHECK(replies[3]["result"]["state"] == "running");
}

TEST_CASE("a half-closed client still gets its answers") {
  Sandbox box;
  Otpd otpd = start_otpd(box, kTree);
  Client c(socket_in(box));
  c.send(R"({"id":1,"cmd":"ping"})"
         "\n"
         R"({"id":2,"cmd":"restart","path":"a"})"
         "\n"
         R"({"id":3,"cmd":"ping"})");  // the last has no newline: not a request
  shutdown(c.fd(), SHUT_WR);
  CHECK((*c.reply(otpd))["id"] == 1);
  CHECK((*c.reply(otpd))["result"]["path"] == "a");
  CHECK(c.read_to_eof(otpd));
  CHECK(c.unread().empty());
}

TEST_CASE("hangups mid-request, mid-operation and mid-stream cost nothing") {
  Sandbox box;
  Otpd otpd = start_otpd(box, kTree);
  Client probe(socket_in(box));
  REQUIRE(probe.call(otpd, {{"id", 0}, {"cmd", "ping"}})["result"] == "pong");
  const int baseline = open_fds(otpd.pid());

  {
    Client truncated(socket_in(box));
    truncated.send(R"({"id":1,"cmd":"sta)");
  }
  {
    Client impatient(socket_in(box));
    impatient.send(R"({"id":1,"cmd":"stop","path":"slow"})"
                   "\n");
  }
  {
    Client streamer(socket_in(box));
    streamer.call(otpd, {{"id", 1}, {"cmd", "events"}, {"follow", true}});
  }
  // The stop went ahead without the client that asked for it.
  REQUIRE(otpd.wait_event("slow", "stopped"));
  CHECK(probe.call(otpd, {{"id", 1}, {"cmd", "status"}, {"path", "slow"}})["result"]["state"] ==
        "stopped");
  CHECK(probe.call(otpd, {{"id", 2}, {"cmd", "start"}, {"path", "slow"}})["result"]["state"] ==
        "running");
  CHECK(otpd.wait_for([&] { return open_fds(otpd.pid()) == baseline; }, Ms{5000}));
}

TEST_CASE("a subscriber that never reads is dropped; otpd stays responsive") {
  Sandbox box;
  // Several children crashing with long names fill the subscriber's 1 MiB
  // in about a thousand events, even where a restart is slow (under
  // sanitizers on a loaded machine).
  std::string tree = "tree:\n  intensity: 1000000\n  period: 1s\n  children:\n";
  for (int i = 0; i < 8; ++i) {
    const std::string name = "crash" + std::to_string(i) + "_" + std::string(1000, 'x');
    tree += "    - name: " + name + "\n      command: [@CHILD@, --name, " + name +
            ", --exit-after, \"0\", --code, \"3\"]\n";
  }
  Otpd otpd = start_otpd(box, tree);
  Client sleeper(socket_in(box));
  // A small receive buffer so that the kernel holds little on its behalf.
  const int small = 4096;
  setsockopt(sleeper.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sleeper.send(R"({"id":"s","cmd":"events","follow":true})"
               "\n");

  Client probe(socket_in(box));
  const auto dropped = [&] {
    for (const Line& l : otpd.lines()) {
      if (l.str("message").rfind("control: dropped an event subscriber", 0) == 0) return true;
    }
    return false;
  };
  int pings = 0;
  CHECK(otpd.wait_for(
      [&] {
        if (probe.call(otpd, {{"id", pings}, {"cmd", "ping"}})["result"] == "pong") ++pings;
        return dropped();
      },
      Ms{120000}));
  CHECK(pings > 0);
  // What it is sent ends with the notice (or is cut off), then the connection closes.
  CHECK(sleeper.read_to_eof(otpd));
  const std::string& rest = sleeper.unread();
  const auto last = rest.rfind("\n", rest.size() - 2);
  const std::string tail = rest.substr(last == std::string::npos ? 0 : last + 1);
  if (tail.find("too slow") != std::string::npos) {
    CHECK(json::parse(tail) ==
          json::parse(
              R"({"id":"s","error":{"code":"failed","message":"subscriber too slow: dropped"}})"));
  }
  CHECK(probe.call(otpd, {{"id", "last"}, {"cmd", "ping"}})["result"] == "pong");
  for (int i = 0; i < 8; ++i) {
    const std::string path = "crash" + std::to_string(i) + "_" + std::string(1000, 'x');
    CHECK(probe.call(otpd, {{"id", "stop"}, {"cmd", "stop"}, {"path", path}})["result"]["held"] ==
          true);
  }
}
