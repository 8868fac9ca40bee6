#include "config/loader.hpp"

#include <array>
#include <filesystem>

#include "config/control_reader.hpp"
#include "config/logs_reader.hpp"
#include "config/text_file.hpp"
#include "config/tree_reader.hpp"
#include "config/worker_pool_reader.hpp"
#include "config/yaml_document.hpp"
#include "config/yaml_reader.hpp"

namespace otpd::config {
namespace {

struct TopLevelKey {
  std::string_view name;
  bool required;
  void (*read)(const Field&, Config&);
};

// The sections of a configuration file.
constexpr std::array<TopLevelKey, 4> kTopLevelKeys{{
    {"tree", true, [](const Field& f, Config& c) { c.tree = read_tree(f); }},
    {"control", false, [](const Field& f, Config& c) { c.control = read_control(f); }},
    {"logs", false, [](const Field& f, Config& c) { c.logs = read_logs(f); }},
    {"workers", false, [](const Field& f, Config& c) { c.workers = read_worker_pool(f); }},
}};

Source source_of(const std::string& name, const std::string& base_dir) {
  return {name,
          std::filesystem::absolute(base_dir.empty() ? "." : base_dir).lexically_normal().string()};
}

}  // namespace

Config load_string(const std::string& yaml_text, const std::string& file_name,
                   const std::string& base_dir) {
  const Source source = source_of(file_name, base_dir);
  const auto parsed =
      parse_single_document(yaml_text, source, "the file is empty; it needs a top-level 'tree'");
  const YamlNode root = parsed->root();
  const Field document = document_field(source, root);
  if (!root.IsMap()) {
    document.fail("expected a mapping with a top-level 'tree', found " + kind_of(root));
  }

  std::vector<std::string_view> names;
  for (const TopLevelKey& key : kTopLevelKeys) names.push_back(key.name);

  Config config;
  config.file = file_name;
  const std::vector<Field> entries = document.entries();
  auto find_key = [&](const std::string& name) -> const TopLevelKey* {
    for (const TopLevelKey& key : kTopLevelKeys) {
      if (key.name == name) return &key;
    }
    return nullptr;
  };
  for (const Field& entry : entries) {
    if (!find_key(entry.key())) fail_unknown_key(entry, names);
  }
  for (const TopLevelKey& key : kTopLevelKeys) {
    if (!key.required) continue;
    bool present = false;
    for (const Field& entry : entries) present = present || entry.key() == key.name;
    if (!present) document.fail("missing the top-level key '" + std::string(key.name) + "'");
  }
  for (const Field& entry : entries) find_key(entry.key())->read(entry, config);
  // After every section: `logs` may come after `tree` in the file.
  apply_default_output(config.tree, config.logs.output, config.logs.streams);
  return config;
}

ChildSpec load_child_string(const std::string& text, const std::string& source_name,
                            const std::string& base_dir, Output default_output,
                            Streams default_streams) {
  const Source source = source_of(source_name, base_dir);
  const auto parsed = parse_single_document(
      text, source, "the child spec is empty; it needs at least a 'name' and a 'command'",
      kChildSpecLimits);
  const YamlNode root = parsed->root();
  ChildSpec child = read_child(document_field(source, root));
  SupervisorSpec holder;
  holder.children.push_back(std::move(child));
  apply_default_output(holder, default_output, default_streams);
  return std::move(holder.children.front());
}

Config load_file(const std::string& path) {
  std::string error;
  const std::optional<std::string> text = read_text_file(path, kFileLimits.max_bytes, error);
  if (!text) throw ConfigError({path, 0, 0}, "cannot read: " + error);
  const std::filesystem::path base_dir = std::filesystem::absolute(path).parent_path();
  return load_string(*text, path, base_dir.string());
}

}  // namespace otpd::config
