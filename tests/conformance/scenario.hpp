// Short configs for the conformance scenarios: a tree of test children
// written as YAML, so that each scenario reads as its OTP rule.
#pragma once

#include <string>
#include <string_view>

namespace otpd::conformance {

// A child `name` running the test child with extra `options` (", --x, 1"),
// plus `fields` lines ("restart: transient"); for a children list at `depth`
// (the root's children are depth 0).
inline std::string proc(std::string_view name, std::string_view options = "",
                        std::initializer_list<std::string_view> fields = {}, int depth = 0) {
  const std::string pad(4 + 6 * depth, ' ');
  std::string yaml = pad + "- name: " + std::string(name) + "\n";
  for (auto field : fields) yaml += pad + "  " + std::string(field) + "\n";
  yaml += pad + "  command: [@CHILD@, --name, " + std::string(name) + std::string(options) + "]\n";
  return yaml;
}

// A nested supervisor child with `fields` and the given children list.
inline std::string sup(std::string_view name, std::initializer_list<std::string_view> fields,
                       std::string children, int depth = 0) {
  const std::string pad(4 + 6 * depth, ' ');
  std::string yaml = pad + "- name: " + std::string(name) + "\n";
  for (auto field : fields) yaml += pad + "  " + std::string(field) + "\n";
  return yaml + pad + "  children:\n" + children;
}

// The root supervisor with `fields` ("strategy: one_for_all").
inline std::string tree(std::initializer_list<std::string_view> fields, std::string children) {
  std::string yaml = "tree:\n";
  for (auto field : fields) yaml += "  " + std::string(field) + "\n";
  return yaml + "  children:\n" + children;
}

}  // namespace otpd::conformance
