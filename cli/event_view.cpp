#include "cli/event_view.hpp"

#include "cli/client_names.hpp"
#include "cli/duration_text.hpp"

namespace otpd::ctl {
namespace {

// otpd's log starts the path this many columns after the timestamp, so
// that paths line up below each other whatever the event's name.
constexpr std::size_t kPathColumn = 20;

}  // namespace

std::string render_event(const Json& event) {
  const std::string time = text_field(event, "time").value_or("-");
  std::string line = time + " " + text_field(event, "event").value_or("?");
  const std::size_t path_at = time.size() + kPathColumn;
  line.append(line.size() < path_at ? path_at - line.size() : 1, ' ');
  line += text_field(event, "path").value_or("?");
  if (auto pid = int_field(event, "pid"); pid && *pid != 0) line += " pid=" + std::to_string(*pid);
  if (auto delay = int_field(event, "delay_ms")) line += " in " + format_exact(*delay);
  if (auto reason = text_field(event, "reason"); reason && !reason->empty()) {
    line += ": " + *reason;
  }
  return line;
}

}  // namespace otpd::ctl
