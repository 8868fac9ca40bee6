// spawn_process against the real kernel: the probe child reports what it
// inherited, so each test states what a supervised program must (not) see.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "../helpers/reachable.hpp"
#include "asio/signals.hpp"
#include "process/cgroup_fs.hpp"
#include "process/fd_limit.hpp"
#include "process/low_fd.hpp"
#include "process/spawn.hpp"

namespace fs = std::filesystem;
using otpd::config::ProcessSpec;
using otpd::process::spawn_process;
using otpd::process::SpawnOptions;

namespace {

const std::string kProbe = OTPD_TEST_PROBE;

ProcessSpec command(std::vector<std::string> argv, std::string cwd = {},
                    std::vector<std::pair<std::string, std::string>> env = {}) {
  ProcessSpec spec;
  spec.argv = std::move(argv);
  spec.cwd = std::move(cwd);
  spec.env = std::move(env);
  return spec;
}

SpawnOptions session() {
  SpawnOptions opts;
  opts.new_session = true;
  return opts;
}

SpawnOptions stdio(int in, int out, int err = 2) {
  SpawnOptions opts;
  opts.stdin_fd = in;
  opts.stdout_fd = out;
  opts.stderr_fd = err;
  return opts;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "otpd-spawn-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

// Waits for our own child by pid (its pidfd is readable once it has
// exited), killing it if it overstays: no test hangs and none leaves a
// process behind.
int wait_for(int pid) {
  const int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) {
    pollfd exited{.fd = fd, .events = POLLIN, .revents = 0};
    const bool in_time = poll(&exited, 1, 5000) == 1;
    close(fd);
    if (!in_time) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      FAIL("child " << pid << " did not exit in time");
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

using Facts = std::map<std::string, std::string>;

Facts read_facts(const std::string& path) {
  Facts facts;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) facts[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return facts;
}

// Runs the probe to completion and returns what it reported.
Facts probe(ProcessSpec spec, const TempDir& dir, const SpawnOptions& opts = {}) {
  const std::string out = dir.file("facts");
  spec.argv.insert(spec.argv.begin() + 1, out);
  const auto result = spawn_process(spec, opts);
  REQUIRE_MESSAGE(result.pid > 0, result.failure.value_or(""));
  const int status = wait_for(result.pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  return read_facts(out);
}

// Any child of this test process, zombie or not, found through /proc.
std::vector<int> my_children() {
  std::vector<int> children;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string text;
    std::getline(stat, text);
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(text.c_str() + close + 1, " %c %d", &state, &ppid) == 2 && ppid == getpid()) {
      children.push_back(std::stoi(name));
    }
  }
  return children;
}

// What descriptor `fd` of this process points to, or "".
std::string fd_target(int fd) {
  std::error_code error;
  return fs::read_symlink("/proc/self/fd/" + std::to_string(fd), error).string();
}

void check_nothing_left_behind() {
  CHECK(my_children().empty());
  siginfo_t info{};
  CHECK(waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == -1);
  CHECK(errno == ECHILD);
}

void check_fails(const ProcessSpec& spec, const std::string& error) {
  const auto result = spawn_process(spec);
  CHECK(result.pid == 0);
  CHECK(result.failure == error);
  check_nothing_left_behind();
}

}  // namespace

TEST_CASE("the child gets its own group and none of otpd's fds, signal state or stdin") {
  otpd::on_asio::block_supervisor_signals();
  // What the child must not inherit is really there in the parent.
  struct sigaction pipe_action {};
  sigaction(SIGPIPE, nullptr, &pipe_action);
  REQUIRE((pipe_action.sa_handler == SIG_IGN));
  sigset_t blocked;
  pthread_sigmask(SIG_SETMASK, nullptr, &blocked);
  REQUIRE(sigismember(&blocked, SIGTERM) == 1);

  TempDir dir;
  // Descriptors of every kind otpd holds, with and without close-on-exec.
  int pipe_fds[2];
  REQUIRE(pipe2(pipe_fds, 0) == 0);
  const int plain = open("/dev/null", O_RDONLY);
  const int cloexec = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int sock = socket(AF_UNIX, SOCK_STREAM, 0);
  const int high = fcntl(plain, F_DUPFD, 200);
  REQUIRE((plain >= 0 && cloexec >= 0 && sock >= 0 && high >= 0));

  const Facts facts = probe(command({kProbe}), dir);

  for (int fd : {pipe_fds[0], pipe_fds[1], plain, cloexec, sock, high}) close(fd);
  CHECK(facts.at("pgid") == facts.at("pid"));
  CHECK(facts.at("sid") == std::to_string(getsid(0)));
  CHECK(facts.at("ppid") == std::to_string(getpid()));
  CHECK(facts.at("fds") == "");
  CHECK(facts.at("sigmask") == "0");
  CHECK(facts.at("sigpipe") == "default");
  CHECK(facts.at("sigterm") == "default");
  CHECK(facts.at("stdin") == "/dev/null");
}

TEST_CASE("new_session makes the child a session leader") {
  TempDir dir;
  const Facts facts = probe(command({kProbe}), dir, session());
  CHECK(facts.at("sid") == facts.at("pid"));
  CHECK(facts.at("pgid") == facts.at("pid"));
}

TEST_CASE("the given descriptors become the child's stdin and stdout") {
  TempDir dir;
  const std::string input = dir.file("input");
  std::ofstream(input) << "x\n";
  const int in = open(input.c_str(), O_RDONLY | O_CLOEXEC);
  const int out = open(dir.file("stdout").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE((in >= 0 && out >= 0));

  const auto result = spawn_process(command({kProbe, "-"}), stdio(in, out));
  REQUIRE_MESSAGE(result.pid > 0, result.failure.value_or(""));
  CHECK(WEXITSTATUS(wait_for(result.pid)) == 0);
  close(in);
  close(out);

  const Facts facts = read_facts(dir.file("stdout"));
  CHECK(facts.at("stdin") == input);
  CHECK(facts.at("fds") == "");
}

TEST_CASE("stdio descriptors may be any permutation of 0, 1 and 2") {
  TempDir dir;
  // stdout and stderr swapped, stdin from otpd's stdout: every source is
  // also a target that is overwritten.
  const auto result = spawn_process(command({"/bin/sh", "-c", "exit 0"}), stdio(1, 2, 1));
  REQUIRE_MESSAGE(result.pid > 0, result.failure.value_or(""));
  CHECK(WEXITSTATUS(wait_for(result.pid)) == 0);
}

TEST_CASE("environment: otpd's is inherited, the spec's is added and replaces") {
  TempDir dir;
  setenv("OTPD_TEST_INHERITED", "from-otpd", 1);
  setenv("OTPD_TEST_REPLACED", "old", 1);
  ProcessSpec spec = command(
      {kProbe, "OTPD_TEST_INHERITED", "OTPD_TEST_REPLACED", "OTPD_TEST_ADDED", "OTPD_TEST_UNSET"});
  spec.env = {
      {"OTPD_TEST_REPLACED", "first"}, {"OTPD_TEST_ADDED", "a=b"}, {"OTPD_TEST_REPLACED", "last"}};

  const Facts facts = probe(spec, dir);
  unsetenv("OTPD_TEST_INHERITED");
  unsetenv("OTPD_TEST_REPLACED");
  CHECK(facts.at("env.OTPD_TEST_INHERITED") == "from-otpd");
  CHECK(facts.at("env.OTPD_TEST_REPLACED") == "last");
  CHECK(facts.at("env.OTPD_TEST_ADDED") == "a=b");
  CHECK(facts.at("env.OTPD_TEST_UNSET") == "(unset)");
}

TEST_CASE("cwd: the child runs there, and a relative program is found from there") {
  TempDir dir;
  const fs::path probe_path(kProbe);
  const std::string probe_dir = probe_path.parent_path().string();

  const Facts facts = probe(command({"./" + probe_path.filename().string()}, probe_dir), dir);
  CHECK(facts.at("cwd") == probe_dir);
}

TEST_CASE("a bare name is searched in the child's PATH") {
  TempDir dir;
  const fs::path probe_path(kProbe);
  // A non-executable file of the same name earlier in PATH is passed over.
  const std::string decoy = dir.file(probe_path.filename().string());
  std::ofstream(decoy) << "#!/bin/sh\n";
  ProcessSpec spec = command({probe_path.filename().string(), "PATH"});
  const std::string search = "/nonexistent:" + dir.str() + ":" + probe_path.parent_path().string();
  spec.env = {{"PATH", search}};

  const Facts facts = probe(spec, dir);
  CHECK(facts.at("env.PATH") == search);

  // Without an override, otpd's own PATH is used.
  const auto result = spawn_process(command({"true"}));
  REQUIRE_MESSAGE(result.pid > 0, result.failure.value_or(""));
  CHECK(WEXITSTATUS(wait_for(result.pid)) == 0);
}

TEST_CASE("a program that cannot be started is a clear error and leaves nothing behind") {
  otpd::on_asio::block_supervisor_signals();
  TempDir dir;
  check_nothing_left_behind();

  SUBCASE("command not in PATH: no process is created") {
    check_fails(command({"otpd-no-such-command"}), "command not found: otpd-no-such-command");
  }
  SUBCASE("missing program") {
    check_fails(command({"/nonexistent/otpd-prog"}),
                "cannot execute /nonexistent/otpd-prog: No such file or directory");
  }
  SUBCASE("missing working directory") {
    check_fails(command({"/bin/true"}, "/nonexistent-otpd-dir"),
                "cannot change directory to /nonexistent-otpd-dir: No such file or directory");
  }
  SUBCASE("file without execute permission") {
    const std::string script = dir.file("script");
    std::ofstream(script) << "#!/bin/sh\n";
    chmod(script.c_str(), 0644);
    check_fails(command({script}), "cannot execute " + script + ": Permission denied");
    check_fails(command({"script"}, {}, {{"PATH", dir.str()}}),
                "cannot execute " + script + ": Permission denied");
    // Relative programs are named with the directory they were looked up in.
    check_fails(command({"./script"}, dir.str()),
                "cannot execute " + dir.str() + "/./script: Permission denied");
  }
  SUBCASE("unusable stdio descriptor") {
    const auto result = spawn_process(command({"/bin/true"}), stdio(-1, 987));
    CHECK(result.pid == 0);
    CHECK(result.failure == "cannot set up standard input/output: Bad file descriptor");
    check_nothing_left_behind();
  }
  SUBCASE("bad spec") {
    check_fails(command({}), "empty command");
    check_fails(command({"/bin/true"}, {}, {{"A=B", "c"}}),
                "invalid environment variable name: 'A=B'");
  }
}

TEST_CASE("children get back the open-file limit otpd started with") {
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_max <= 256) {
    MESSAGE("hard RLIMIT_NOFILE too low to test raising it");
    return;
  }
  limit.rlim_cur = 256;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &limit) == 0);

  const auto report = otpd::process::raise_fd_limit();
  CHECK_FALSE(report.failure.has_value());
  CHECK(report.original_soft == 256);
  CHECK(report.soft == limit.rlim_max);
  CHECK(report.hard == limit.rlim_max);
  CHECK(report.raised());

  TempDir dir;
  const Facts facts = probe(command({kProbe}), dir);
  CHECK(facts.at("nofile_soft") == "256");
  CHECK(facts.at("nofile_hard") == std::to_string(limit.rlim_max));
}

