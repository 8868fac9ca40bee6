#include "config/yaml_tree.hpp"

namespace otpd::config {
namespace {

const std::string kNoText;

}  // namespace

YAML::NodeType::value YamlNode::Type() const {
  return tree_ == nullptr ? YAML::NodeType::Undefined : tree_->nodes_[index_].type;
}

const std::string& YamlNode::Scalar() const {
  if (!IsScalar()) return kNoText;
  return tree_->scalars_[tree_->nodes_[index_].first];
}

const std::string& YamlNode::Tag() const {
  if (tree_ == nullptr) return kNoText;
  return tree_->tags_[tree_->nodes_[index_].tag];
}

YAML::Mark YamlNode::Mark() const {
  if (tree_ == nullptr) return YAML::Mark::null_mark();
  const auto& entry = tree_->nodes_[index_];
  YAML::Mark mark;
  mark.pos = entry.pos;
  mark.line = entry.line;
  mark.column = entry.column;
  return mark;
}

std::size_t YamlNode::size() const {
  if (!IsSequence() && !IsMap()) return 0;
  return tree_->nodes_[index_].count;
}

YamlNode YamlNode::element(std::size_t i) const {
  if (!IsSequence() || i >= size()) return {};
  return {tree_, tree_->links_[tree_->nodes_[index_].first + i]};
}

YamlNode YamlNode::key(std::size_t i) const {
  if (!IsMap() || i >= size()) return {};
  return {tree_, tree_->links_[tree_->nodes_[index_].first + 2 * i]};
}

YamlNode YamlNode::value(std::size_t i) const {
  if (!IsMap() || i >= size()) return {};
  return {tree_, tree_->links_[tree_->nodes_[index_].first + 2 * i + 1]};
}

YamlNode YamlNode::operator[](std::string_view wanted) const {
  for (std::size_t i = 0; i < size() && IsMap(); ++i) {
    const YamlNode k = key(i);
    if (k.IsScalar() && k.Scalar() == wanted) return value(i);
  }
  return {};
}

void YamlTree::reserve(std::size_t nodes, std::size_t scalars, std::size_t links) {
  nodes_.reserve(nodes);
  scalars_.reserve(scalars);
  links_.reserve(links);
}

std::uint32_t YamlTree::tag_index(const std::string& tag) {
  for (std::uint32_t i = 0; i < tags_.size(); ++i) {
    if (tags_[i] == tag) return i;
  }
  tags_.push_back(tag);
  return static_cast<std::uint32_t>(tags_.size() - 1);
}

std::uint32_t YamlTree::add(Entry entry) {
  nodes_.push_back(entry);
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void YamlTree::place(std::uint32_t index) {
  if (!open_.empty()) {
    pending_.push_back(index);
    return;
  }
  if (!has_root_) {
    root_ = index;
    has_root_ = true;
  }
}

std::uint32_t YamlTree::add_null(const YAML::Mark& mark) {
  const std::uint32_t index =
      add({YAML::NodeType::Null, kPlain, 0, 0, mark.line, mark.column, mark.pos});
  place(index);
  return index;
}

std::uint32_t YamlTree::add_scalar(const YAML::Mark& mark, const std::string& tag,
                                   std::string text) {
  scalars_.push_back(std::move(text));
  const auto text_index = static_cast<std::uint32_t>(scalars_.size() - 1);
  const std::uint32_t index = add(
      {YAML::NodeType::Scalar, tag_index(tag), text_index, 0, mark.line, mark.column, mark.pos});
  place(index);
  return index;
}

std::uint32_t YamlTree::begin_container(const YAML::Mark& mark, YAML::NodeType::value type) {
  const std::uint32_t index = add({type, kPlain, 0, 0, mark.line, mark.column, mark.pos});
  open_.push_back(index);
  pending_from_.push_back(pending_.size());
  return index;
}

void YamlTree::end_container() {
  if (open_.empty()) return;
  const std::uint32_t index = open_.back();
  const std::size_t from = pending_from_.back();
  open_.pop_back();
  pending_from_.pop_back();
  Entry& entry = nodes_[index];
  entry.first = static_cast<std::uint32_t>(links_.size());
  const auto count = static_cast<std::uint32_t>(pending_.size() - from);
  // A mapping's pairs; a key left without its value (not valid YAML, so
  // never seen) would be dropped.
  entry.count = entry.type == YAML::NodeType::Map ? count / 2 : count;
  links_.insert(links_.end(), pending_.begin() + static_cast<std::ptrdiff_t>(from), pending_.end());
  pending_.resize(from);
  place(index);
}

void YamlTree::add_alias(std::uint32_t index) {
  place(index);
}

}  // namespace otpd::config
