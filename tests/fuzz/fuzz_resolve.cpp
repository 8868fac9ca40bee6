// libFuzzer target: any bytes as a name an operator wrote (HTTP's ?path=,
// a control request's path) go through the real Tree::resolve of a running
// tree with nested supervisors and names that repeat. The answer must be a
// path that resolves to itself, a refusal that names at least two paths of
// the tree, or the bytes as written when they name nothing; never a crash,
// a leak or a hang.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "supervise/tree.hpp"
#include "tests/unit/engine_world.hpp"

namespace {

using otpd::config::Strategy;
using otpd::test::process_child;
using otpd::test::supervisor_child;
using otpd::test::supervisor_spec;

// web  api/web  api/db  api/jobs/web  api/jobs/cron  admin/web  admin/db  cache:
// "web" is a path and the name of three more children, "db" the name of
// two, "jobs/web" the end of one path.
otpd::config::SupervisorSpec tree_spec() {
  auto jobs = supervisor_spec(Strategy::one_for_one, {process_child("web"), process_child("cron")});
  auto api = supervisor_spec(Strategy::rest_for_one, {process_child("web"), process_child("db"),
                                                      supervisor_child("jobs", jobs)});
  auto admin = supervisor_spec(Strategy::one_for_all, {process_child("web"), process_child("db")});
  return supervisor_spec(Strategy::one_for_one,
                         {process_child("web"), supervisor_child("api", api),
                          supervisor_child("admin", admin), process_child("cache")});
}

// Built and started once: resolve only reads the tree.
otpd::test::EngineWorld& world() {
  static otpd::test::EngineWorld world(tree_spec());
  static const bool booted = [] {
    world.boot();
    return world.start_result.succeeded();
  }();
  if (!booted) std::abort();
  return world;
}

// The parts of a path or a written name: slashes around them do not count.
std::vector<std::string_view> parts_of(std::string_view text) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    const auto slash = text.find('/');
    const std::string_view part = text.substr(0, slash);
    if (!part.empty()) parts.push_back(part);
    text.remove_prefix(slash == std::string_view::npos ? text.size() : slash + 1);
  }
  return parts;
}

// Whether the last whole parts of `path` are the parts of `written`.
bool ends_as_written(std::string_view path, std::string_view written) {
  const auto have = parts_of(path);
  const auto want = parts_of(written);
  return !want.empty() && have.size() >= want.size() &&
         std::equal(want.begin(), want.end(),
                    have.end() - static_cast<std::ptrdiff_t>(want.size()));
}

// How many paths of the tree end with the parts of `written`: the answer
// resolve must agree with, counted the slow way.
std::size_t paths_ending_as(const otpd::supervise::Tree& tree, const std::string& written) {
  std::size_t count = 0;
  for (const std::string& path : tree.paths()) count += ends_as_written(path, written) ? 1 : 0;
  return count;
}

// "'W' is the name of N children (P1, P2, ...): write the path of one": N is
// at least 2, and the list holds the N paths of the tree that end with W's parts.
void check_ambiguous(const otpd::supervise::Tree& tree, const std::string& written,
                     const std::string& failure) {
  const std::string head = "'" + written + "' is the name of ";
  const std::string tail = "): write the path of one";
  if (failure.rfind(head, 0) != 0 || !failure.ends_with(tail)) std::abort();
  std::string_view rest(failure);
  rest.remove_prefix(head.size());
  rest.remove_suffix(tail.size());
  const auto open = rest.find(" children (");
  if (open == std::string_view::npos) std::abort();
  const int count = std::atoi(std::string(rest.substr(0, open)).c_str());
  if (count < 2) std::abort();
  rest.remove_prefix(open + std::string_view(" children (").size());
  int listed = 0;
  while (!rest.empty()) {
    const auto comma = rest.find(", ");
    const std::string path(rest.substr(0, comma));
    if (!tree.contains(path) || !ends_as_written(path, written)) std::abort();
    ++listed;
    rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 2);
  }
  if (listed != count || paths_ending_as(tree, written) != static_cast<std::size_t>(count)) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const otpd::supervise::Tree& tree = *world().tree;
  const std::string written(reinterpret_cast<const char*>(data), size);
  const otpd::supervise::ResolvedPath resolved = tree.resolve(written);
  if (resolved.failure) {
    if (resolved.path != written) std::abort();
    check_ambiguous(tree, written, *resolved.failure);
  } else if (tree.contains(resolved.path)) {
    // A path found is one a node lives at: it resolves to itself.
    const otpd::supervise::ResolvedPath again = tree.resolve(resolved.path);
    if (again.failure || again.path != resolved.path) std::abort();
    // Else the one path that ends with what was written.
    if (resolved.path != written &&
        (!ends_as_written(resolved.path, written) || paths_ending_as(tree, written) != 1)) {
      std::abort();
    }
  } else if (resolved.path != written || paths_ending_as(tree, written) != 0) {
    std::abort();  // names nothing: comes back as written
  }
  return 0;
}
