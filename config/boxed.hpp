// A value kept on the heap, for the parts of a spec most children leave at
// their defaults: a box that was never written costs a pointer and reads
// as a default T. Copies are deep, and two boxes are equal when their
// values are, so a spec that holds one still compares whole (config/diff).
#pragma once

#include <memory>
#include <optional>
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

// An optional value kept on the heap: a pointer while it is not set. Reads
// like std::optional; copies are deep.
template <typename T>
class BoxedOptional {
 public:
  BoxedOptional() = default;
  BoxedOptional(std::nullopt_t) {}                                           // NOLINT
  BoxedOptional(T value) : value_(std::make_unique<T>(std::move(value))) {}  // NOLINT
  BoxedOptional(const std::optional<T>& value)                               // NOLINT
      : value_(value ? std::make_unique<T>(*value) : nullptr) {}
  BoxedOptional(const BoxedOptional& other)
      : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  BoxedOptional(BoxedOptional&&) noexcept = default;
  BoxedOptional& operator=(const BoxedOptional& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  BoxedOptional& operator=(BoxedOptional&&) noexcept = default;
  ~BoxedOptional() = default;

  bool has_value() const { return value_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  const T& operator*() const { return *value_; }
  const T* operator->() const { return value_.get(); }
  T& operator*() { return *value_; }
  T* operator->() { return value_.get(); }
  void reset() { value_.reset(); }
  bool operator==(const BoxedOptional& other) const {
    return value_ == other.value_ || (value_ && other.value_ && *value_ == *other.value_);
  }

 private:
  std::unique_ptr<T> value_;
};

}  // namespace otpd::config
