#include "config/file_watch_reader.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "config/exec_reader.hpp"

namespace otpd::config {
namespace {

bool is_directory(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

// A directory is watched for changes to its entries; a file through its
// directory, so that it may be replaced, deleted or created later.
FileWatchSettings::Path read_path(const Field& field) {
  if (!field.node().IsScalar()) field.fail_expected("a path to a file or a directory");
  const std::string written = field.non_empty_text();
  std::filesystem::path path(written);
  if (path.is_relative()) path = std::filesystem::path(field.source().base_dir.str()) / path;
  path = path.lexically_normal();
  const bool says_directory = !path.has_filename();  // written with a trailing '/'
  std::string absolute = path.string();
  if (says_directory && absolute.size() > 1) absolute.pop_back();
  if (is_directory(absolute)) return {.path = absolute, .directory = true};
  if (says_directory) field.fail("'" + written + "': no such directory (" + absolute + ")");
  const std::string parent = std::filesystem::path(absolute).parent_path().string();
  if (!is_directory(parent)) {
    field.fail("'" + written + "': its directory " + parent +
               " does not exist (a file may be missing, its directory may not)");
  }
  return {.path = absolute, .directory = false};
}

std::vector<FileWatchSettings::Path> read_paths(const Field& field) {
  std::vector<Field> listed;
  if (field.node().IsSequence()) {
    listed = field.elements();
  } else {
    listed.push_back(field);
  }
  if (listed.empty()) field.fail("expected at least one path to watch");
  std::vector<FileWatchSettings::Path> paths;
  for (const Field& element : listed) {
    FileWatchSettings::Path path = read_path(element);
    if (std::find(paths.begin(), paths.end(), path) == paths.end()) paths.push_back(path);
  }
  return paths;
}

// `restart`, or `{signal: HUP}`.
int read_action(const Field& field) {
  const std::string expected = "restart or {signal: SIGNAL}, such as {signal: HUP}";
  if (field.node().IsScalar()) {
    const std::string written = field.text();
    if (written == "restart") return 0;
    field.fail_expected(expected, protocol::did_you_mean(written, {"restart"}));
  }
  if (!field.node().IsMap()) field.fail_expected(expected);
  const std::vector<Field> entries = field.entries();
  if (entries.size() != 1 || entries.front().key() != "signal") {
    if (!entries.empty() && entries.front().key() != "signal") {
      fail_unknown_key(entries.front(), {"signal"});
    }
    field.fail_expected(expected);
  }
  return read_signal(entries.front());
}

std::vector<std::string> read_ignore(const Field& field) {
  if (field.node().IsNull()) return {};
  if (!field.node().IsSequence()) field.fail_expected("a list of name patterns such as ['*.tmp']");
  std::vector<std::string> patterns;
  for (const Field& element : field.elements()) {
    const std::string pattern = element.non_empty_text();
    if (pattern.find('/') != std::string::npos) {
      element.fail("'" + pattern + "': a pattern matches an entry's name, which has no '/'");
    }
    patterns.push_back(pattern);
  }
  return patterns;
}

}  // namespace

FileWatchSettings read_file_watch(const std::vector<Field>& entries, const Field& worker) {
  FileWatchSettings watch;
  bool has_paths = false;
  for (const Field& entry : entries) {
    const std::string key = entry.key();
    if (key == "paths") {
      watch.paths = read_paths(entry);
      has_paths = true;
    } else if (key == "target") {
      // That it names a sibling is checked with the siblings.
      watch.target = entry.non_empty_text();
    } else if (key == "action") {
      watch.signal = read_action(entry);
    } else if (key == "debounce") {
      watch.debounce = entry.duration();
      if (watch.debounce < Duration::zero()) entry.fail("must not be negative");
    } else if (key == "ignore") {
      watch.ignore = read_ignore(entry);
    }
  }
  if (!has_paths) {
    throw ConfigError(worker.value_location(),
                      "worker: a file_watch needs 'paths': the files and directories to watch");
  }
  if (watch.target.empty()) {
    throw ConfigError(worker.value_location(),
                      "worker: a file_watch needs a 'target': the sibling to restart or signal");
  }
  return watch;
}

}  // namespace otpd::config
