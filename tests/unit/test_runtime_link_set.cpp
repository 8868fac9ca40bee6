// The link set against a reference std::set, through the sizes where it
// changes form (one link in place, a short list, a hash table) and back.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "runtime/link_set.hpp"

using otpd::runtime::LinkSet;

namespace {

// Stands in for Pid: what LinkSet needs of a handle, and like a Pid, empty
// once moved from.
struct Handle {
  const void* address = nullptr;
  Handle() = default;
  explicit Handle(const void* address) : address(address) {}
  Handle(const Handle&) = default;
  Handle(Handle&& other) noexcept : address(std::exchange(other.address, nullptr)) {}
  Handle& operator=(Handle other) noexcept {
    std::swap(address, other.address);
    return *this;
  }
  const void* get() const { return address; }
  explicit operator bool() const { return address != nullptr; }
  bool operator==(const Handle& other) const { return address == other.address; }
};

// Addresses as an allocator hands them out: close together, aligned.
Handle handle(std::uintptr_t n) {
  return Handle(reinterpret_cast<const void*>(0x10000 + 48 * n));
}

std::set<const void*> drained(LinkSet<Handle>& links) {
  std::set<const void*> all;
  links.drain([&](const Handle& h) { CHECK(all.insert(h.get()).second); });
  return all;
}

}  // namespace

TEST_CASE("a link set holds each link once, whatever its size") {
  for (const std::uintptr_t size : {1u, 2u, 16u, 17u, 100u, 5000u}) {
    CAPTURE(size);
    LinkSet<Handle> links;
    std::set<const void*> expected;
    for (std::uintptr_t n = 0; n < size; ++n) {
      links.insert(handle(n));
      links.insert(handle(n));  // a second link to the same process is the same link
      expected.insert(handle(n).get());
    }
    for (std::uintptr_t n = 0; n < size; ++n) CHECK(links.contains(handle(n)));
    CHECK_FALSE(links.contains(handle(size)));
    CHECK(drained(links) == expected);
    CHECK_FALSE(links.contains(handle(0)));
    CHECK(drained(links).empty());
  }
}

TEST_CASE("links added and removed at random agree with a reference set") {
  std::mt19937 random(20261125);
  for (const std::uintptr_t universe : {3u, 20u, 200u, 20000u}) {
    CAPTURE(universe);
    LinkSet<Handle> links;
    std::set<const void*> expected;
    std::uniform_int_distribution<std::uintptr_t> pick(0, universe - 1);
    for (int step = 0; step < 200000; ++step) {
      const Handle h = handle(pick(random));
      // Grow for the first half, then shrink, so that every form is both
      // entered and left.
      const bool add = step < 100000 ? random() % 4 != 0 : random() % 4 == 0;
      if (add) {
        links.insert(h);
        expected.insert(h.get());
      } else {
        CHECK(links.erase(h) == (expected.erase(h.get()) == 1));
      }
      if (step % (universe > 1000 ? 20011 : 997) == 0) {
        for (std::uintptr_t n = 0; n < universe; ++n) {
          if (links.contains(handle(n)) != expected.contains(handle(n).get())) {
            FAIL("link " << n << " disagrees at step " << step);
          }
        }
      }
    }
    CHECK(drained(links) == expected);
  }
}
