// A string that copies share: for the text that every child of a file
// repeats (the file's name in its source location, the directory it runs
// in by default). A 10,000-child tree would otherwise hold 10,000 copies of
// each. Reads as a const std::string; immutable.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace otpd::config {

class SharedString {
 public:
  SharedString() = default;
  SharedString(std::string text)  // NOLINT: a string is a string
      : text_(text.empty() ? nullptr : std::make_shared<const std::string>(std::move(text))) {}
  SharedString(const char* text) : SharedString(std::string(text)) {}  // NOLINT

  const std::string& str() const { return text_ ? *text_ : empty_string(); }
  operator const std::string&() const { return str(); }  // NOLINT
  operator std::string_view() const { return str(); }    // NOLINT
  const char* c_str() const { return str().c_str(); }
  bool empty() const { return str().empty(); }
  std::size_t size() const { return str().size(); }

  friend bool operator==(const SharedString& a, const SharedString& b) {
    return a.text_ == b.text_ || a.str() == b.str();
  }
  friend bool operator==(const SharedString& a, const std::string& b) { return a.str() == b; }
  friend bool operator==(const SharedString& a, const char* b) { return a.str() == b; }
  friend std::string operator+(const SharedString& a, const std::string& b) { return a.str() + b; }
  friend std::string operator+(const std::string& a, const SharedString& b) { return a + b.str(); }
  friend std::string operator+(const SharedString& a, const char* b) { return a.str() + b; }
  friend std::string operator+(const char* a, const SharedString& b) { return a + b.str(); }
  friend std::string operator+(const SharedString& a, char b) { return a.str() + b; }
  friend std::ostream& operator<<(std::ostream& out, const SharedString& s) {
    return out << s.str();
  }

 private:
  static const std::string& empty_string() {
    static const std::string empty;
    return empty;
  }

  std::shared_ptr<const std::string> text_;  // null for ""
};

}  // namespace otpd::config
