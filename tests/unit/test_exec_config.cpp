// The execution settings of a process child: user, group, groups, umask,
// rlimits, env_file, inherit_env, stop_signal, kill_mode, and cwd's check.
// Users and groups are looked up on this machine: nobody, nogroup, root and
// daemon exist on every Debian system.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/env_file.hpp"
#include "config/loader.hpp"

using namespace otpd::config;

namespace {

namespace fs = std::filesystem;
using Variables = std::vector<std::pair<std::string, std::string>>;

bool is_root() {
  return geteuid() == 0;
}

// A directory for env files and for the config's base_dir, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "otpd-exec-config-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
  }

 private:
  fs::path path_;
};

// One process child `a` with the given extra keys, loaded with base_dir `dir`.
ProcessSpec load_process(const std::string& keys, const std::string& dir = "/tmp") {
  const Config config =
      load_string("tree:\n  children:\n    - name: a\n      command: [a]\n" + keys, "t.yaml", dir);
  REQUIRE(config.tree.children.size() == 1);
  return config.tree.children.front().process();
}

// The error of loading child `a` with `keys`; keys start on line 5.
std::string error_of(const std::string& keys, const std::string& dir = "/tmp") {
  try {
    load_process(keys, dir);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(loaded without error)";
}

}  // namespace

TEST_SUITE("config: identity") {
  TEST_CASE("user by name: uid, its primary group, its groups and its entry") {
    if (!is_root()) {
      MESSAGE("skipped: naming another user needs root");
      return;
    }
    const ProcessSpec process = load_process("      user: nobody\n");
    const Credentials& who = *process.credentials;
    CHECK(who.uid == 65534u);
    CHECK(who.gid == 65534u);
    CHECK(who.user == "nobody");
    CHECK(who.group == "nogroup");
    CHECK(who.groups == std::vector<unsigned>{65534});
    CHECK(who.login == "nobody");
    CHECK(who.home == "/nonexistent");
    CHECK(who.shell == "/usr/sbin/nologin");
  }

  TEST_CASE("user and group by number, explicit groups in order without repeats") {
    if (!is_root()) {
      MESSAGE("skipped: naming another user needs root");
      return;
    }
    const ProcessSpec process = load_process(
        "      user: 65534\n      group: \"0\"\n      groups: [daemon, 4, daemon, nogroup]\n");
    const Credentials& who = *process.credentials;
    CHECK(who.uid == 65534u);
    CHECK(who.user == "nobody");
    CHECK(who.gid == 0u);
    CHECK(who.group == "root");
    CHECK(who.groups == std::vector<unsigned>{1, 4, 65534});
  }

  TEST_CASE("a uid without an entry needs a group, and gets no supplementary group") {
    if (!is_root()) {
      MESSAGE("skipped: naming another user needs root");
      return;
    }
    CHECK(error_of("      user: 4000000\n") ==
          "t.yaml:5:13: user: uid 4000000 has no entry in the user database, hence no primary "
          "group: name its 'group' too");
    const ProcessSpec process = load_process("      user: 4000000\n      group: 4000000\n");
    CHECK(process.credentials->uid == 4000000u);
    CHECK(process.credentials->user == "4000000");
    CHECK(process.credentials->group == "4000000");
    CHECK(process.credentials->groups == std::vector<unsigned>{});
    CHECK(process.credentials->login.empty());
  }

  TEST_CASE("group alone switches the group and leaves the supplementary groups") {
    if (!is_root()) {
      MESSAGE("skipped: naming another group needs root");
      return;
    }
    const ProcessSpec process = load_process("      group: nogroup\n");
    CHECK_FALSE(process.credentials->uid.has_value());
    CHECK(process.credentials->gid == 65534u);
    CHECK_FALSE(process.credentials->groups.has_value());
  }

  TEST_CASE("otpd's own user and group are accepted without root") {
    const ProcessSpec process = load_process("      user: " + std::to_string(geteuid()) +
                                             "\n      group: " + std::to_string(getegid()) + "\n");
    CHECK(process.credentials->uid == geteuid());
    CHECK(process.credentials->gid == getegid());
  }

  TEST_CASE("no identity key: nothing changes") {
    const ProcessSpec process = load_process("");
    CHECK(process.credentials == Credentials{});
  }

  TEST_CASE("errors") {
    CHECK(error_of("      user: otpd-no-such-user\n") ==
          "t.yaml:5:13: user: unknown user 'otpd-no-such-user'");
    CHECK(error_of("      group: otpd-no-such-group\n") ==
          "t.yaml:5:14: group: unknown group 'otpd-no-such-group'");
    CHECK(error_of("      groups: [nogroup, otpd-no-such-group]\n") ==
          "t.yaml:5:25: groups: unknown group 'otpd-no-such-group'");
    CHECK(error_of("      groups: nogroup\n") ==
          "t.yaml:5:15: groups: expected a list of group names or numbers, found a string");
    CHECK(error_of("      user: ''\n") == "t.yaml:5:13: user: must not be empty");
    CHECK(error_of("      user: 4294967295\n") ==
          "t.yaml:5:13: user: must be at most 4294967294, found '4294967295'");
    CHECK(error_of("      user: [a]\n") == "t.yaml:5:13: user: expected a string, found a list");
  }
}

