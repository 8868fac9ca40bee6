// What a hostile client or a broken file sends otpd: each ends in an error
// reply or a refused reload, with otpd alive, its memory small and its tree
// untouched.
#include <doctest/doctest.h>
#include <grp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "client.hpp"

using namespace otpd;
using nlohmann::json;

namespace {

constexpr std::string_view kTree = R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a]
    - name: settings
      worker: {kind: agent, value: {limit: 5}}
    - name: jobs
      worker: {kind: dynamic_supervisor, max_children: 4}
)";

// The most memory otpd has held at once, in KiB (VmHWM).
long peak_rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// Far above what otpd needs for this tree, under sanitizers too; far below
// what the inputs below made it take before they were bounded.
constexpr long kPeakBoundKib = 256 * 1024;

// Nine levels of ten aliases each: 10^9 values once expanded.
std::string alias_bomb(const std::string& last_key) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level < 9; ++level) {
    const std::string below = "*a" + std::to_string(level - 1);
    text += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " [";
    for (int i = 0; i < 10; ++i) text += (i ? ", " : "") + below;
    text += "]\n";
  }
  return text + last_key + ": *a8\n";
}

// Checks that otpd answers, runs `a` under the same pid and still has
// its agent's value.
void check_untouched(it::Otpd& otpd, pt::Client& client, int pid_of_a) {
  const json pong = client.call(otpd, {{"id", "p"}, {"cmd", "ping"}});
  CHECK_MESSAGE(pong.contains("result"), otpd.transcript());
  CHECK(otpd.pid_of("a") == pid_of_a);
  CHECK(it::running(pid_of_a));
  const json value =
      client.call(otpd, {{"id", "v"}, {"cmd", "call"}, {"path", "settings"}, {"message", "get"}});
  CHECK(value["result"]["reply"] == json({{"limit", 5}}));
}

}  // namespace

TEST_CASE("a request nested 100,000 deep is refused and otpd goes on") {
  it::Sandbox box;
  it::Otpd otpd = pt::start_otpd(box, kTree);
  const int pid_of_a = otpd.pid_of("a");
  pt::Client client(pt::socket_in(box));
  REQUIRE(client.ok());
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  client.send(R"({"id":1,"cmd":"call","path":"settings","message":)" + deep + "}\n");
  const auto reply = client.reply(otpd);
  REQUIRE_MESSAGE(reply, otpd.transcript());
  CHECK((*reply)["error"]["code"] == "invalid_request");
  CHECK((*reply)["error"]["message"] == "the request nests objects and arrays more than 64 deep");
  check_untouched(otpd, client, pid_of_a);
}

TEST_CASE("a read-only client's deep call is refused for its access before it is read") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root to act as another user");
    return;
  }
  const group* found = getgrnam("nogroup");
  if (found == nullptr) {
    MESSAGE("skipped: needs the group nogroup");
    return;
  }
  const gid_t reader_gid = found->gr_gid;
  // Another user must be able to reach the socket: not in the 0700 sandbox.
  char dir[] = "/tmp/otpd-pt-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  chmod(dir, 0755);
  const std::string path = std::string(dir) + "/s.sock";

  it::Sandbox box;
  it::Options options;
  options.env.push_back("OTPD_SOCKET=" + path);
  it::Otpd otpd =
      it::Otpd::run(box, std::string(kTree) + "control:\n  read_group: nogroup\n", options);
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  const int pid_of_a = otpd.pid_of("a");

  // 60 levels: within the depth limit, so only the access check refuses it.
  const std::string nested = std::string(60, '[') + std::string(60, ']');
  const int refused = pt::as_user(65534, reader_gid, [&] {
    pt::Client c(path);
    if (!c.ok()) return 1;
    c.send(R"({"id":1,"cmd":"call","path":"settings","message":)" + nested + "}\n");
    std::string reply;
    char chunk[4096];
    while (reply.find('\n') == std::string::npos) {
      const ssize_t n = recv(c.fd(), chunk, sizeof chunk, 0);
      if (n <= 0) return 2;
      reply.append(chunk, static_cast<std::size_t>(n));
    }
    return reply.find("\"forbidden\"") != std::string::npos ? 0 : 3;
  });
  CHECK(refused == 0);
  CHECK(otpd.wait_message("control: refused 'call' from uid 65534"));
  pt::Client client(path);
  REQUIRE(client.ok());
  check_untouched(otpd, client, pid_of_a);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a config that yaml-cpp would read forever: check, reload and SIGHUP refuse it") {
  it::Sandbox box;
  it::Otpd otpd = pt::start_otpd(box, kTree);
  const int pid_of_a = otpd.pid_of("a");
  pt::Client client(pt::socket_in(box));
  REQUIRE(client.ok());
  const std::string config = box.path("otpd.yaml");
  const std::string good = [&] {
    std::ifstream in(config);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();

  int sighups = 0;
  for (const std::string& text :
       {std::string(","), std::string("{a: b},c"), alias_bomb("tree"), std::string(good) + ",\n"}) {
    CAPTURE(text.substr(0, 40));
    std::ofstream(config, std::ios::trunc) << text;
    const it::Result checked = it::run_to_end({"check", config});
    CHECK(checked.code == 1);
    CHECK_MESSAGE(checked.err.find(config + ":") == 0, checked.err);
    CHECK(checked.err.find("invalid YAML") != std::string::npos);

    const json reply = client.call(otpd, {{"id", "r"}, {"cmd", "reload"}});
    REQUIRE_MESSAGE(reply.contains("error"), reply.dump() << otpd.transcript());
    CHECK(reply["error"]["message"].get<std::string>().find("invalid YAML") != std::string::npos);

    otpd.signal(SIGHUP);
    ++sighups;
    CHECK(otpd.wait_for(
        [&] {
          int failed = 0;
          for (const it::Line& line : otpd.lines()) {
            failed += line.text.find("reload (SIGHUP) failed, nothing changed") != std::string::npos
                          ? 1
                          : 0;
          }
          return failed == sighups;
        },
        it::Ms{10000}));
    check_untouched(otpd, client, pid_of_a);
  }
  CHECK(peak_rss_kib(otpd.pid()) < kPeakBoundKib);
}

