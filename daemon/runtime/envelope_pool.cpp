#include "runtime/envelope_pool.hpp"

#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

namespace otpd::runtime {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kPooled = false;
#else
constexpr bool kPooled = true;
#endif

constexpr std::size_t kSlabSize = 64 * 1024;
constexpr std::size_t kAlignment = alignof(std::max_align_t);
constexpr std::size_t kCachedSlabsMax = 64;  // 4 MiB kept for the next burst
// The live count of a slab still being filled: far above any real count, so
// that frees cannot bring it to zero before its thread seals it.
constexpr std::int64_t kOpen = std::int64_t{1} << 40;

// At the start of every slab, on a cache line of its own: the receivers'
// frees hammer it while the sender fills the rest.
struct alignas(64) SlabHeader {
  std::atomic<std::int64_t> live{kOpen};
};
constexpr std::size_t kHeaderSize = sizeof(SlabHeader);

struct SlabCache {
  SlabCache() { free.reserve(kCachedSlabsMax); }
  std::mutex mutex;
  std::vector<void*> free;
  std::atomic<std::size_t> in_use{0};
};

// Never destroyed: threads may still free envelopes while the program exits.
SlabCache& cache() {
  static SlabCache* const instance = new SlabCache;
  return *instance;
}

// Aligned to its size, so that a block finds its slab by masking its address:
// map twice as much and trim both ends.
void* map_slab() {
  void* raw =
      mmap(nullptr, 2 * kSlabSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const auto slab = (start + kSlabSize - 1) & ~(kSlabSize - 1);
  if (slab > start) munmap(raw, slab - start);
  const auto mapped_end = start + 2 * kSlabSize;
  if (mapped_end > slab + kSlabSize) {
    munmap(reinterpret_cast<void*>(slab + kSlabSize), mapped_end - (slab + kSlabSize));
  }
  // A fresh slab is about to be filled front to back: one call faults it all
  // in, instead of one page fault per page (a no-op on kernels before 5.14).
  madvise(reinterpret_cast<void*>(slab), kSlabSize, MADV_POPULATE_WRITE);
  return reinterpret_cast<void*>(slab);
}

SlabHeader* take_slab() {
  SlabCache& c = cache();
  void* memory = nullptr;
  {
    std::lock_guard lock(c.mutex);
    if (!c.free.empty()) {
      memory = c.free.back();
      c.free.pop_back();
    }
  }
  if (memory == nullptr) memory = map_slab();
  c.in_use.fetch_add(1, std::memory_order_relaxed);
  return new (memory) SlabHeader;
}

void release_slab(SlabHeader* slab) noexcept {
  SlabCache& c = cache();
  slab->~SlabHeader();
  c.in_use.fetch_sub(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(c.mutex);
    if (c.free.size() < kCachedSlabsMax) {
      c.free.push_back(slab);  // within the reserved capacity: cannot throw
      return;
    }
  }
  munmap(slab, kSlabSize);
}

// The slab this thread is filling.
struct ThreadSlab {
  SlabHeader* slab = nullptr;
  std::size_t used = 0;     // bytes handed out, header included
  std::int64_t blocks = 0;  // envelopes handed out

  ThreadSlab() = default;
  ThreadSlab(const ThreadSlab&) = delete;
  ThreadSlab& operator=(const ThreadSlab&) = delete;
  ~ThreadSlab() { seal(); }

  // From now on only frees change the count: the last one releases it.
  void seal() noexcept {
    if (slab == nullptr) return;
    const std::int64_t never_allocated = kOpen - blocks;
    if (slab->live.fetch_sub(never_allocated, std::memory_order_acq_rel) == never_allocated) {
      release_slab(slab);
    }
    slab = nullptr;
  }

  void* allocate(std::size_t size) {
    size = (size + kAlignment - 1) & ~(kAlignment - 1);
    if (slab == nullptr || used + size > kSlabSize) {
      seal();
      slab = take_slab();
      used = kHeaderSize;
      blocks = 0;
    }
    void* block = reinterpret_cast<char*>(slab) + used;
    used += size;
    ++blocks;
    return block;
  }
};

thread_local ThreadSlab this_thread_slab;

}  // namespace

void* allocate_envelope(std::size_t size) {
  if (!kPooled || size > kMaxPooledEnvelope) return ::operator new(size);
  return this_thread_slab.allocate(size);
}

void free_envelope(void* block, std::size_t size) noexcept {
  if (!kPooled || size > kMaxPooledEnvelope) {
    ::operator delete(block, size);
    return;
  }
  auto* slab =
      reinterpret_cast<SlabHeader*>(reinterpret_cast<std::uintptr_t>(block) & ~(kSlabSize - 1));
  if (slab->live.fetch_sub(1, std::memory_order_acq_rel) == 1) release_slab(slab);
}

bool envelope_pool_enabled() {
  return kPooled;
}

EnvelopePoolStats envelope_pool_stats() {
  SlabCache& c = cache();
  std::lock_guard lock(c.mutex);
  return {.cached_slabs = c.free.size(), .slabs_in_use = c.in_use.load(std::memory_order_relaxed)};
}

}  // namespace otpd::runtime
