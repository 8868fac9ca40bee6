#include "config/control_reader.hpp"

#include <array>
#include <filesystem>

namespace otpd::config {
namespace {

// sun_path holds 108 bytes including the terminating NUL.
constexpr std::size_t kMaxSocketPath = 107;

struct ControlKey {
  std::string_view name;
  void (*read)(const Field&, ControlSpec&);
};

void read_socket(const Field& field, ControlSpec& control) {
  std::filesystem::path path(field.non_empty_text());
  if (path.is_relative()) path = std::filesystem::path(field.source().base_dir.str()) / path;
  const std::string text = path.lexically_normal().string();
  if (text.size() > kMaxSocketPath) {
    field.fail("'" + text + "' is " + std::to_string(text.size()) +
               " bytes long; a Unix socket path may have at most " +
               std::to_string(kMaxSocketPath));
  }
  control.socket = text;
}

// Group names are resolved to ids when otpd starts, not here: `otpd check`
// on another machine must not depend on that machine's groups.
GroupName read_group(const Field& field) {
  return {field.non_empty_text(), field.value_location()};
}

constexpr std::array<ControlKey, 3> kControlKeys{{
    {"socket", read_socket},
    {"group", [](const Field& f, ControlSpec& c) { c.group = read_group(f); }},
    {"read_group", [](const Field& f, ControlSpec& c) { c.read_group = read_group(f); }},
}};

}  // namespace

ControlSpec read_control(const Field& field) {
  field.require_mapping("a mapping with socket, group and read_group");
  std::vector<std::string_view> names;
  for (const ControlKey& key : kControlKeys) names.push_back(key.name);

  ControlSpec control;
  for (const Field& entry : field.entries()) {
    const ControlKey* key = nullptr;
    for (const ControlKey& candidate : kControlKeys) {
      if (candidate.name == entry.key()) key = &candidate;
    }
    if (!key) fail_unknown_key(entry, names);
    key->read(entry, control);
  }
  return control;
}

}  // namespace otpd::config