TEST_CASE("start_child specs that yaml-cpp would read forever or expand without end") {
  it::Sandbox box;
  it::Otpd otpd = pt::start_otpd(box, kTree);
  const int pid_of_a = otpd.pid_of("a");
  pt::Client client(pt::socket_in(box));
  REQUIRE(client.ok());
  for (const std::string& spec :
       {std::string(","), std::string("{name: x, command: [x]},"), alias_bomb("name"),
        std::string("name: x\ncommand: [x]\nenv: &e [*e]\n")}) {
    CAPTURE(spec.substr(0, 40));
    const json reply =
        client.call(otpd, {{"id", "s"}, {"cmd", "start_child"}, {"path", "jobs"}, {"spec", spec}});
    REQUIRE_MESSAGE(reply.contains("error"), reply.dump());
    CHECK(reply["error"]["message"].get<std::string>().find("start_child:") == 0);
  }
  check_untouched(otpd, client, pid_of_a);
  CHECK(peak_rss_kib(otpd.pid()) < kPeakBoundKib);
}

TEST_CASE("invalid UTF-8 in a worker's JSON value: check and reload refuse it with its place") {
  it::Sandbox box;
  it::Otpd otpd = pt::start_otpd(box, kTree);
  const int pid_of_a = otpd.pid_of("a");
  pt::Client client(pt::socket_in(box));
  REQUIRE(client.ok());
  const std::string config = box.path("otpd.yaml");
  std::string text;
  {
    std::ifstream in(config);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string sound = "{limit: 5}";
  const auto at = text.find(sound);
  REQUIRE(at != std::string::npos);
  text.replace(at, sound.size(), "{limit: \"\xff\xfe\"}");
  std::ofstream(config, std::ios::trunc) << text;

  const it::Result checked = it::run_to_end({"check", config});
  CHECK(checked.code == 1);
  CHECK_MESSAGE(checked.err.find(config + ":7:") == 0, checked.err);
  CHECK(checked.err.find("value.limit: not valid UTF-8 text") != std::string::npos);
  const json reply = client.call(otpd, {{"id", "r"}, {"cmd", "reload"}});
  REQUIRE_MESSAGE(reply.contains("error"), reply.dump());
  CHECK(reply["error"]["message"].get<std::string>().find("not valid UTF-8") != std::string::npos);
  check_untouched(otpd, client, pid_of_a);
}

TEST_CASE("a reload with an env of 20,000 variables applies them and otpd answers after it") {
  it::Sandbox box;
  it::Otpd otpd = pt::start_otpd(box, kTree);
  pt::Client client(pt::socket_in(box));
  REQUIRE(client.ok());
  std::string env = "      env:\n";
  for (int i = 0; i < 20'000; ++i) {
    env += "        V" + std::to_string(i) + ": \"" + std::to_string(i) + "\"\n";
  }
  std::string text(kTree);
  const std::string after = "command: [@CHILD@, --name, a]\n";
  text.insert(text.find(after) + after.size(), env);
  box.write("otpd.yaml", text);
  const json reply = client.call(otpd, {{"id", "r"}, {"cmd", "reload"}});
  REQUIRE_MESSAGE(reply.contains("result"), reply.dump() << otpd.transcript());
  CHECK(otpd.wait_event("a", "started", 2));
  const int pid = otpd.pid_of("a");
  // "started" comes once exec cannot fail; the kernel sets up the new
  // environment a moment later, and until then /proc shows none.
  std::string variables;
  otpd.wait_for([&] {
    std::ifstream environ("/proc/" + std::to_string(pid) + "/environ");
    variables.assign(std::istreambuf_iterator<char>(environ), {});
    return !variables.empty();
  });
  CHECK_MESSAGE(variables.find(std::string("V19999=19999") + '\0') != std::string::npos,
                "pid " << pid << ", " << variables.size() << " bytes of environment\n"
                       << otpd.transcript());
  const json pong = client.call(otpd, {{"id", "p"}, {"cmd", "ping"}});
  CHECK(pong.contains("result"));
}
