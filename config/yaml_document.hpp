// One YAML document from text that nobody vouches for: a config file, a
// start_child spec, a dry-run reload's text. yaml-cpp 0.7 cannot be trusted
// with such text on its own (a lone ',' makes YAML::LoadAll build null
// documents until memory runs out; an alias may refer to the node that
// contains it; aliases multiply what a reader walks), so the text is first
// read as a stream of events, within limits, and only then built, into a
// compact tree of its own (yaml_tree.hpp).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "config/yaml_reader.hpp"
#include "config/yaml_tree.hpp"

namespace otpd::config {

struct YamlLimits {
  // Bytes of text.
  std::size_t max_bytes = std::size_t{16} << 20;
  // Mappings and lists inside one another.
  std::size_t max_depth = 128;
  // Values (scalars, mappings, lists, keys included) once every alias is
  // expanded: what a reader walking the document may meet.
  std::size_t max_values = 2'000'000;
};

// Limits for a whole config file, and for one child spec sent over the
// control socket (which arrives in a request of at most 1 MiB).
inline constexpr YamlLimits kFileLimits{};
inline constexpr YamlLimits kChildSpecLimits{std::size_t{1} << 20, 128, 100'000};

// The one document in `text`. Throws ConfigError at the place of the first
// problem: invalid YAML, a second document, a limit exceeded, an alias
// that refers to the node containing it. An empty text fails with
// `when_empty`.
// `values`, when given, is set to the number of values the document holds
// once its aliases are expanded.
std::unique_ptr<const YamlTree> parse_single_document(const std::string& text, const Source& source,
                                                      const std::string& when_empty,
                                                      const YamlLimits& limits = kFileLimits,
                                                      std::size_t* values = nullptr);

}  // namespace otpd::config