TEST_CASE("rlimits and umask are set in the child; an explicit nofile replaces otpd's restore") {
  TempDir dir;
  rlimit own{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &own) == 0);
  ProcessSpec spec = command({kProbe});
  spec.umask = 027;
  spec.rlimits = {{RLIMIT_NOFILE, "nofile", 100, 200}, {RLIMIT_FSIZE, "fsize", 4096, 8192}};
  const Facts facts = probe(spec, dir);
  CHECK(facts.at("umask") == "0027");
  CHECK(facts.at("nofile_soft") == "100");
  CHECK(facts.at("nofile_hard") == "200");
  CHECK(facts.at("fsize_soft") == "4096");
  // The parent's own limits are untouched.
  rlimit after{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &after) == 0);
  CHECK(after.rlim_cur == own.rlim_cur);
  CHECK(after.rlim_max == own.rlim_max);
}

TEST_CASE("inherit_env false: the user's variables < env files < env, and nothing of otpd's") {
  TempDir dir;
  setenv("OTPD_TEST_INHERITED", "from-otpd", 1);
  ProcessSpec spec = command({kProbe, "OTPD_TEST_INHERITED", "HOME", "USER", "LOGNAME", "SHELL",
                              "OTPD_TEST_FILE", "PATH"});
  spec.inherit_env = false;
  spec.credentials.edit().login = "someone";
  spec.credentials.edit().home = "/home/someone";
  spec.credentials.edit().shell = "";
  spec.file_env = {{"OTPD_TEST_FILE", "first"}, {"USER", "from-file"}, {"OTPD_TEST_FILE", "last"}};
  spec.env = {{"HOME", "/from-env"}};
  const Facts facts = probe(spec, dir);
  unsetenv("OTPD_TEST_INHERITED");
  CHECK(facts.at("env.OTPD_TEST_INHERITED") == "(unset)");
  CHECK(facts.at("env.HOME") == "/from-env");
  CHECK(facts.at("env.USER") == "from-file");
  CHECK(facts.at("env.LOGNAME") == "someone");
  CHECK(facts.at("env.SHELL") == "/bin/sh");
  CHECK(facts.at("env.OTPD_TEST_FILE") == "last");
  CHECK(facts.at("env.PATH") == "(unset)");

  // A bare name is then looked up in a default PATH.
  ProcessSpec bare = command({"true"});
  bare.inherit_env = false;
  const auto result = spawn_process(bare);
  REQUIRE_MESSAGE(result.pid > 0, result.failure.value_or(""));
  CHECK(WEXITSTATUS(wait_for(result.pid)) == 0);
}

