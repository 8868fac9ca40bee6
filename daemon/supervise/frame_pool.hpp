// Coroutine frames of the supervisor's jobs and steps, kept for reuse.
//
// A restart runs four or five coroutines (the job, handle_exit, restart,
// start_child, ...), each a heap frame of 0.2-1 KB freed moments later; the
// same sizes come back at the next restart. Each thread keeps a few freed
// frames per size class and hands them out again, so a restart costs no
// malloc for its frames. Bounded: at most kKeptPerClass frames per class
// and thread, anything larger than kLargest goes to the global allocator.
// A frame freed on another thread than the one it came from (a runtime
// process that moved between workers) simply joins that thread's list.
//
// Under AddressSanitizer every frame is a fresh allocation, so that a use
// of a finished frame is still caught.
#pragma once

#include <array>
#include <cstddef>
#include <new>

namespace otpd::supervise {

#if defined(__SANITIZE_ADDRESS__)
#define OTPD_FRAME_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OTPD_FRAME_POOL 0
#endif
#endif
#ifndef OTPD_FRAME_POOL
#define OTPD_FRAME_POOL 1
#endif

class FramePool {
 public:
  static constexpr std::size_t kGranule = 128;
  static constexpr std::size_t kLargest = 2048;
  static constexpr std::size_t kKeptPerClass = 16;

  static void* allocate(std::size_t size) {
    if (!OTPD_FRAME_POOL || size > kLargest) return ::operator new(size);
    Class& kept = local().classes[class_of(size)];
    if (kept.count == 0) return ::operator new(rounded(size));
    return kept.frames[--kept.count];
  }

  static void release(void* frame, std::size_t size) noexcept {
    if (!OTPD_FRAME_POOL || size > kLargest) {
      ::operator delete(frame);
      return;
    }
    Class& kept = local().classes[class_of(size)];
    if (kept.count == kKeptPerClass) {
      ::operator delete(frame);
      return;
    }
    kept.frames[kept.count++] = frame;
  }

 private:
  struct Class {
    std::array<void*, kKeptPerClass> frames{};
    std::size_t count = 0;
  };
  struct Lists {
    std::array<Class, kLargest / kGranule> classes{};
    ~Lists() {
      for (Class& kept : classes) {
        for (std::size_t i = 0; i < kept.count; ++i) ::operator delete(kept.frames[i]);
      }
    }
  };

  static std::size_t class_of(std::size_t size) { return (size - 1) / kGranule; }
  static std::size_t rounded(std::size_t size) { return (class_of(size) + 1) * kGranule; }
  static Lists& local() {
    thread_local Lists lists;
    return lists;
  }
};

// Mixed into a promise type: its coroutine's frame comes from the pool.
struct PooledFrame {
  static void* operator new(std::size_t size) { return FramePool::allocate(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    FramePool::release(frame, size);
  }
};

}  // namespace otpd::supervise
