// A value kept on the heap, for the parts of a spec most children leave at
// their defaults: a box that was never written costs a pointer and reads
// as a default T. Copies are deep, and two boxes are equal when their
// values are, so a spec that holds one still compares whole (config/diff).
#pragma once

#include <memory>
#include <utility>

namespace otpd::config {

template <typename T>
class Boxed {
 public:
  Boxed() = default;
  Boxed(T value) : value_(std::make_unique<T>(std::move(value))) {}  // NOLINT: a box of T is a T
  Boxed(const Boxed& other) : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(const Boxed& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;
  Boxed& operator=(T value) {
    edit() = std::move(value);
    return *this;
  }
  ~Boxed() = default;

  const T& operator*() const { return value_ ? *value_ : fallback(); }
  const T* operator->() const { return &**this; }
  // The value, to change it; a box that was never written gets one now.
  T& edit() {
    if (!value_) value_ = std::make_unique<T>();
    return *value_;
  }
  bool operator==(const Boxed& other) const { return **this == *other; }

 private:
  static const T& fallback() {
    static const T value{};
    return value;
  }

  std::unique_ptr<T> value_;
};

}  // namespace otpd::config
