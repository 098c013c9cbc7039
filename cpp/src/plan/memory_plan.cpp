#include "plan/memory_plan.hpp"

#include <algorithm>
#include <numeric>

namespace wv {

MemoryPlan plan_memory(const std::vector<Lifetime>& buffers, size_t alignment) {
  auto align = [&](size_t n) { return (n + alignment - 1) / alignment * alignment; };
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t(0));
  // Largest first; ties by birth then index so the layout never depends on sort stability.
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (buffers[a].bytes != buffers[b].bytes) return buffers[a].bytes > buffers[b].bytes;
    if (buffers[a].first != buffers[b].first) return buffers[a].first < buffers[b].first;
    return a < b;
  });

  std::vector<size_t> placed;  // indices already given an offset
  std::vector<std::pair<size_t, size_t>> busy;  // [begin, end) of placed buffers alive at the same time
  for (size_t id : order) {
    const Lifetime& b = buffers[id];
    size_t need = align(b.bytes);
    plan.naive_bytes += need;
    if (need == 0) continue;
    busy.clear();
    for (size_t p : placed) {
      const Lifetime& o = buffers[p];
      if (o.first <= b.last && b.first <= o.last) busy.emplace_back(plan.offsets[p], plan.offsets[p] + align(o.bytes));
    }
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;  // lowest gap that fits
    for (const auto& [begin, end] : busy) {
      if (begin >= offset + need) break;
      offset = std::max(offset, end);
    }
    plan.offsets[id] = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, offset + need);
    placed.push_back(id);
  }
  return plan;
}

}  // namespace wv