TEST_CASE("the child switches groups, group and user, in that order") {
  if (geteuid() != 0) {
    MESSAGE("skipped: switching users needs root");
    return;
  }
  TempDir dir;
  chmod(dir.str().c_str(), 0777);
  // nobody must reach the probe, wherever the build tree is.
  ProcessSpec spec = command({otpd::test::reachable_by_all(kProbe)});
  spec.credentials.edit().uid = 65534;
  spec.credentials.edit().gid = 65534;
  spec.credentials.edit().groups = std::vector<unsigned>{4, 1};
  const Facts facts = probe(spec, dir);
  CHECK(facts.at("uids") == "65534,65534,65534");
  CHECK(facts.at("gids") == "65534,65534,65534");
  CHECK(facts.at("groups") == "1,4");
  // Only the child changed.
  CHECK(geteuid() == 0);
  CHECK(getegid() == 0);
}

TEST_CASE("a refused identity switch names the step, the id and the reason") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root to become another user first");
    return;
  }
  // As nobody, spawning as root is refused at each step in turn. That runs
  // in a process of its own, which reports the errors through a pipe.
  int out[2];
  REQUIRE(pipe(out) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(out[0]);
    if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0) {
      _exit(3);
    }
    ProcessSpec spec = command({kProbe});
    spec.credentials.edit().user = "root";
    spec.credentials.edit().uid = 0;
    std::string report = spawn_process(spec).failure.value_or("") + "\n";
    spec.credentials.edit().group = "root";
    spec.credentials.edit().gid = 0;
    report += spawn_process(spec).failure.value_or("") + "\n";
    spec.credentials.edit().groups = std::vector<unsigned>{0, 1};
    report += spawn_process(spec).failure.value_or("") + "\n";
    const bool written =
        write(out[1], report.data(), report.size()) == static_cast<ssize_t>(report.size());
    _exit(written ? 0 : 4);
  }
  close(out[1]);
  std::string report;
  char buffer[1024];
  for (ssize_t n; (n = read(out[0], buffer, sizeof buffer)) > 0;) report.append(buffer, n);
  close(out[0]);
  const int status = wait_for(pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK(report ==
        "cannot switch to user root (uid 0): Operation not permitted\n"
        "cannot switch to group root (gid 0): Operation not permitted\n"
        "cannot set the supplementary groups of user root (0, 1): Operation not permitted\n");
  check_nothing_left_behind();
}