TEST_SUITE("config: umask") {
  TEST_CASE("octal, as written or quoted") {
    CHECK(load_process("      umask: \"0027\"\n").umask == 027u);
    CHECK(load_process("      umask: 027\n").umask == 027u);
    CHECK(load_process("      umask: 0\n").umask == 0u);
    CHECK(load_process("      umask: 777\n").umask == 0777u);
    CHECK_FALSE(load_process("").umask.has_value());
  }

  TEST_CASE("errors") {
    const std::string expected =
        "t.yaml:5:14: umask: expected an octal mode such as \"0027\" (digits 0-7, at most 0777), "
        "found ";
    CHECK(error_of("      umask: \"0089\"\n") == expected + "'0089'");
    CHECK(error_of("      umask: 1777\n") == expected + "'1777'");
    CHECK(error_of("      umask: 00022\n") == expected + "'00022'");
    CHECK(error_of("      umask: u=rwx\n") == expected + "'u=rwx'");
    CHECK(error_of("      umask: [1]\n") == expected + "a list");
  }
}

TEST_SUITE("config: rlimits") {
  TEST_CASE("a value sets both limits; {soft, hard} each; unlimited; size suffixes") {
    const ProcessSpec process = load_process(
        "      rlimits:\n"
        "        nofile: 65536\n"
        "        core: unlimited\n"
        "        nproc: {soft: 100, hard: 200}\n"
        "        stack: 8M\n"
        "        memlock: {soft: 64k, hard: infinity}\n");
    const auto unlimited = ResourceLimit::unlimited;
    CHECK(process.rlimits == std::vector<ResourceLimit>{
                                 {RLIMIT_NOFILE, "nofile", 65536, 65536},
                                 {RLIMIT_CORE, "core", unlimited, unlimited},
                                 {RLIMIT_NPROC, "nproc", 100, 200},
                                 {RLIMIT_STACK, "stack", 8 << 20, 8 << 20},
                                 {RLIMIT_MEMLOCK, "memlock", 64 << 10, unlimited},
                             });
  }

  TEST_CASE("every setrlimit resource is known") {
    const ProcessSpec process = load_process(
        "      rlimits: {as: 1G, core: 0, cpu: 60, data: 1T, fsize: 1, locks: 1, memlock: 1,\n"
        "                msgqueue: 1, nice: 20, nofile: 1, nproc: 1, rss: 1, rtprio: 1,\n"
        "                rttime: 1, sigpending: 1, stack: 1}\n");
    CHECK(process.rlimits.size() == 16);
    CHECK(process.rlimits.front().hard == std::uint64_t{1} << 30);
    CHECK(process.rlimits.at(3).hard == std::uint64_t{1} << 40);
  }

  TEST_CASE("errors") {
    CHECK(error_of("      rlimits: {nofle: 1}\n") ==
          "t.yaml:5:17: rlimits: unknown resource 'nofle' (did you mean 'nofile'?)");
    CHECK(error_of("      rlimits: {files: 1}\n") ==
          "t.yaml:5:17: rlimits: unknown resource 'files' (valid: as, core, cpu, data, fsize, "
          "locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, "
          "stack)");
    CHECK(error_of("      rlimits: {nproc: {soft: 200, hard: 100}}\n") ==
          "t.yaml:5:24: rlimits.nproc: the soft limit (200) is above the hard limit (100)");
    CHECK(error_of("      rlimits: {nproc: {soft: unlimited, hard: 100}}\n") ==
          "t.yaml:5:24: rlimits.nproc: the soft limit (unlimited) is above the hard limit (100)");
    CHECK(error_of("      rlimits: {nproc: {soft: 1}}\n") ==
          "t.yaml:5:24: rlimits.nproc: needs both soft and hard, found only soft (a single "
          "value sets both)");
    CHECK(error_of("      rlimits: {nproc: {sfot: 1, hard: 2}}\n") ==
          "t.yaml:5:25: unknown key 'sfot' (did you mean 'soft'?)");
    CHECK(error_of("      rlimits: {nofile: many}\n") ==
          "t.yaml:5:25: rlimits.nofile: expected a whole number or unlimited, found 'many'");
    CHECK(error_of("      rlimits: {nofile: 4K}\n") ==
          "t.yaml:5:25: rlimits.nofile: expected a whole number or unlimited, found '4K'");
    CHECK(error_of("      rlimits: {nofile: -1}\n") ==
          "t.yaml:5:25: rlimits.nofile: expected a whole number or unlimited, found '-1'");
    CHECK(error_of("      rlimits: {stack: 8X}\n") ==
          "t.yaml:5:24: rlimits.stack: expected a size such as 8388608 or 8M, or unlimited, "
          "found '8X'");
    CHECK(error_of("      rlimits: {stack: 99999999999T}\n") ==
          "t.yaml:5:24: rlimits.stack: too large");
    CHECK(error_of("      rlimits: {nofile: 18446744073709551615}\n") ==
          "t.yaml:5:25: rlimits.nofile: too large");
    CHECK(error_of("      rlimits: [nofile]\n") ==
          "t.yaml:5:16: rlimits: expected a mapping of resource: limit, such as {nofile: 4096}, "
          "found a list");
  }
}

