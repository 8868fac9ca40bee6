#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "runtime/envelope_pool.hpp"

using namespace otpd::runtime;

namespace {

struct Block {
  void* memory;
  std::size_t size;
};

// Fills each block with its own byte, so that two blocks sharing memory
// show up as a wrong byte.
std::vector<Block> allocate_many(std::size_t count, std::mt19937& random) {
  std::uniform_int_distribution<std::size_t> sizes(1, kMaxPooledEnvelope + 64);
  std::vector<Block> blocks;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t size = sizes(random);
    void* memory = allocate_envelope(size);
    std::memset(memory, static_cast<int>(i & 0xff), size);
    blocks.push_back({memory, size});
  }
  return blocks;
}

void check_and_free(const std::vector<Block>& blocks) {
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const auto* bytes = static_cast<const unsigned char*>(blocks[i].memory);
    const bool intact = std::all_of(bytes, bytes + blocks[i].size,
                                    [i](unsigned char b) { return b == (i & 0xff); });
    REQUIRE(intact);
    free_envelope(blocks[i].memory, blocks[i].size);
  }
}

}  // namespace

TEST_CASE("envelopes do not overlap, and every slab comes back once its envelopes are freed") {
  std::mt19937 random(7);
  const std::size_t in_use_before = envelope_pool_stats().slabs_in_use;
  // Allocated on one thread, freed on another, in the order a mailbox
  // frees them; far more than one slab.
  std::vector<Block> blocks = allocate_many(20000, random);
  std::thread receiver([&] { check_and_free(blocks); });
  receiver.join();
  if (envelope_pool_enabled()) {
    // The allocating thread still fills its last slab; nothing else is held.
    CHECK(envelope_pool_stats().slabs_in_use <= in_use_before + 1);
    CHECK(envelope_pool_stats().cached_slabs <= 64);
  }
}

TEST_CASE("a thread that ends gives its slab back once the envelopes it sent are freed") {
  std::mt19937 random(11);
  const std::size_t in_use_before = envelope_pool_stats().slabs_in_use;
  std::vector<Block> blocks;
  std::thread sender([&] { blocks = allocate_many(3000, random); });
  sender.join();
  check_and_free(blocks);
  if (envelope_pool_enabled()) CHECK(envelope_pool_stats().slabs_in_use == in_use_before);
}
