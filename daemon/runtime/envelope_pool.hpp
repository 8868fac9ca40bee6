// Memory for messages. A cast is one envelope allocated by the sender and
// freed by the receiver, often on another thread, a few microseconds later:
// general-purpose malloc spends more time on that than the whole send.
//
// Envelopes are carved from 64 KiB slabs by bumping a pointer in a slab
// owned by the allocating thread. A block is never reused on its own; a slab
// counts its live blocks and goes back to a small shared cache once the last
// one is freed. Mailboxes are first in, first out, so slabs empty in the
// order they filled and a steady stream of messages recycles a handful of
// warm slabs.
//
// Under AddressSanitizer and ThreadSanitizer envelopes come from the general
// allocator instead, so that the sanitizers see each one.
#pragma once

#include <cstddef>

namespace otpd::runtime {

// Any thread. Sizes above kMaxPooledEnvelope go to operator new.
void* allocate_envelope(std::size_t size);
// Any thread; `size` is the one given to allocate_envelope.
void free_envelope(void* block, std::size_t size) noexcept;

inline constexpr std::size_t kMaxPooledEnvelope = 512;

// Slabs not in use, held for reuse (bounded) and slabs holding live
// envelopes: for tests and benchmarks.
struct EnvelopePoolStats {
  std::size_t cached_slabs = 0;
  std::size_t slabs_in_use = 0;
};
EnvelopePoolStats envelope_pool_stats();
// False under the sanitizers, where every envelope is an operator new.
bool envelope_pool_enabled();

}  // namespace otpd::runtime
