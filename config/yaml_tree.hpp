// A parsed YAML document, kept compact: every node is a small entry in one
// table, every scalar one string, and a node is handed out as a handle into
// the table. yaml-cpp's own nodes cost some 300 bytes each, and a config of
// 10,000 children holds over 100,000 of them; these cost 32 bytes, with
// the text. The tree is built from yaml-cpp's stream of events
// (yaml_document.cpp), so it reads YAML exactly as yaml-cpp does: a
// mapping keeps its pairs in file order (duplicates included, for the
// reader to refuse), an alias is the node its anchor names.
//
// YamlNode answers the questions yaml-cpp's YAML::Node does, under the same
// names, so that readers read either the same way.
#pragma once

#include <yaml-cpp/mark.h>
#include <yaml-cpp/node/type.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace otpd::config {

class YamlTree;

class YamlNode {
 public:
  // A node that is not there: what a lookup of a missing key gives.
  YamlNode() = default;
  YamlNode(const YamlTree* tree, std::uint32_t index) : tree_(tree), index_(index) {}

  bool IsDefined() const { return tree_ != nullptr; }
  explicit operator bool() const { return IsDefined(); }
  YAML::NodeType::value Type() const;
  bool IsNull() const { return Type() == YAML::NodeType::Null; }
  bool IsScalar() const { return Type() == YAML::NodeType::Scalar; }
  bool IsSequence() const { return Type() == YAML::NodeType::Sequence; }
  bool IsMap() const { return Type() == YAML::NodeType::Map; }
  // The text of a scalar; empty for anything else.
  const std::string& Scalar() const;
  // "?" for a plain scalar, "!" for a quoted one, or the tag written.
  const std::string& Tag() const;
  // Where the node begins; a null mark for a node that is not there.
  YAML::Mark Mark() const;

  // Elements of a list, pairs of a mapping; 0 for anything else.
  std::size_t size() const;
  YamlNode element(std::size_t i) const;
  YamlNode key(std::size_t i) const;
  YamlNode value(std::size_t i) const;
  // The value of the first pair whose key is the scalar `key`; a node that
  // is not there when there is none (or this is no mapping).
  YamlNode operator[](std::string_view key) const;

 private:
  const YamlTree* tree_ = nullptr;
  std::uint32_t index_ = 0;
};

class YamlTree {
 public:
  YamlTree() = default;
  YamlTree(const YamlTree&) = delete;
  YamlTree& operator=(const YamlTree&) = delete;

  // The document's top node; a node that is not there for an empty tree.
  YamlNode root() const { return nodes_.empty() ? YamlNode() : YamlNode(this, root_); }

  // Room for what the document holds, counted beforehand, so that building
  // never copies a table that has grown too small.
  void reserve(std::size_t nodes, std::size_t scalars, std::size_t links);
  // Building, in the order of yaml-cpp's events. A node's index is known
  // when it begins, so that an anchor can name it (for later aliases).
  std::uint32_t add_null(const YAML::Mark& mark);
  std::uint32_t add_scalar(const YAML::Mark& mark, const std::string& tag, std::string text);
  std::uint32_t begin_container(const YAML::Mark& mark, YAML::NodeType::value type);
  void end_container();
  // The node `index` again (an alias), where the next value goes.
  void add_alias(std::uint32_t index);

 private:
  friend class YamlNode;

  struct Entry {
    YAML::NodeType::value type;
    std::uint32_t tag;    // into tags_: kPlain, kQuoted or one written
    std::uint32_t first;  // scalar: into scalars_; container: into links_
    std::uint32_t count;  // container: elements, or pairs
    std::int32_t line;
    std::int32_t column;
    std::int32_t pos;
  };
  static constexpr std::uint32_t kPlain = 0;
  static constexpr std::uint32_t kQuoted = 1;

  std::uint32_t add(Entry entry);
  // A finished node goes into the container being built, if any.
  void place(std::uint32_t index);
  std::uint32_t tag_index(const std::string& tag);

  std::vector<Entry> nodes_;
  std::vector<std::string> scalars_;
  std::vector<std::string> tags_{"?", "!"};
  // Containers' contents, each contiguous: elements, or key and value in turn.
  std::vector<std::uint32_t> links_;
  // Containers being built, outermost first, and their contents so far
  // (links are laid down when a container ends, so that nested ones stay
  // contiguous).
  std::vector<std::uint32_t> open_;
  std::vector<std::uint32_t> pending_;
  std::vector<std::size_t> pending_from_;
  std::uint32_t root_ = 0;
  bool has_root_ = false;
};

}  // namespace otpd::config
