#include "process/child_env.hpp"

#include <unistd.h>

#include <unordered_map>

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
  // Where each name sits in entries_, so that a spec with thousands of
  // variables costs one pass, not one pass per variable.
  std::unordered_map<std::string_view, std::size_t> slot;
  auto place = [&](char* entry) {
    const std::string_view text(entry);
    const std::string_view name = text.substr(0, text.find('='));
    const auto [found, inserted] = slot.emplace(name, entries_.size());
    if (inserted) {
      entries_.push_back(entry);
    } else {
      entries_[found->second] = entry;
    }
  };
  if (inherit) {
    for (char** entry = environ; *entry != nullptr; ++entry) place(*entry);
  }
  // Reserved up front: the pointers taken below must survive later appends.
  owned_.reserve(overrides.size());
  for (const auto& [name, value] : overrides) {
    owned_.push_back(name + "=" + value);
    place(owned_.back().data());
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
