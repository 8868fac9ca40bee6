#include "config/include_reader.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "config/load_context.hpp"
#include "config/text_file.hpp"
#include "config/yaml_document.hpp"

namespace otpd::config {
namespace {

namespace fs = std::filesystem;

bool has_wildcard(std::string_view text) {
  return text.find_first_of("*?[") != std::string_view::npos;
}

bool is_yaml_name(const std::string& name) {
  return name.front() != '.' && (name.ends_with(".yaml") || name.ends_with(".yml"));
}

// Counts one directory entry or pattern against the load's bound.
void look_at_one(const Field& pattern) {
  LoadContext& context = *pattern.source().context;
  if (context.entries_left == 0) {
    pattern.fail("includes look through more than " +
                 std::to_string(LoadContext::kMaxDirectoryEntries) +
                 " directory entries and patterns in all");
  }
  --context.entries_left;
}

// The regular files of `dir` whose names `keep` accepts, by name.
template <typename Keep>
std::vector<std::string> files_in(const Field& pattern, const fs::path& dir, Keep keep) {
  std::vector<std::string> names;
  std::error_code error;
  fs::directory_iterator it(dir, error);
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    look_at_one(pattern);
    const std::string name = it->path().filename().string();
    std::error_code type_error;
    if (keep(name) && it->is_regular_file(type_error)) names.push_back(name);
    if (names.size() > static_cast<std::size_t>(LoadContext::kMaxIncludedFiles)) {
      pattern.fail("more than " + std::to_string(LoadContext::kMaxIncludedFiles) + " files in " +
                   dir.string());
    }
  }
  if (error) pattern.fail("cannot read the directory " + dir.string() + ": " + error.message());
  std::sort(names.begin(), names.end());
  std::vector<std::string> paths;
  for (const std::string& name : names) paths.push_back((dir / name).string());
  return paths;
}

// The files a pattern names, in the order they are read.
std::vector<std::string> matching_files(const Field& pattern) {
  look_at_one(pattern);
  const std::string written = pattern.non_empty_text();
  fs::path path(written);
  if (path.is_relative()) path = fs::path(pattern.source().base_dir.str()) / path;
  path = path.lexically_normal();
  const fs::path dir = path.parent_path();
  const std::string last = path.filename().string();
  if (has_wildcard(dir.string())) {
    pattern.fail("'" + written + "': a wildcard may be only in the last part of the path");
  }
  if (has_wildcard(last)) {
    std::error_code error;
    // A drop-in directory that nothing has created yet includes nothing.
    if (!fs::exists(dir, error) && !error) return {};
    return files_in(pattern, dir, [&](const std::string& name) {
      return fnmatch(last.c_str(), name.c_str(), FNM_PERIOD) == 0;
    });
  }
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (status.type() == fs::file_type::not_found) {
    pattern.fail("'" + path.string() + "' does not exist");
  }
  if (error) pattern.fail("cannot use '" + path.string() + "': " + error.message());
  if (status.type() == fs::file_type::directory) return files_in(pattern, path, is_yaml_name);
  return {path.string()};
}

std::string chain_text(const std::vector<std::string>& chain, const std::string& last) {
  std::string text;
  for (const std::string& file : chain) {
    if (!file.empty()) text += file + " includes ";
  }
  return text + last;
}

// Keeps a file on the chain of files being read while its children are.
class OnChain {
 public:
  OnChain(std::vector<std::string>& chain, std::string file) : chain_(chain) {
    chain_.push_back(std::move(file));
  }
  ~OnChain() { chain_.pop_back(); }
  OnChain(const OnChain&) = delete;
  OnChain& operator=(const OnChain&) = delete;

 private:
  std::vector<std::string>& chain_;
};

void include_file(const Field& pattern, const std::string& path,
                  const std::function<void(const Field& children)>& read) {
  LoadContext& context = *pattern.source().context;
  std::error_code canonical_error;
  std::string canonical = fs::weakly_canonical(path, canonical_error).string();
  if (canonical_error) canonical = path;
  if (std::find(context.chain.begin(), context.chain.end(), canonical) != context.chain.end()) {
    pattern.fail("an include cycle: " + chain_text(context.chain, canonical));
  }
  if (context.chain.size() > LoadContext::kMaxIncludeDepth) {
    pattern.fail("included files include others more than " +
                 std::to_string(LoadContext::kMaxIncludeDepth) + " deep");
  }
  if (context.files_left <= 0) {
    pattern.fail("more than " + std::to_string(LoadContext::kMaxIncludedFiles) +
                 " included files in all");
  }
  --context.files_left;

  std::string error;
  std::optional<std::string> text = read_text_file(path, kFileLimits.max_bytes, error);
  if (!text) pattern.fail("cannot read " + path + ": " + error);
  if (text->size() > context.bytes_left) {
    pattern.fail("the config and its included files hold more than " +
                 std::to_string(kFileLimits.max_bytes >> 20) + " MiB together");
  }
  context.bytes_left -= text->size();
  const std::string& kept = context.texts.emplace_back(std::move(*text));
  const Source& source = context.sources.emplace_back(Source{
      .file = path,
      .base_dir = fs::path(path).parent_path().string(),
      .errors = &context.errors,
      .context = &context,
      .text = &kept,
  });

  YamlLimits limits = kFileLimits;
  limits.max_values = context.values_left;
  std::size_t values = 0;
  const YamlTree& tree = *context.trees.emplace_back(parse_single_document(
      kept, source, "the file is empty; it needs 'children', a list of children", limits, &values));
  const YamlNode root = tree.root();
  context.values_left -= std::min(values, context.values_left);
  const Field document = document_field(source, root);
  if (!root.IsMap()) {
    document.fail("expected a mapping with 'children', a list of children, found " + kind_of(root));
  }
  std::optional<Field> children;
  for (const Field& entry : document.entries()) {
    if (entry.key() != "children") fail_unknown_key(entry, {"children"});
    children = entry;
  }
  if (!children) document.fail("missing the key 'children', the list of children it adds");
  const OnChain on_chain(context.chain, canonical);
  read(*children);
}

}  // namespace

bool is_include(const Field& element) {
  return element.node().IsMap() && element.node()["include"];
}

void read_included(const Field& element, const std::function<void(const Field& children)>& read) {
  const Source& source = element.source();
  std::optional<Field> include;
  for (const Field& entry : element.entries(Field::Labels::plain)) {
    if (entry.key() == "include") {
      include = entry;
    } else {
      throw ConfigError(entry.key_location(),
                        "an include entry has only the key 'include': the children's settings "
                        "are in the files it names");
    }
  }
  if (source.context == nullptr || !source.context->includes_allowed) {
    throw ConfigError(include->key_location(),
                      "include: only a config file includes other files, not a child spec");
  }
  std::vector<Field> patterns;
  if (include->node().IsSequence()) {
    patterns = include->elements();
  } else if (include->node().IsScalar()) {
    patterns.push_back(*include);
  } else {
    include->fail_expected("a path, a directory or a pattern such as conf.d/*.yaml, or a list");
  }
  for (const Field& pattern : patterns) {
    attempt(source, [&] {
      for (const std::string& file : matching_files(pattern)) {
        attempt(source, [&] { include_file(pattern, file, read); });
      }
    });
  }
}

}  // namespace otpd::config
