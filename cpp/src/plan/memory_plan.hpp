// Ahead-of-time arena layout: every activation and every op's scratch gets an offset, chosen so
// that buffers whose lifetimes overlap never share bytes ("greedy by size", as TFLite plans it).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace wv {

// One buffer to place: alive from op `first` to op `last` inclusive.
struct Lifetime {
  size_t bytes = 0;
  int first = 0;
  int last = 0;
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // one per Lifetime, 64-byte aligned
  size_t arena_bytes = 0;       // planned size
  size_t naive_bytes = 0;       // sum of every buffer's aligned size
};

// Deterministic: the same lifetimes always give the same offsets.
MemoryPlan plan_memory(const std::vector<Lifetime>& buffers, size_t alignment = 64);

}  // namespace wv
