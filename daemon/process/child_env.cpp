#include "process/child_env.hpp"

#include <unistd.h>

#include <algorithm>

namespace otpd::process {
namespace {

bool defines(const char* entry, std::string_view name) {
  return std::string_view(entry).substr(0, name.size()) == name && entry[name.size()] == '=';
}

}  // namespace

ChildEnvironment::ChildEnvironment(const Overrides& overrides, bool inherit) {
  if (overrides.empty() && inherit) return;  // the common case copies nothing
  for (const auto& [name, value] : overrides) {
    if (name.empty() || name.find('=') != std::string::npos) {
      invalid_ = &name;
      return;
    }
  }

  own_ = true;
  if (inherit) {
    for (char** entry = environ; *entry != nullptr; ++entry) entries_.push_back(*entry);
  }
  // Reserved up front: the pointers taken below must survive later appends.
  owned_.reserve(overrides.size());
  for (const auto& [name, value] : overrides) {
    std::erase_if(entries_, [&](const char* entry) { return defines(entry, name); });
    owned_.push_back(name + "=" + value);
    entries_.push_back(owned_.back().data());
  }
  entries_.push_back(nullptr);
}

char* const* ChildEnvironment::envp() const {
  return own_ ? entries_.data() : environ;
}

const char* ChildEnvironment::get(std::string_view name) const {
  for (char* const* entry = envp(); *entry != nullptr; ++entry) {
    if (defines(*entry, name)) return *entry + name.size() + 1;
  }
  return nullptr;
}

}  // namespace otpd::process
