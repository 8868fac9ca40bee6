// What one load shares among the files it reads (the config and every file
// it includes): the errors, and the bounds of the whole load, so that a
// file cannot get round a limit by spreading over many included files, or
// by copies (`instances`) and expansion (${NAME}) of what it holds.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "config/error.hpp"
#include "config/yaml_document.hpp"

namespace otpd::config {

struct LoadContext {
  static constexpr int kMaxIncludedFiles = 256;
  static constexpr std::size_t kMaxIncludeDepth = 8;
  static constexpr std::size_t kMaxDirectoryEntries = 100'000;
  static constexpr std::size_t kMaxEnvFileBytes = std::size_t{16} << 20;
  static constexpr std::size_t kMaxExpansionGrowth = std::size_t{64} << 20;

  ErrorList errors;
  // Bytes of the config and its included files together.
  std::size_t bytes_left = kFileLimits.max_bytes;
  // Values (as YamlLimits counts them) of the config, its included files
  // and the copies `instances` makes, together.
  std::size_t values_left = kFileLimits.max_values;
  int files_left = kMaxIncludedFiles;
  // Directory entries looked at for includes, and include patterns: a conf.d
  // holds a handful of files, and a list of patterns could make otpd read
  // through a large directory without end.
  std::size_t entries_left = kMaxDirectoryEntries;
  // Bytes of env files read, all children together.
  std::size_t env_bytes_left = kMaxEnvFileBytes;
  // How much ${NAME} may add to the values of the load, all together.
  std::size_t growth_left = kMaxExpansionGrowth;
  // A start_child spec is one child sent by a client: it includes nothing.
  bool includes_allowed = true;
  // The files being read, the config first (canonical paths, empty when
  // unknown): an include of one of them is a cycle.
  std::vector<std::string> chain;
  // The included files' texts, sources and parsed trees; the Fields read
  // from them point here, so they live as long as the load.
  std::deque<std::string> texts;
  std::deque<Source> sources;
  std::deque<std::unique_ptr<const YamlTree>> trees;
};

}  // namespace otpd::config