TEST_CASE("a refused rlimit names the resource and both values") {
  rlimit nofile{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &nofile) == 0);
  ProcessSpec spec = command({kProbe});
  spec.rlimits = {{RLIMIT_CORE, "core", 0, 0},
                  {RLIMIT_NOFILE, "nofile", 10, otpd::config::ResourceLimit::unlimited}};
  check_fails(spec,
              "cannot set the nofile limit to 10 (soft), unlimited (hard): Operation not "
              "permitted");
}

TEST_CASE("a passed descriptor reaches the child at its number, and nothing else does") {
  TempDir dir;
  int ends[2];
  REQUIRE(pipe2(ends, O_CLOEXEC) == 0);
  const int stray = open("/dev/null", O_RDONLY);  // not close-on-exec, still not inherited
  for (int target : {7, ends[1]}) {
    CAPTURE(target);
    SpawnOptions opts;
    opts.passed_fd = ends[1];
    opts.passed_fd_target = target;
    const Facts facts = probe(command({kProbe}), dir, opts);
    CHECK(facts.at("fds") == std::to_string(target));
  }
  close(stray);
  close(ends[0]);
  close(ends[1]);
}

TEST_CASE("the low descriptor slot holds a passed descriptor for one spawn") {
  otpd::process::reserve_low_fd();
  int ends[2];
  REQUIRE(pipe2(ends, O_CLOEXEC) == 0);
  const int high = fcntl(ends[1], F_DUPFD_CLOEXEC, 500);
  REQUIRE(high >= 500);
  const int low = otpd::process::place_low_fd(high);
  CHECK(low < 20);
  CHECK(fd_target(low) == fd_target(high));
  otpd::process::release_low_fd();
  CHECK(fd_target(low) == "/dev/null");
  // Every write end is closed: the reader sees the end of the pipe.
  close(high);
  close(ends[1]);
  char byte;
  CHECK(read(ends[0], &byte, 1) == 0);
  close(ends[0]);
}