TEST_SUITE("config: environment") {
  TEST_CASE("env files: comments, export, quotes, later lines win at spawn") {
    const Variables variables = parse_env_file(
        "# a comment\n"
        "\n"
        "  PLAIN=value with spaces   \n"
        "export EXPORTED=1\n"
        "SINGLE='$HOME and \\n stay'\n"
        "DOUBLE=\"a \\\"quoted\\\" \\\\ word\\n\"  # trailing comment\n"
        "EMPTY=\n"
        "HASH=a#b # comment\n"
        "CRLF=yes\r\n"
        "SPACED = around\n"
        "PLAIN=again",
        "x.env");
    CHECK(variables == Variables{{"PLAIN", "value with spaces"},
                                 {"EXPORTED", "1"},
                                 {"SINGLE", "$HOME and \\n stay"},
                                 {"DOUBLE", "a \"quoted\" \\ word\n"},
                                 {"EMPTY", ""},
                                 {"HASH", "a#b"},
                                 {"CRLF", "yes"},
                                 {"SPACED", "around"},
                                 {"PLAIN", "again"}});
  }

  TEST_CASE("env file errors are FILE:LINE") {
    auto error = [](const std::string& text) {
      try {
        parse_env_file(text, "/etc/app.env");
      } catch (const ConfigError& e) {
        return std::string(e.what());
      }
      return std::string("(parsed)");
    };
    CHECK(error("A=1\nJUST_A_WORD\n") ==
          "/etc/app.env:2: expected NAME=VALUE, found 'JUST_A_WORD'");
    CHECK(error("1A=x\n") ==
          "/etc/app.env:1: '1A' is not a variable name (letters, digits and '_', not starting "
          "with a digit)");
    CHECK(error("=x\n") ==
          "/etc/app.env:1: '' is not a variable name (letters, digits and '_', not starting "
          "with a digit)");
    CHECK(error("\n\nA='open\n") == "/etc/app.env:3: unterminated ' quote");
    CHECK(error("A=\"open\n") == "/etc/app.env:1: unterminated \" quote");
    CHECK(error("A='x' y\n") == "/etc/app.env:1: unexpected 'y' after the closing quote");
  }

  TEST_CASE("env_file: one path or several, relative to the config file's directory") {
    TempDir dir;
    dir.write("one.env", "A=1\nB=1\n");
    dir.write("two.env", "B=2\n");
    const ProcessSpec single = load_process("      env_file: one.env\n", dir.str());
    CHECK(single.env_files == std::vector<std::string>{dir.path("one.env")});
    CHECK(single.file_env == Variables{{"A", "1"}, {"B", "1"}});

    const ProcessSpec both = load_process(
        "      env: {C: 3}\n      env_file: [one.env, " + dir.path("two.env") + "]\n", dir.str());
    CHECK(both.env_files == std::vector<std::string>{dir.path("one.env"), dir.path("two.env")});
    CHECK(both.file_env == Variables{{"A", "1"}, {"B", "1"}, {"B", "2"}});
    CHECK(both.env == Variables{{"C", "3"}});
  }

  TEST_CASE("env_file is read at every load, so a reload sees its changes") {
    TempDir dir;
    dir.write("app.env", "A=1\n");
    const ProcessSpec before = load_process("      env_file: app.env\n", dir.str());
    dir.write("app.env", "A=2\n");
    const ProcessSpec after = load_process("      env_file: app.env\n", dir.str());
    CHECK(before.file_env == Variables{{"A", "1"}});
    CHECK(after.file_env == Variables{{"A", "2"}});
    CHECK_FALSE(before == after);
  }

  TEST_CASE("env_file errors") {
    TempDir dir;
    dir.write("bad.env", "A=1\n\nnot a variable\n");
    CHECK(error_of("      env_file: missing.env\n", dir.str()) ==
          "t.yaml:5:17: env_file: cannot read " + dir.path("missing.env") +
              ": No such file or directory");
    CHECK(error_of("      env_file: [bad.env]\n", dir.str()) ==
          dir.path("bad.env") + ":3: expected NAME=VALUE, found 'not a variable'");
    CHECK(error_of("      env_file: {a: b}\n", dir.str()) ==
          "t.yaml:5:17: env_file: expected a path or a list of paths, found a mapping");
    CHECK(error_of("      env_file: ''\n", dir.str()) ==
          "t.yaml:5:17: env_file: must not be empty");
  }

  TEST_CASE("inherit_env") {
    CHECK(load_process("").inherit_env);
    CHECK(load_process("      inherit_env: true\n").inherit_env);
    CHECK_FALSE(load_process("      inherit_env: false\n").inherit_env);
    CHECK(error_of("      inherit_env: flase\n") ==
          "t.yaml:5:20: inherit_env: expected one of true, false, found 'flase' (did you mean "
          "'false'?)");
  }
}

