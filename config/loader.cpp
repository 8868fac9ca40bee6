#include "config/loader.hpp"

#include <array>
#include <filesystem>

#include "config/control_reader.hpp"
#include "config/hooks_reader.hpp"
#include "config/http_reader.hpp"
#include "config/load_context.hpp"
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
constexpr std::array<TopLevelKey, 6> kTopLevelKeys{{
    {"tree", true, [](const Field& f, Config& c) { c.tree = read_tree(f); }},
    {"control", false, [](const Field& f, Config& c) { c.control = read_control(f); }},
    {"logs", false, [](const Field& f, Config& c) { c.logs = read_logs(f); }},
    {"workers", false, [](const Field& f, Config& c) { c.workers = read_worker_pool(f); }},
    {"http", false, [](const Field& f, Config& c) { c.http = read_http(f); }},
    {"hooks", false, [](const Field& f, Config& c) { c.hooks = read_hooks(f); }},
}};

Source source_of(const std::string& name, const std::string& base_dir, LoadContext& context,
                 const std::string& text) {
  return {
      .file = name,
      .base_dir =
          std::filesystem::absolute(base_dir.empty() ? "." : base_dir).lexically_normal().string(),
      .errors = &context.errors,
      .context = &context,
      .text = &text};
}

// The file as an include names it, to find a cycle back to it; empty when
// the text is not a file's.
std::string canonical_name(const std::string& file_name) {
  std::error_code error;
  const auto status = std::filesystem::status(file_name, error);
  if (error || !std::filesystem::is_regular_file(status)) return "";
  const auto canonical = std::filesystem::weakly_canonical(file_name, error);
  return error ? "" : canonical.string();
}

}  // namespace

Config load_string(const std::string& yaml_text, const std::string& file_name,
                   const std::string& base_dir) {
  LoadContext context;
  ErrorList& errors = context.errors;
  errors.set_file(file_name);
  context.chain.push_back(canonical_name(file_name));
  const Source source = source_of(file_name, base_dir, context, yaml_text);
  std::size_t values = 0;
  const auto parsed = parse_single_document(
      yaml_text, source, "the file is empty; it needs a top-level 'tree'", kFileLimits, &values);
  const YamlNode root = parsed->root();
  context.values_left -= std::min(values, context.values_left);
  context.bytes_left -= std::min(yaml_text.size(), context.bytes_left);
  const Field document = document_field(source, root);
  if (!root.IsMap()) {
    document.fail("expected a mapping with a top-level 'tree', found " + kind_of(root));
  }

  std::vector<std::string_view> names;
  for (const TopLevelKey& key : kTopLevelKeys) names.push_back(key.name);

  Config config;
  config.file = file_name;
  auto find_key = [&](const std::string& name) -> const TopLevelKey* {
    for (const TopLevelKey& key : kTopLevelKeys) {
      if (key.name == name) return &key;
    }
    return nullptr;
  };
  // Every error of the file, up to ErrorList's limit, in one run.
  try {
    const std::vector<Field> entries = document.entries();
    bool misspelt = false;
    for (const Field& entry : entries) {
      if (find_key(entry.key())) continue;
      misspelt = true;
      attempt(source, [&] { fail_unknown_key(entry, names); });
    }
    for (const TopLevelKey& key : kTopLevelKeys) {
      // A misspelt key may be the missing one: its error says so.
      if (!key.required || misspelt) continue;
      bool present = false;
      for (const Field& entry : entries) present = present || entry.key() == key.name;
      if (!present) {
        attempt(source, [&] {
          document.fail("missing the top-level key '" + std::string(key.name) + "'");
        });
      }
    }
    for (const Field& entry : entries) {
      if (const TopLevelKey* key = find_key(entry.key())) {
        attempt(source, [&] { key->read(entry, config); });
      }
    }
  } catch (const TooManyErrors&) {
    errors.raise(/*stopped_early=*/true);
  }
  errors.raise();
  // After every section: `logs` may come after `tree` in the file.
  apply_default_output(config.tree, config.logs.output, config.logs.streams);
  return config;
}

ChildSpec load_child_string(const std::string& text, const std::string& source_name,
                            const std::string& base_dir, Output default_output,
                            Streams default_streams) {
  LoadContext context;
  ErrorList& errors = context.errors;
  errors.set_file(source_name);
  context.includes_allowed = false;
  context.values_left = kChildSpecLimits.max_values;
  context.bytes_left = kChildSpecLimits.max_bytes;
  const Source source = source_of(source_name, base_dir, context, text);
  std::size_t values = 0;
  const auto parsed = parse_single_document(
      text, source, "the child spec is empty; it needs at least a 'name' and a 'command'",
      kChildSpecLimits, &values);
  const YamlNode root = parsed->root();
  context.values_left -= std::min(values, context.values_left);
  ChildSpec child;
  try {
    attempt(source, [&] { child = read_child(document_field(source, root)); });
  } catch (const TooManyErrors&) {
    errors.raise(/*stopped_early=*/true);
  }
  errors.raise();
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
