// A tree bigger than the open-file limit allows: otpd says so when it
// starts and what to change, starts every child (those beyond its share of
// descriptors without their output captured), keeps the control socket
// answering, and stops them all.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "live_daemon.hpp"

using namespace otpd::ctl_test;

namespace {

// 256 descriptors: otpd keeps 64 of them (docs/spawning.md), so 192 are
// left for children, one pipe each.
constexpr int kLimit = 256;
constexpr int kShare = 192;
constexpr int kChildren = 240;

std::string big_tree() {
  std::string yaml = "tree:\n  children:\n";
  for (int i = 0; i < kChildren; ++i) {
    const std::string name = "c" + std::to_string(i);
    yaml +=
        "    - name: " + name + "\n      command: [@CHILD@, --name, " + name + ", --print, 1]\n";
  }
  return yaml;
}

otpd::it::Options limited(int descriptors) {
  const std::string limit = std::to_string(descriptors);
  return {.wrapper = {"/usr/bin/prlimit", "--nofile=" + limit + ":" + limit, "--"}};
}

// A connection to the control socket that says nothing and stays open.
class IdleClient {
 public:
  explicit IdleClient(const std::string& path) : fd_(socket(AF_UNIX, SOCK_STREAM, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    connected_ =
        fd_ >= 0 && connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  }
  ~IdleClient() {
    if (fd_ >= 0) close(fd_);
  }
  IdleClient(const IdleClient&) = delete;
  IdleClient& operator=(const IdleClient&) = delete;
  bool connected() const { return connected_; }

 private:
  int fd_;
  bool connected_ = false;
};

}  // namespace

TEST_CASE(
    "a tree bigger than the open-file limit starts what fits and the control socket answers") {
  // 240 spawns take a few seconds, many more under ASan on a busy machine.
  LiveDaemon live(big_tree(), limited(kLimit), otpd::it::Ms(120'000));

  // Said at start, with what to change.
  CHECK(live.otpd.logged("the tree does not fit the open-file limit"));
  CHECK(live.otpd.logged("About " + std::to_string(kChildren - kShare) + " children will not fit"));
  CHECK(live.otpd.logged("Raise the hard open-file limit to at least"));
  // Every child runs; those beyond the share are said not to be captured.
  CHECK(live.otpd.count("c0", "started") == 1);
  CHECK(live.otpd.count("c" + std::to_string(kChildren - 1), "started") == 1);
  CHECK(live.otpd.wait_message(std::to_string(kChildren - kShare) +
                               " children started without their output captured"));
  // The first child that did not fit is named, with what to change.
  CHECK(live.otpd.logged("the output of c" + std::to_string(kShare) + " is not captured"));
  CHECK(live.otpd.logged("raise the open-file limit, LimitNOFILE="));
  CHECK_FALSE(live.otpd.logged("the output of c" + std::to_string(kShare - 1) + " is not"));

  // The control socket has descriptors left for clients, beyond the busy
  // answer's reserve: a few idle connections and otpctl at once.
  std::vector<std::unique_ptr<IdleClient>> idle;
  for (int i = 0; i < 20; ++i) {
    idle.push_back(std::make_unique<IdleClient>(live.socket));
    CHECK(idle.back()->connected());
  }
  const Outcome status = live.ctl({"status", "--json"});
  CHECK_MESSAGE(status.code == 0, status.shown());
  CHECK(status.out.find("\"c" + std::to_string(kChildren - 1) + "\"") != std::string::npos);

  // The first children's output is captured, stdout and stderr in one stream.
  const Outcome first = live.ctl({"logs", "c0"});
  CHECK_MESSAGE(first.code == 0, first.shown());
  CHECK(first.out.find("c0 out 1") != std::string::npos);
  CHECK(first.out.find("c0 err 1") != std::string::npos);
  // The last ones' is not, and otpctl says why.
  const Outcome last = live.ctl({"logs", "c" + std::to_string(kChildren - 1)});
  CHECK(last.code != 0);
  CHECK(last.err.find("is not captured: otpd's share of the open-file limit") != std::string::npos);
  idle.clear();

  live.otpd.signal(SIGTERM);
  const auto code = live.otpd.wait_exit(otpd::it::Ms(60'000));
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK(live.otpd.count("c" + std::to_string(kChildren - 1), "stopped") == 1);
  CHECK(otpd::it::strays().empty());
}

TEST_CASE("a tree within the open-file limit gets no warning") {
  LiveDaemon live(R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a]
)",
                  limited(kLimit));
  CHECK_FALSE(live.otpd.logged("does not fit the open-file limit"));
  CHECK_FALSE(live.otpd.logged("without their output captured"));
}
