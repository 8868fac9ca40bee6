#include "config/yaml_document.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <sstream>
#include <unordered_map>
#include <vector>

#include "config/error.hpp"
#include "config/indentation.hpp"

namespace otpd::config {
namespace {

// Thrown by the event handler to stop yaml-cpp's parser at a place.
struct Refused {
  YAML::Mark mark;
  std::string message;
  // yaml-cpp stopped making progress here; the message is then ours to say.
  bool stuck = false;
};

struct DocumentSeen {
  YAML::Mark start;
  YAML::Mark first_value;
  bool has_value = false;
  // What building it takes: nodes (aliases are none), scalars, and places
  // in containers.
  std::size_t nodes = 0;
  std::size_t scalars = 0;
  std::size_t links = 0;
};

std::string mebibytes(std::size_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

// Counts what the document would be once built, and refuses it as soon as
// it would exceed a limit, before yaml-cpp has built anything.
class BoundedEvents : public YAML::EventHandler {
 public:
  explicit BoundedEvents(const YamlLimits& limits) : limits_(limits) {}

  const std::vector<DocumentSeen>& documents() const { return documents_; }
  std::size_t values() const { return total_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    // yaml-cpp 0.7 answers some misplaced characters (a ',' outside [] or
    // {}) with an empty document that consumes nothing, again and again.
    if (!documents_.empty() && mark.pos == documents_.back().start.pos) {
      throw Refused{mark, "", true};
    }
    documents_.push_back({.start = mark, .first_value = YAML::Mark(), .has_value = false});
    open_.clear();
    sizes_.clear();
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    if (!documents_.empty()) ++documents_.back().scalars;
    leaf(mark, anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    for (const Open& open : open_) {
      if (open.anchor == anchor) {
        throw Refused{mark, "this alias refers to a value that contains it"};
      }
    }
    const auto found = sizes_.find(anchor);
    // yaml-cpp itself refuses an unknown anchor; count it as one value.
    add(mark, found == sizes_.end() ? 1 : found->second);
    if (!documents_.empty()) --documents_.back().nodes;  // the node is its anchor's
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Open {
    YAML::anchor_t anchor;
    std::size_t size;  // the container itself and everything in it so far
  };

  void first_value(const YAML::Mark& mark) {
    DocumentSeen& document = documents_.back();
    if (!document.has_value) {
      document.first_value = mark;
      document.has_value = true;
    }
  }

  // One value, or an alias standing for `size` of them, in the document
  // and in every container open around it.
  void add(const YAML::Mark& mark, std::size_t size) {
    if (documents_.empty()) return;
    ++documents_.back().nodes;
    if (!open_.empty()) ++documents_.back().links;
    first_value(mark);
    total_ += size;
    if (total_ > limits_.max_values) {
      throw Refused{mark, "the document holds more than " + std::to_string(limits_.max_values) +
                              " values once its aliases are expanded"};
    }
    if (!open_.empty()) open_.back().size += size;
  }

  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    add(mark, 1);
    if (anchor != YAML::NullAnchor) sizes_[anchor] = 1;
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (open_.size() >= limits_.max_depth) {
      throw Refused{mark, "mappings and lists are nested more than " +
                              std::to_string(limits_.max_depth) + " deep"};
    }
    add(mark, 1);
    // Counted again, whole, into the container around it when it closes.
    if (!open_.empty()) open_.back().size -= 1;
    open_.push_back({anchor, 1});
  }

  void close() {
    if (open_.empty()) return;
    const Open done = open_.back();
    open_.pop_back();
    if (done.anchor != YAML::NullAnchor) sizes_[done.anchor] = done.size;
    if (!open_.empty()) open_.back().size += done.size;
  }

  const YamlLimits& limits_;
  std::vector<DocumentSeen> documents_;
  std::vector<Open> open_;
  std::unordered_map<YAML::anchor_t, std::size_t> sizes_;
  std::size_t total_ = 0;
};

// Keeps one document's events as a YamlTree. The text has passed
// BoundedEvents: aliases name anchors defined before, of closed nodes.
class TreeBuilder : public YAML::EventHandler {
 public:
  explicit TreeBuilder(YamlTree& tree) : tree_(tree) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    name(anchor, tree_.add_null(mark));
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    name(anchor, tree_.add_scalar(mark, tag, value));
  }
  void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override {
    if (anchor < anchors_.size()) tree_.add_alias(anchors_[anchor]);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    name(anchor, tree_.begin_container(mark, YAML::NodeType::Sequence));
  }
  void OnSequenceEnd() override { tree_.end_container(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    name(anchor, tree_.begin_container(mark, YAML::NodeType::Map));
  }
  void OnMapEnd() override { tree_.end_container(); }

 private:
  // yaml-cpp numbers anchors 1, 2, 3... in the order they are defined.
  void name(YAML::anchor_t anchor, std::uint32_t index) {
    if (anchor == YAML::NullAnchor) return;
    if (anchors_.size() <= anchor) anchors_.resize(anchor + 1);
    anchors_[anchor] = index;
  }

  YamlTree& tree_;
  std::vector<std::uint32_t> anchors_;
};

// "unexpected ','" rather than yaml-cpp's silence about what it stopped at.
std::string unexpected(const std::string& text, const YAML::Mark& mark) {
  if (mark.pos < 0 || static_cast<std::size_t>(mark.pos) >= text.size()) {
    return "unexpected end of the text";
  }
  const unsigned char c = static_cast<unsigned char>(text[static_cast<std::size_t>(mark.pos)]);
  if (c >= 0x21 && c < 0x7f) return std::string("unexpected '") + static_cast<char>(c) + "'";
  return "unexpected character";
}

// yaml-cpp's messages for a line that does not fit the structure around
// it, which is nearly always a matter of its indentation.
bool is_structure_error(const std::string& message) {
  return message == "end of map not found" || message == "end of sequence not found" ||
         message == "illegal map value" || message == "illegal block entry" ||
         message == "block sequence entries are not allowed in this context";
}

[[noreturn]] void throw_invalid(const std::string& text, const Source& source,
                                const YAML::Exception& error) {
  if (is_structure_error(error.msg) && !error.mark.is_null()) {
    if (auto why = explain_indentation(text, error.mark.line + 1, error.mark.column + 1)) {
      throw ConfigError({source.file, why->line, why->column}, "invalid YAML: " + why->message);
    }
  }
  throw ConfigError(locate(source, error.mark), "invalid YAML: " + error.msg);
}

// Reads up to three documents' worth of events: enough to tell one
// document from two, and a real second document from yaml-cpp going round
// in circles on the same character.
std::vector<DocumentSeen> check_events(const std::string& text, const Source& source,
                                       const YamlLimits& limits, std::size_t* values) {
  BoundedEvents events(limits);
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  try {
    for (int document = 0; document < 3 && parser.HandleNextDocument(events); ++document) {
    }
  } catch (const Refused& refused) {
    throw ConfigError(
        locate(source, refused.mark),
        "invalid YAML: " + (refused.stuck ? unexpected(text, refused.mark) : refused.message));
  } catch (const YAML::Exception& error) {
    throw_invalid(text, source, error);
  }
  if (values != nullptr) *values = events.values();
  return events.documents();
}

}  // namespace

std::unique_ptr<const YamlTree> parse_single_document(const std::string& text, const Source& source,
                                                      const std::string& when_empty,
                                                      const YamlLimits& limits,
                                                      std::size_t* values) {
  if (text.size() > limits.max_bytes) {
    throw ConfigError({source.file, 0, 0}, "the text is larger than " +
                                               mebibytes(limits.max_bytes) + "; nothing was read");
  }
  const std::vector<DocumentSeen> documents = check_events(text, source, limits, values);
  if (documents.size() > 1) {
    const DocumentSeen& second = documents[1];
    throw ConfigError(locate(source, second.has_value ? second.first_value : second.start),
                      "only one YAML document is allowed; remove this second one");
  }
  if (documents.empty()) throw ConfigError({source.file, 0, 0}, when_empty);
  auto tree = std::make_unique<YamlTree>();
  const DocumentSeen& first = documents.front();
  tree->reserve(first.nodes, first.scalars, first.links);
  TreeBuilder builder(*tree);
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  try {
    // The events above were the first document's: the same ones again,
    // now kept.
    parser.HandleNextDocument(builder);
  } catch (const YAML::Exception& error) {
    throw_invalid(text, source, error);
  }
  if (!tree->root() || tree->root().IsNull()) {
    throw ConfigError({source.file, 0, 0}, when_empty);
  }
  return tree;
}

}  // namespace otpd::config