TEST_CASE("die_with_parent: the child gets SIGKILL when the spawning thread ends") {
  TempDir dir;
  CHECK(probe(command({kProbe}), dir).at("pdeathsig") == "0");
  SpawnOptions opts;
  opts.die_with_parent = true;
  CHECK(probe(command({kProbe}), dir, opts).at("pdeathsig") == std::to_string(SIGKILL));
}

TEST_CASE("a child moves itself into the cgroups it is given before it runs") {
  // A cgroup of this test's own, beside nothing: needs a writable cgroup2.
  const auto layout = otpd::process::cgroupfs::read_layout();
  if (!layout.v2 || layout.v2->own.empty()) {
    MESSAGE("skipped: no cgroup2 file system shows this process's cgroup");
    return;
  }
  const std::string cgroup = layout.v2->own + "/otpd-test-spawn-" + std::to_string(getpid());
  if (mkdir(cgroup.c_str(), 0755) != 0) {
    MESSAGE("skipped: cannot create a cgroup here (" << std::strerror(errno) << ")");
    return;
  }
  TempDir dir;
  SpawnOptions opts;
  opts.cgroup_fds[0] = open((cgroup + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
  opts.cgroup_dirs[0] = cgroup.c_str();
  opts.cgroup_count = 1;
  REQUIRE(opts.cgroup_fds[0] >= 0);
  const Facts facts = probe(command({kProbe}), dir, opts);
  close(opts.cgroup_fds[0]);
  CHECK(rmdir(cgroup.c_str()) == 0);  // empty again once the probe is gone
  CHECK(layout.v2->mount + facts.at("cgroup") == cgroup);
  // Nothing of it in the probe: the descriptor was otpd's.
  CHECK(facts.at("fds") == "");
}

TEST_CASE("a cgroup that refuses the child is an error that names it") {
  TempDir dir;
  const std::string file = dir.file("not-a-cgroup");
  std::ofstream(file) << "";
  SpawnOptions opts;
  opts.cgroup_fds[0] = open(file.c_str(), O_RDONLY | O_CLOEXEC);  // write() fails: EBADF
  opts.cgroup_dirs[0] = "/sys/fs/cgroup/x";
  opts.cgroup_count = 1;
  const auto result = spawn_process(command({kProbe}), opts);
  close(opts.cgroup_fds[0]);
  CHECK(result.pid == 0);
  CHECK(result.failure ==
        "cannot move the process into its cgroup /sys/fs/cgroup/x: Bad file descriptor");
  check_nothing_left_behind();
}
