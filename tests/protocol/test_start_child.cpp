// start_child and terminate_child on the raw socket: whatever a client sends,
// it gets an error reply and otpd goes on.
#include <doctest/doctest.h>

#include "client.hpp"

using namespace otpd;
using nlohmann::json;

TEST_CASE("malformed start_child and terminate_child requests get errors, and otpd goes on") {
  it::Sandbox box;
  it::Otpd otpd = pt::start_otpd(box,
                                 "tree:\n"
                                 "  children:\n"
                                 "    - name: jobs\n"
                                 "      worker: {kind: dynamic_supervisor, max_children: 1}\n");
  pt::Client client(pt::socket_in(box));
  REQUIRE(client.ok());
  std::vector<std::string> requests = {
      R"({"id":1,"cmd":"start_child","path":"jobs"})",
      R"({"id":2,"cmd":"start_child","path":"jobs","spec":42})",
      R"({"id":3,"cmd":"start_child","path":"jobs","spec":""})",
      R"({"id":4,"cmd":"start_child","path":"jobs","spec":"[unclosed"})",
      R"({"id":5,"cmd":"start_child","path":"jobs","spec":"name: a\ncommand: [a]\n---\nx: 1"})",
      R"({"id":6,"cmd":"start_child","path":"jobs","spec":{"name":"a","command":[[["deep"]]]}})",
      R"({"id":7,"cmd":"start_child","path":"jobs","spec":"*alias"})",
      R"({"id":8,"cmd":"terminate_child","path":"jobs"})",
      R"({"id":9,"cmd":"terminate_child","path":"jobs","name":""})",
      R"({"id":10,"cmd":"terminate_child","path":"nowhere","name":"x"})",
      R"({"id":11,"cmd":"start_child","path":"jobs","spec":"name: \u0000"})",
  };
  // Deep nesting in the spec text: yaml-cpp bounds its recursion.
  requests.push_back(json({{"id", 12},
                           {"cmd", "start_child"},
                           {"path", "jobs"},
                           {"spec", "name: a\ncommand: " + std::string(50000, '[')}})
                         .dump());
  for (const std::string& request : requests) {
    CAPTURE(request.substr(0, 200));
    client.send(request + "\n");
    const auto reply = client.reply(otpd);
    REQUIRE_MESSAGE(reply, otpd.transcript());
    CHECK(reply->contains("error"));
  }
  // The same connection still works, and so does a correct request.
  const json added =
      client.call(otpd, {{"id", "ok"},
                         {"cmd", "start_child"},
                         {"path", "jobs"},
                         {"spec", {{"name", "sleeper"}, {"command", {"/bin/sleep", "60"}}}}});
  CHECK_MESSAGE(added.contains("result"), added.dump());
  CHECK(added["result"]["path"] == "jobs/sleeper");
  const json status = client.call(otpd, {{"id", "s"}, {"cmd", "status"}, {"path", "jobs"}});
  CHECK(status["result"]["children"].size() == 1);
  const json gone = client.call(
      otpd, {{"id", "t"}, {"cmd", "terminate_child"}, {"path", "jobs"}, {"name", "sleeper"}});
  CHECK(gone["result"] == json({{"path", "jobs/sleeper"}, {"terminated", true}}));
}
