#include "http/page_feed.hpp"

#include <algorithm>

namespace otpd::http {

PageFeed::PageFeed(supervise::Host& host, std::function<std::string(const std::string&)> node_json,
                   std::function<std::string()> tree_json)
    : host_(host), node_json_(std::move(node_json)), tree_json_(std::move(tree_json)) {}

std::string PageFeed::message(std::string_view name, std::string_view data) {
  std::string out = "event: ";
  out += name;
  out += '\n';
  // Our JSON has no raw line feeds, but a message must never be cut short.
  std::size_t start = 0;
  while (start <= data.size()) {
    const auto end = data.find('\n', start);
    out += "data: ";
    out += data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    out += '\n';
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  out += '\n';
  return out;
}

// A node's JSON less the values that move with the clock alone (uptime_ms,
// last_exit_at_ms, ...): two looks at a node that did not change compare
// equal.
std::string PageFeed::without_clock(const std::string& node) {
  std::string out;
  out.reserve(node.size());
  std::size_t i = 0;
  while (i < node.size()) {
    const auto key = node.find("_ms\":", i);
    if (key == std::string::npos) break;
    out.append(node, i, key + 5 - i);
    i = key + 5;
    while (i < node.size() && (node[i] == '-' || (node[i] >= '0' && node[i] <= '9'))) ++i;
  }
  out.append(node, i, std::string::npos);
  return out;
}

void PageFeed::on_event(std::string_view event) {
  if (readers_.empty()) return;
  broadcast(message("event", event));
}

void PageFeed::changed(const std::string& path, bool shape) {
  if (readers_.empty()) return;
  shape_changed_ = shape_changed_ || shape;
  if (!shape && dirty_set_.insert(path).second) dirty_.push_back(path);
  if (flush_posted_) return;
  flush_posted_ = true;
  host_.post([this] { flush(); });
}

void PageFeed::flush() {
  flush_posted_ = false;
  std::vector<std::string> dirty = std::move(dirty_);
  dirty_.clear();
  dirty_set_.clear();
  if (readers_.empty()) {
    settling_.clear();
    return;
  }
  std::string messages;
  bool redraw = std::exchange(shape_changed_, false);
  // New changes first, in the order they came; then those still settling.
  std::vector<std::string> paths = dirty;
  for (const std::string& path : dirty) settling_[path].turns_left = kSettleTurns;
  for (const auto& [path, settling] : settling_) {
    if (std::find(dirty.begin(), dirty.end(), path) == dirty.end()) paths.push_back(path);
  }
  for (const std::string& path : paths) {
    if (redraw) break;
    std::string node = node_json_(path);
    if (node.empty()) {
      // Gone from the tree between the event and now: the page redraws.
      redraw = true;
      break;
    }
    Settling& settling = settling_[path];
    std::string seen = without_clock(node);
    if (seen != settling.sent) {
      messages += message("node", node);
      settling.sent = std::move(seen);
    }
  }
  for (auto it = settling_.begin(); it != settling_.end();) {
    it = --it->second.turns_left <= 0 || redraw ? settling_.erase(it) : std::next(it);
  }
  if (redraw) messages = message("tree", tree_json_());
  if (!messages.empty()) broadcast(messages);
  if (!settling_.empty() && !flush_posted_) {
    flush_posted_ = true;
    host_.post([this] { flush(); });
  }
}

void PageFeed::broadcast(const std::string& messages) {
  readers_.tell_each([&messages](StreamReader& reader) { reader.send(messages); });
}

void PageFeed::join(StreamReader& reader) {
  readers_.join(reader);
  reader.send(message("tree", tree_json_()));
}

void PageFeed::leave(StreamReader& reader) {
  readers_.leave(reader);
}

std::size_t PageFeed::readers() const {
  return readers_.size();
}

}  // namespace otpd::http
