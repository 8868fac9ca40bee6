// call, cast and whereis on the raw socket: malformed requests get error
// replies, and neither otpd nor the worker goes down.
#include <doctest/doctest.h>

#include "client.hpp"

using namespace otpd;
using Json = nlohmann::json;

namespace {

const char* const kTree = R"(
tree:
  children:
    - name: p
      command: [@CHILD@, --name, p]
    - name: kv
      worker: {kind: agent, value: 1}
)";

std::string error_code(const Json& reply) {
  return reply.contains("error") ? reply["error"].value("code", "") : "(no error)";
}

}  // namespace

TEST_CASE("malformed call, cast and whereis requests are refused and change nothing") {
  it::Sandbox box;
  it::Otpd otpd = pt::start_otpd(box, kTree);
  pt::Client client(pt::socket_in(box));
  REQUIRE(client.ok());
  const Json bad[] = {
      {{"id", 1}, {"cmd", "call"}, {"path", "kv"}},                   // no message
      {{"id", 2}, {"cmd", "call"}, {"message", "get"}},               // no path
      {{"id", 3}, {"cmd", "call"}, {"path", 7}, {"message", "get"}},  // path not a string
      {{"id", 4}, {"cmd", "call"}, {"path", "kv"}, {"message", "get"}, {"timeout_ms", 0}},
      {{"id", 5}, {"cmd", "call"}, {"path", "kv"}, {"message", "get"}, {"timeout_ms", "5"}},
      {{"id", 6}, {"cmd", "cast"}, {"path", "kv"}, {"message", "get"}, {"timeout_ms", 5}},
      {{"id", 7}, {"cmd", "whereis"}, {"path", "kv"}, {"message", "get"}},
  };
  for (const Json& request : bad) {
    const Json reply = client.call(otpd, request);
    CHECK_MESSAGE(error_code(reply) == "invalid_request", request.dump() << " -> " << reply.dump());
  }
  Json reply = client.call(otpd, {{"id", 8}, {"cmd", "call"}, {"path", "nope"}, {"message", 1}});
  CHECK(error_code(reply) == "not_found");
  reply = client.call(otpd, {{"id", 9}, {"cmd", "call"}, {"path", "p"}, {"message", 1}});
  CHECK(error_code(reply) == "failed");
  reply = client.call(otpd, {{"id", 10}, {"cmd", "call"}, {"path", "/"}, {"message", 1}});
  CHECK(error_code(reply) == "failed");
  // Nested messages within the request's depth limit reach the agent, which
  // refuses them; deeper ones are refused before they are read.
  Json deep = "get";
  for (int i = 0; i < 60; ++i) deep = Json::array({deep});
  reply = client.call(otpd, {{"id", 11}, {"cmd", "call"}, {"path", "kv"}, {"message", deep}});
  CHECK(error_code(reply) == "failed");
  Json deeper = deep;
  for (int i = 0; i < 200; ++i) deeper = Json::array({deeper});
  reply = client.call(otpd, {{"id", 14}, {"cmd", "call"}, {"path", "kv"}, {"message", deeper}});
  CHECK(error_code(reply) == "invalid_request");
  reply = client.call(otpd, {{"id", 12}, {"cmd", "cast"}, {"path", "kv"}, {"message", deep}});
  CHECK(reply["result"]["sent"] == true);
  reply = client.call(otpd, {{"id", 13}, {"cmd", "call"}, {"path", "kv"}, {"message", nullptr}});
  CHECK(error_code(reply) == "failed");
  // Everything still answers, and the worker never restarted.
  reply = client.call(otpd, {{"id", 14}, {"cmd", "call"}, {"path", "kv"}, {"message", "get"}});
  CHECK(reply["result"]["reply"] == 1);
  reply = client.call(otpd, {{"id", 15}, {"cmd", "status"}, {"path", "kv"}});
  CHECK(reply["result"]["restarts"] == 0);
  CHECK(otpd.count("kv", "exited") == 0);
}

TEST_CASE("many calls in flight on one connection are answered in order, each once") {
  it::Sandbox box;
  it::Otpd otpd = pt::start_otpd(box, kTree);
  pt::Client client(pt::socket_in(box));
  REQUIRE(client.ok());
  std::string burst;
  for (int i = 0; i < 100; ++i) {
    burst +=
        Json{{"id", i}, {"cmd", "call"}, {"path", "kv"}, {"message", {{"put", i}}}}.dump() + "\n";
  }
  client.send(burst);
  for (int i = 0; i < 100; ++i) {
    const auto reply = client.reply(otpd);
    REQUIRE(reply.has_value());
    CHECK((*reply)["id"] == i);
    CHECK((*reply)["result"]["reply"] == i);
  }
}
