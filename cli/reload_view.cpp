#include "cli/reload_view.hpp"

#include "cli/node_fields.hpp"

namespace otpd::ctl {
namespace {

const Json& array_field(const Json& object, const char* key) {
  static const Json empty = Json::array();
  if (!object.is_object()) return empty;
  const auto found = object.find(key);
  return found != object.end() && found->is_array() ? *found : empty;
}

std::string join(const Json& names) {
  std::string text;
  for (const Json& name : names) {
    if (!name.is_string()) continue;
    if (!text.empty()) text += ", ";
    text += name.get<std::string>();
  }
  return text;
}

}  // namespace

std::string render_reload(const Json& result) {
  std::string text;
  for (const Json& path : array_field(result, "removed")) {
    if (path.is_string()) text += "- " + path.get<std::string>() + "\n";
  }
  for (const Json& path : array_field(result, "added")) {
    if (path.is_string()) text += "+ " + path.get<std::string>() + "\n";
  }
  for (const Json& change : array_field(result, "changed")) {
    text += "~ " + text_field(change, "path").value_or("?");
    const std::string what = join(array_field(change, "what"));
    if (!what.empty()) text += " (" + what + ")";
    if (bool_field(change, "supervisor")) text += " in place";
    text += "\n";
  }
  for (const Json& line : array_field(result, "applied")) {
    if (line.is_string()) text += "~ " + line.get<std::string>() + "\n";
  }
  const auto count = [&](const char* key) { return array_field(result, key).size(); };
  const bool dry_run = bool_field(result, "dry_run");
  if (count("added") + count("removed") + count("changed") == 0) {
    if (count("applied") > 0) {
      text += dry_run ? "no changes to the tree (dry run: nothing was done)\n"
                      : "no changes to the tree\n";
    } else {
      text += dry_run ? "no changes: a reload would do nothing\n" : "no changes\n";
    }
    return text;
  }
  text += std::to_string(count("added")) + " added, " + std::to_string(count("removed")) +
          " removed, " + std::to_string(count("changed")) + " changed";
  text += dry_run ? " (dry run: nothing was done)\n" : "\n";
  return text;
}

std::string reload_problems(const Json& result) {
  std::string text;
  for (const Json& failure : array_field(result, "failed")) {
    text += "otpctl: " + text_field(failure, "path").value_or("?") +
            " failed to start: " + text_field(failure, "error").value_or("?") + "\n";
  }
  for (const Json& warning : array_field(result, "warnings")) {
    if (warning.is_string()) text += "warning: " + warning.get<std::string>() + "\n";
  }
  return text;
}

bool reload_failed(const Json& result) {
  return !array_field(result, "failed").empty();
}

}  // namespace otpd::ctl
