// The cgroup limits of a process child: memory_max, cpu_max, pids_max.
#include <doctest/doctest.h>

#include <string>

#include "config/diff.hpp"
#include "config/loader.hpp"

using namespace otpd::config;

namespace {

ProcessSpec load_process(const std::string& keys) {
  const Config config = load_string(
      "tree:\n  children:\n    - name: a\n      command: [a]\n" + keys, "t.yaml", "/tmp");
  REQUIRE(config.tree.children.size() == 1);
  return config.tree.children.front().process();
}

std::string error_of(const std::string& keys) {
  try {
    load_process(keys);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(loaded without error)";
}

constexpr std::uint64_t MiB = 1024 * 1024;

}  // namespace

TEST_SUITE("config: cgroup limits") {
  TEST_CASE("none by default") {
    CHECK(load_process("").limits->empty());
  }

  TEST_CASE("memory_max: sizes and max") {
    CHECK(load_process("      memory_max: 64M\n").limits->memory_max == 64 * MiB);
    CHECK(load_process("      memory_max: 2G\n").limits->memory_max == 2048 * MiB);
    CHECK(load_process("      memory_max: 1536KiB\n").limits->memory_max == 1536 * 1024);
    CHECK(load_process("      memory_max: 100MB\n").limits->memory_max == 100'000'000);
    CHECK(load_process("      memory_max: 1048576\n").limits->memory_max == MiB);
    CHECK(load_process("      memory_max: max\n").limits->memory_max == CgroupLimits::unlimited);
    CHECK(error_of("      memory_max: 64 potatoes\n") ==
          "t.yaml:5:19: memory_max: expected a size such as 512M or 2G, or max, found "
          "'64 potatoes'");
    CHECK(error_of("      memory_max: 512K\n") ==
          "t.yaml:5:19: memory_max: must be at least 1M (a program needs room to start), found "
          "'512K'");
    CHECK(error_of("      memory_max: [1]\n").find("expected a size") != std::string::npos);
  }

  TEST_CASE("cpu_max: shares of a CPU, the kernel's own form, max") {
    CHECK(load_process("      cpu_max: 50%\n").limits->cpu_max == CgroupLimits::Cpu{50000, 100000});
    CHECK(load_process("      cpu_max: 150%\n").limits->cpu_max ==
          CgroupLimits::Cpu{150000, 100000});
    CHECK(load_process("      cpu_max: 2.5%\n").limits->cpu_max == CgroupLimits::Cpu{2500, 100000});
    CHECK(load_process("      cpu_max: 25000 50000\n").limits->cpu_max ==
          CgroupLimits::Cpu{25000, 50000});
    CHECK(load_process("      cpu_max: max\n").limits->cpu_max ==
          CgroupLimits::Cpu{CgroupLimits::unlimited, 100000});
    CHECK(load_process("      cpu_max: max 50000\n").limits->cpu_max ==
          CgroupLimits::Cpu{CgroupLimits::unlimited, 50000});
    CHECK(error_of("      cpu_max: 0.5%\n") ==
          "t.yaml:5:16: cpu_max: must be at least 1% (the kernel's least quota is 1ms), found "
          "'0.5%'");
    CHECK(error_of("      cpu_max: 50000 100\n") ==
          "t.yaml:5:16: cpu_max: the period must be 1000 to 1000000 microseconds, found "
          "'50000 100'");
    CHECK(error_of("      cpu_max: 999 100000\n") ==
          "t.yaml:5:16: cpu_max: the quota must be at least 1000 microseconds, found '999 100000'");
    CHECK(error_of("      cpu_max: half\n").find("expected a share of one CPU such as 50%") !=
          std::string::npos);
    CHECK(error_of("      cpu_max: 2.25%\n").find("expected a share") != std::string::npos);
  }

  TEST_CASE("pids_max: a count or max") {
    CHECK(load_process("      pids_max: 64\n").limits->pids_max == 64u);
    CHECK(load_process("      pids_max: max\n").limits->pids_max == CgroupLimits::unlimited);
    CHECK(error_of("      pids_max: 0\n") ==
          "t.yaml:5:17: pids_max: must be at least 1, found '0'");
    CHECK(error_of("      pids_max: -3\n") ==
          "t.yaml:5:17: pids_max: expected a number of processes (at least 1), or max, found '-3'");
  }

  TEST_CASE("only processes have them") {
    const std::string error = [] {
      try {
        load_string(
            "tree:\n  children:\n    - name: s\n      memory_max: 64M\n      children: []\n",
            "t.yaml", "/tmp");
      } catch (const ConfigError& e) {
        return std::string(e.what());
      }
      return std::string("(loaded)");
    }();
    CHECK(error ==
          "t.yaml:4:7: 'memory_max' applies only to processes, not to a supervisor (a "
          "child with 'children')");
  }

  TEST_CASE("written back as the config writes them") {
    CHECK(format_memory(64 * MiB) == "64M");
    CHECK(format_memory(3 * 1024 * MiB) == "3G");
    CHECK(format_memory(1536 * 1024) == "1536K");
    CHECK(format_memory(100'000'000) == "100000000");
    CHECK(format_memory(CgroupLimits::unlimited) == "max");
    CHECK(format_cpu({50000, 100000}) == "50%");
    CHECK(format_cpu({2500, 100000}) == "2.5%");
    CHECK(format_cpu({33333, 100000}) == "33333 100000");
    CHECK(format_cpu({25000, 50000}) == "25000 50000");
    CHECK(format_cpu({CgroupLimits::unlimited, 100000}) == "max");
    CHECK(format_cpu({CgroupLimits::unlimited, 50000}) == "max 50000");
  }

  TEST_CASE("a changed limit changes the child, and says which") {
    const auto load = [](const std::string& keys) {
      return load_string("tree:\n  children:\n    - name: a\n      command: [a]\n" + keys, "t.yaml",
                         "/tmp");
    };
    const Config before = load("      memory_max: 64M\n      pids_max: 10\n");
    CHECK(diff(before, load("      memory_max: 64M\n      pids_max: 10\n"))
              .of(Change::changed)
              .empty());
    const TreeDiff changed = diff(before, load("      memory_max: 128M\n      cpu_max: 50%\n"));
    REQUIRE(changed.of(Change::changed) == std::vector<std::string>{"a"});
    for (const PathChange& path : changed.paths) {
      if (path.path != "a") continue;
      CHECK(path.what == std::vector<std::string>{"memory_max", "cpu_max", "pids_max"});
    }
  }
}
