// What the open status pages are told, as Server-Sent Events: each event of
// the tree as it happens, then the changed child's fresh status, posted to
// run right after the event so that a burst of events costs one status per
// child. The engine finishes a step in handlers it posts after the event
// (a started child is marked running once its supervisor's job resumes), so
// a changed child is looked at again on the next few turns of the loop and
// sent again when its status differs. A page's stream starts with the whole
// tree, and gets the whole tree again when its shape changes (a reload, a
// child removed or added).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "control/event_hub.hpp"
#include "supervise/host.hpp"

namespace otpd::http {

class StreamReader {
 public:
  virtual ~StreamReader() = default;
  // One or more complete SSE messages; a reader that falls too far behind
  // leaves (unsubscribes itself) here.
  virtual void send(std::string_view messages) = 0;
};

class PageFeed final : public control::EventSubscriber {
 public:
  // `node_json(path)` is the status JSON of one node without its children,
  // empty when the path is not in the tree; `tree_json()` the whole tree's.
  PageFeed(supervise::Host& host, std::function<std::string(const std::string&)> node_json,
           std::function<std::string()> tree_json);

  void on_event(std::string_view event) override;
  // Marks the child an event is about (called with the typed event).
  void changed(const std::string& path, bool shape);

  // Sends the whole tree to `reader` at once, then everything that follows.
  void join(StreamReader& reader);
  void leave(StreamReader& reader);
  std::size_t readers() const;

  // The SSE message for `data` as event `name` (one "data:" line per line).
  static std::string message(std::string_view name, std::string_view data);
  static std::string without_clock(const std::string& node);

  // Turns of the loop for which a changed child is looked at again.
  static constexpr int kSettleTurns = 4;

 private:
  void flush();
  void broadcast(const std::string& messages);

  supervise::Host& host_;
  std::function<std::string(const std::string&)> node_json_;
  std::function<std::string()> tree_json_;
  control::FanOutList<StreamReader> readers_;
  // Children changed since the last flush, and for how many more turns
  // each is looked at again, with what was sent of it last.
  std::vector<std::string> dirty_;
  std::unordered_set<std::string> dirty_set_;
  struct Settling {
    int turns_left = 0;
    std::string sent;
  };
  std::unordered_map<std::string, Settling> settling_;
  bool shape_changed_ = false;
  bool flush_posted_ = false;
};

}  // namespace otpd::http