TEST_SUITE("config: stopping") {
  TEST_CASE("stop_signal by name, short name or number") {
    CHECK(load_process("").stop_signal == SIGTERM);
    CHECK(load_process("      stop_signal: QUIT\n").stop_signal == SIGQUIT);
    CHECK(load_process("      stop_signal: SIGINT\n").stop_signal == SIGINT);
    CHECK(load_process("      stop_signal: 10\n").stop_signal == SIGUSR1);
    CHECK(load_process("      stop_signal: hup\n").stop_signal == SIGHUP);
  }

  TEST_CASE("stop_signal errors") {
    CHECK(error_of("      stop_signal: TREM\n") ==
          "t.yaml:5:20: stop_signal: expected a signal such as SIGTERM, TERM or 15, found 'TREM' "
          "(did you mean 'SIGTERM'?)");
    CHECK(error_of("      stop_signal: 0\n") ==
          "t.yaml:5:20: stop_signal: expected a signal such as SIGTERM, TERM or 15, found '0'");
    CHECK(error_of("      stop_signal: [TERM]\n") ==
          "t.yaml:5:20: stop_signal: expected a signal such as SIGTERM, TERM or 15, found a list");
  }

  TEST_CASE("kill_mode") {
    CHECK(load_process("").kill_mode == KillMode::group);
    CHECK(load_process("      kill_mode: process\n").kill_mode == KillMode::process);
    CHECK(load_process("      kill_mode: group\n").kill_mode == KillMode::group);
    CHECK(error_of("      kill_mode: proces\n") ==
          "t.yaml:5:18: kill_mode: expected one of group, process, found 'proces' (did you mean "
          "'process'?)");
  }
}

TEST_SUITE("config: cwd must exist") {
  TEST_CASE("a missing directory or a file is an error at cwd") {
    CHECK(error_of("      cwd: otpd-no-such-dir\n") ==
          "t.yaml:5:12: cwd: '/tmp/otpd-no-such-dir' does not exist");
    CHECK(error_of("      cwd: /etc/passwd\n") ==
          "t.yaml:5:12: cwd: '/etc/passwd' is not a directory");
    CHECK(error_of("      cwd: /etc/passwd/x\n") ==
          "t.yaml:5:12: cwd: '/etc/passwd/x' does not exist");
  }
}

TEST_SUITE("config: execution settings") {
  TEST_CASE("are keys of processes only") {
    for (const char* key :
         {"user: nobody", "group: nogroup", "groups: []", "umask: 022", "rlimits: {}",
          "env_file: x", "inherit_env: false", "stop_signal: TERM", "kill_mode: group"}) {
      CAPTURE(key);
      const std::string name = std::string(key).substr(0, std::string(key).find(':'));
      try {
        load_string("tree:\n  children:\n    - {name: s, children: [], " + std::string(key) + "}\n",
                    "t.yaml", "/tmp");
        FAIL("loaded");
      } catch (const ConfigError& error) {
        CHECK(error.message() ==
              "'" + name +
                  "' applies only to processes, not to a supervisor (a child with "
                  "'children')");
      }
    }
  }

  TEST_CASE("each setting takes part in the comparison of specs") {
    const ProcessSpec base = load_process("");
    CHECK(load_process("") == base);
    for (const std::string& keys : std::vector<std::string>{
             "      umask: 022\n", "      rlimits: {nofile: 10}\n", "      inherit_env: false\n",
             "      stop_signal: INT\n", "      kill_mode: process\n",
             "      group: " + std::to_string(getegid()) + "\n"}) {
      CAPTURE(keys);
      CHECK_FALSE(load_process(keys) == base);
    }
    CHECK_FALSE(load_process("      user: " + std::to_string(geteuid()) + "\n") == base);
    ProcessSpec other = base;
    other.credentials.edit().groups = std::vector<unsigned>{};
    CHECK_FALSE(other == base);
    other = base;
    other.file_env = {{"A", "1"}};
    CHECK_FALSE(other == base);
  }
}
