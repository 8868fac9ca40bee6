// A list that costs one pointer while it is empty, for the lists of a spec
// that most children leave empty (exit codes, rlimits, env files): a
// 10,000-child tree keeps a spec per child, and a std::vector is three
// pointers even when empty. Reads like a vector (iterators are pointers);
// copies are deep, and two lists are equal when their elements are.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

namespace otpd::config {

template <typename T>
class LeanVector {
 public:
  LeanVector() = default;
  LeanVector(std::vector<T> items) { assign(std::move(items)); }  // NOLINT: a list is a list
  LeanVector(std::initializer_list<T> items) : LeanVector(std::vector<T>(items)) {}
  LeanVector(const LeanVector& other)
      : items_(other.items_ ? std::make_unique<std::vector<T>>(*other.items_) : nullptr) {}
  LeanVector(LeanVector&&) noexcept = default;
  LeanVector& operator=(const LeanVector& other) {
    if (this != &other) {
      items_ = other.items_ ? std::make_unique<std::vector<T>>(*other.items_) : nullptr;
    }
    return *this;
  }
  LeanVector& operator=(LeanVector&&) noexcept = default;
  LeanVector& operator=(std::vector<T> items) {
    assign(std::move(items));
    return *this;
  }
  LeanVector& operator=(std::initializer_list<T> items) { return *this = std::vector<T>(items); }
  ~LeanVector() = default;

  // A copy as a std::vector, for code that wants one.
  operator std::vector<T>() const { return items_ ? *items_ : std::vector<T>(); }  // NOLINT

  bool empty() const { return !items_; }
  std::size_t size() const { return items_ ? items_->size() : 0; }
  T* begin() { return items_ ? items_->data() : nullptr; }
  T* end() { return begin() + size(); }
  const T* begin() const { return items_ ? items_->data() : nullptr; }
  const T* end() const { return begin() + size(); }
  const T& operator[](std::size_t i) const { return (*items_)[i]; }
  T& operator[](std::size_t i) { return (*items_)[i]; }
  const T& at(std::size_t i) const {
    if (i >= size()) throw std::out_of_range("LeanVector::at");
    return (*items_)[i];
  }
  const T& front() const { return items_->front(); }
  const T& back() const { return items_->back(); }

  void push_back(T item) { made().push_back(std::move(item)); }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    return made().emplace_back(std::forward<Args>(args)...);
  }
  // Appends [first, last); `at` must be end().
  template <typename It>
  void insert(const T* at, It first, It last) {
    if (at != end()) throw std::logic_error("LeanVector::insert only appends");
    if (first == last) return;
    made().insert(made().end(), first, last);
  }
  void clear() { items_.reset(); }

  bool operator==(const LeanVector& other) const {
    return size() == other.size() && std::equal(begin(), end(), other.begin());
  }
  bool operator==(const std::vector<T>& other) const {
    return size() == other.size() && std::equal(begin(), end(), other.begin());
  }

 private:
  std::vector<T>& made() {
    if (!items_) items_ = std::make_unique<std::vector<T>>();
    return *items_;
  }
  void assign(std::vector<T> items) {
    if (items.empty()) {
      items_.reset();
    } else {
      items_ = std::make_unique<std::vector<T>>(std::move(items));
      items_->shrink_to_fit();
    }
  }

  std::unique_ptr<std::vector<T>> items_;  // null while empty
};

}  // namespace otpd::config
