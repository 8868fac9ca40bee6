// Cuts a stream of bytes into lines. Pure (no I/O, no clock), so that the
// rules are unit-tested on their own: a line ends at '\n' (a '\r' before it
// is kept, as are any other bytes, valid UTF-8 or not); a line longer than
// `max_line` bytes is handed out in pieces marked `continued`; the start of
// a line still waiting for its newline is kept until more bytes come or
// flush() hands it out.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace otpd::output {

class LineSplitter {
 public:
  static constexpr std::size_t kMaxLine = 16 * 1024;

  explicit LineSplitter(std::size_t max_line = kMaxLine) : max_line_(max_line) {}

  // Calls piece(text, continued) for each line or piece completed by `bytes`,
  // in order. `text` is valid only during the call.
  template <typename Piece>
  void feed(std::string_view bytes, Piece&& piece) {
    while (!bytes.empty()) {
      const std::size_t room = max_line_ - partial_.size();
      // One byte beyond the room: a newline right at the cut still ends
      // the line, so that a line of exactly max_line bytes is one piece.
      const auto* newline = static_cast<const char*>(
          std::memchr(bytes.data(), '\n', std::min(bytes.size(), room + 1)));
      if (newline != nullptr) {
        const auto length = static_cast<std::size_t>(newline - bytes.data());
        emit(bytes.substr(0, length), /*continued=*/false, piece);
        bytes.remove_prefix(length + 1);
      } else if (bytes.size() > room) {
        // No newline within the longest line: cut here.
        emit(bytes.substr(0, room), /*continued=*/true, piece);
        bytes.remove_prefix(room);
      } else {
        partial_.append(bytes);
        bytes = {};
      }
    }
  }

  // Hands out the bytes still waiting for a newline, if any. `continued`
  // says whether more of the line may follow (true after a pause of the
  // writer; false at the end of the stream).
  template <typename Piece>
  void flush(bool continued, Piece&& piece) {
    if (partial_.empty()) return;
    std::string line;
    line.swap(partial_);
    piece(std::string_view(line), continued);
  }

  bool has_partial() const { return !partial_.empty(); }

 private:
  template <typename Piece>
  void emit(std::string_view tail, bool continued, Piece& piece) {
    if (partial_.empty()) {
      piece(tail, continued);
      return;
    }
    partial_.append(tail);
    std::string line;
    line.swap(partial_);
    piece(std::string_view(line), continued);
  }

  std::size_t max_line_;
  std::string partial_;
};

}  // namespace otpd::output
