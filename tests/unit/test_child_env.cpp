// The environment a child gets, built from otpd's and the spec's variables.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "process/child_env.hpp"

using otpd::process::ChildEnvironment;

TEST_SUITE("child environment") {
  TEST_CASE("later variables of the same name win, inherited ones are replaced in place") {
    ::setenv("OTPD_TEST_INHERITED", "old", 1);
    const ChildEnvironment env({{"A", "1"}, {"OTPD_TEST_INHERITED", "new"}, {"A", "2"}});
    CHECK(std::string(env.get("A")) == "2");
    CHECK(std::string(env.get("OTPD_TEST_INHERITED")) == "new");
    int count = 0;
    for (char* const* entry = env.envp(); *entry != nullptr; ++entry) {
      count += std::string(*entry).starts_with("OTPD_TEST_INHERITED=") ? 1 : 0;
    }
    CHECK(count == 1);
    ::unsetenv("OTPD_TEST_INHERITED");
  }

  TEST_CASE("without inheriting, the overrides are the whole environment") {
    const ChildEnvironment env({{"A", "1"}}, false);
    CHECK(std::string(env.envp()[0]) == "A=1");
    CHECK(env.envp()[1] == nullptr);
  }

  // One pass per variable would take hours here; the test's time limit
  // ends it.
  TEST_CASE("a child environment of 1,000,000 variables is built in one pass") {
    ChildEnvironment::Overrides overrides;
    for (int i = 0; i < 1'000'000; ++i) overrides.emplace_back("V" + std::to_string(i), "x");
    overrides.emplace_back("V5", "later");
    const ChildEnvironment env(overrides);
    CHECK(std::string(env.get("V5")) == "later");
    CHECK(std::string(env.get("V999999")) == "x");
  }
}
