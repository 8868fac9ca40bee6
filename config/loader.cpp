#include "config/loader.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "config/control_reader.hpp"
#include "config/logs_reader.hpp"
#include "config/tree_reader.hpp"
#include "config/worker_pool_reader.hpp"
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

[[noreturn]] void fail_unreadable(const std::string& path, int error) {
  throw ConfigError({path, 0, 0}, std::string("cannot read: ") + std::strerror(error));
}

std::string read_whole_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) fail_unreadable(path, errno);
  std::string text;
  char buffer[8192];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get())) text.append(buffer, n);
  // A directory opens fine and fails only on read, with EISDIR.
  if (std::ferror(file.get())) fail_unreadable(path, errno);
  return text;
}

YAML::Node parse_single_document(const std::string& yaml_text, const Source& source,
                                 const std::string& when_empty) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(yaml_text);
  } catch (const YAML::Exception& error) {
    SourceLocation where{source.file, 0, 0};
    if (!error.mark.is_null()) where = {source.file, error.mark.line + 1, error.mark.column + 1};
    throw ConfigError(where, "invalid YAML: " + error.msg);
  }
  if (documents.size() > 1) {
    throw ConfigError(locate(source, documents[1]),
                      "only one YAML document is allowed; remove this second one");
  }
  if (documents.empty() || documents.front().IsNull()) {
    throw ConfigError({source.file, 0, 0}, when_empty);
  }
  return documents.front();
}

Source source_of(const std::string& name, const std::string& base_dir) {
  return {name,
          std::filesystem::absolute(base_dir.empty() ? "." : base_dir).lexically_normal().string()};
}

}  // namespace

Config load_string(const std::string& yaml_text, const std::string& file_name,
                   const std::string& base_dir) {
  const Source source = source_of(file_name, base_dir);
  const YAML::Node root =
      parse_single_document(yaml_text, source, "the file is empty; it needs a top-level 'tree'");
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
  apply_default_output(config.tree, config.logs.output);
  return config;
}

ChildSpec load_child_string(const std::string& text, const std::string& source_name,
                            const std::string& base_dir, Output default_output) {
  const Source source = source_of(source_name, base_dir);
  const YAML::Node root = parse_single_document(
      text, source, "the child spec is empty; it needs at least a 'name' and a 'command'");
  ChildSpec child = read_child(document_field(source, root));
  SupervisorSpec holder;
  holder.children.push_back(std::move(child));
  apply_default_output(holder, default_output);
  return std::move(holder.children.front());
}

Config load_file(const std::string& path) {
  const std::string text = read_whole_file(path);
  const std::filesystem::path base_dir = std::filesystem::absolute(path).parent_path();
  return load_string(text, path, base_dir.string());
}

}  // namespace otpd::config
