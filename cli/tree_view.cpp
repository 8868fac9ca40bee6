#include "cli/tree_view.hpp"

#include <array>
#include <chrono>
#include <ctime>
#include <vector>

#include "cli/duration_text.hpp"
#include "cli/node_fields.hpp"

namespace otpd::ctl {
namespace {

struct Glyphs {
  std::string_view branch, last, through, after_last;
};

constexpr Glyphs kUnicode{"├─ ", "└─ ", "│  ", "   "};
constexpr Glyphs kAscii{"|- ", "`- ", "|  ", "   "};

// The columns, in the order they are shown; the last one is free text.
enum Column : std::size_t { label, kind, state, pid, uptime, restarts, notes, column_count };

struct Row {
  std::array<std::string, column_count> cells;
  std::string state_word;  // cells[state] before padding, to colour it afterwards
};

// Terminal columns taken by UTF-8 text: one per code point, which holds for
// the glyphs and for the names people give their children.
std::size_t columns_of(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

bool is_supervisor(const Json& node) {
  return text_field(node, "kind") == "supervisor" ||
         (node.is_object() && node.contains("children"));
}

// "14:03:27" for a time in ms since the epoch, in local time; the date too
// when it is not today.
std::string clock_time(std::int64_t epoch_ms) {
  const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  const std::time_t now = std::time(nullptr);
  std::tm at{}, today{};
  localtime_r(&seconds, &at);
  localtime_r(&now, &today);
  char text[32];
  const bool same_day = at.tm_yday == today.tm_yday && at.tm_year == today.tm_year;
  std::strftime(text, sizeof text, same_day ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &at);
  return text;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string notes_of(const Json& node, const std::string& state_word) {
  std::vector<std::string> notes;
  if (bool_field(node, "held")) notes.push_back("held by otpctl stop");
  if (auto text = text_field(node, "status_text")) notes.push_back("\"" + *text + "\"");
  if (auto main_pid = int_field(node, "main_pid")) {
    notes.push_back("main pid " + std::to_string(*main_pid));
  }
  if (bool_field(node, "announced_stopping")) notes.push_back("announced STOPPING=1");
  const auto restarts = int_field(node, "restarts").value_or(0);
  if (auto due = int_field(node, "next_restart_at_ms")) {
    notes.push_back("restart at " + clock_time(*due) + " (in " +
                    format_exact(std::max<std::int64_t>(0, *due - now_ms())) + ")");
  }
  if (node.is_object() && node.contains("last_exit") && (state_word != "running" || restarts > 0)) {
    if (auto reason = exit_reason(node["last_exit"])) {
      const auto at = int_field(node, "last_exit_at_ms");
      const auto why = text_field(node["last_exit"], "stopped_for");
      notes.push_back("last exit" + (at ? " at " + clock_time(*at) : std::string()) + ": " +
                      *reason + (why ? " (" + *why + ")" : ""));
    }
  }
  if (auto health = text_field(node, "health")) notes.push_back("health: " + *health);
  if (auto cron = text_field(node, "cron")) notes.push_back("cron: " + *cron);
  if (auto next = int_field(node, "next_run_at_ms")) {
    notes.push_back("next run at " + clock_time(*next) + " (in " +
                    format_exact(std::max<std::int64_t>(0, *next - now_ms())) + ")");
  }
  if (is_supervisor(node)) {
    const auto limit = int_field(node, "intensity");
    if (limit) {
      std::string intensity = "intensity " +
                              std::to_string(int_field(node, "intensity_used").value_or(0)) + "/" +
                              std::to_string(*limit);
      if (auto period = int_field(node, "period_ms")) intensity += " per " + format_exact(*period);
      notes.push_back(std::move(intensity));
    }
  }
  std::string joined;
  for (const std::string& note : notes) joined += (joined.empty() ? "" : ", ") + note;
  return joined;
}

Row row_of(const Json& node, std::string label_text) {
  Row row;
  row.cells[label] = std::move(label_text);
  if (is_supervisor(node)) {
    // A dynamic supervisor is always one_for_one; what sets it apart is
    // that its children come and go.
    row.cells[kind] = bool_field(node, "dynamic")
                          ? "dynamic"
                          : text_field(node, "strategy").value_or("supervisor");
  } else if (auto worker_kind = text_field(node, "worker_kind")) {
    row.cells[kind] = *worker_kind;  // an in-process worker: agent, health_check, ...
  } else {
    row.cells[kind] = text_field(node, "kind").value_or("process");
  }
  row.state_word = text_field(node, "state").value_or("unknown");
  row.cells[state] = row.state_word;
  if (auto p = int_field(node, "pid"); p && *p > 0) row.cells[pid] = "pid " + std::to_string(*p);
  if (auto up = int_field(node, "uptime_ms")) row.cells[uptime] = "up " + format_uptime(*up);
  if (auto n = int_field(node, "restarts")) row.cells[restarts] = "restarts " + std::to_string(*n);
  row.cells[notes] = notes_of(node, row.state_word);
  return row;
}

void collect(const Json& node, const std::string& prefix, const Glyphs& glyphs,
             std::vector<Row>& rows) {
  const auto found = node.is_object() ? node.find("children") : node.end();
  if (found == node.end() || !found->is_array()) return;
  const Json& children = *found;
  for (std::size_t i = 0; i < children.size(); ++i) {
    const bool last = i + 1 == children.size();
    const Json& child = children[i];
    const std::string name =
        text_field(child, "name").value_or(text_field(child, "path").value_or("?"));
    rows.push_back(row_of(child, prefix + std::string(last ? glyphs.last : glyphs.branch) + name));
    collect(child, prefix + std::string(last ? glyphs.after_last : glyphs.through), glyphs, rows);
  }
}

}  // namespace

std::string render_tree(const Json& node, const Style& style) {
  const Glyphs& glyphs = style.unicode ? kUnicode : kAscii;
  std::vector<Row> rows;
  rows.push_back(row_of(node, text_field(node, "path").value_or("/")));
  collect(node, "", glyphs, rows);

  std::array<std::size_t, column_count> width{};
  for (const Row& row : rows) {
    for (std::size_t c = 0; c < column_count; ++c) {
      width[c] = std::max(width[c], columns_of(row.cells[c]));
    }
  }
  std::string out;
  for (const Row& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < column_count; ++c) {
      if (width[c] == 0) continue;  // a column no row uses takes no room
      if (!line.empty()) line += "  ";
      const std::size_t padding = width[c] - columns_of(row.cells[c]);
      line += c == state ? paint(row.cells[c], tone_of_state(row.state_word), style) : row.cells[c];
      line.append(padding, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace otpd::ctl
