// Arena planner: overlapping lifetimes never share bytes, offsets are aligned, the plan is deterministic,
// and sharing actually happens (a chain needs two buffers' worth, not all of them).
#include <random>
#include <vector>

#include "check.hpp"
#include "plan/memory_plan.hpp"

using wv::Lifetime;
using wv::MemoryPlan;
using wv::plan_memory;

namespace {

void check_valid(const std::vector<Lifetime>& bufs, const MemoryPlan& p) {
  for (size_t i = 0; i < bufs.size(); ++i) {
    WV_CHECK(p.offsets[i] % 64 == 0);
    WV_CHECK(p.offsets[i] + bufs[i].bytes <= p.arena_bytes);
    for (size_t j = i + 1; j < bufs.size(); ++j) {
      const bool live_together = bufs[i].first <= bufs[j].last && bufs[j].first <= bufs[i].last;
      const bool bytes_overlap = bufs[i].bytes && bufs[j].bytes && p.offsets[i] < p.offsets[j] + bufs[j].bytes &&
                                 p.offsets[j] < p.offsets[i] + bufs[i].bytes;
      WV_CHECK_MSG(!(live_together && bytes_overlap), "buffers " + std::to_string(i) + " and " + std::to_string(j) + " overlap");
    }
  }
}

void test_chain_reuses_memory() {
  // a -> b -> c -> d: each buffer lives across one op boundary, so two slots suffice.
  std::vector<Lifetime> bufs = {{1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}, {1000, 3, 4}};
  MemoryPlan p = plan_memory(bufs);
  check_valid(bufs, p);
  WV_CHECK_EQ(p.naive_bytes, size_t(4 * 1024));
  WV_CHECK_EQ(p.arena_bytes, size_t(2 * 1024));
}

void test_random_lifetimes_never_overlap_and_are_deterministic() {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<Lifetime> bufs;
    const int n = 1 + int(rng() % 40);
    for (int i = 0; i < n; ++i) {
      int a = int(rng() % 30), b = a + int(rng() % 8);
      bufs.push_back({size_t(rng() % 5000), a, b});
    }
    MemoryPlan p = plan_memory(bufs);
    check_valid(bufs, p);
    WV_CHECK(p.arena_bytes <= p.naive_bytes);
    MemoryPlan q = plan_memory(bufs);
    WV_CHECK(p.offsets == q.offsets);
  }
}

void test_empty_plan() {
  MemoryPlan p = plan_memory({});
  WV_CHECK_EQ(p.arena_bytes, size_t(0));
}

}  // namespace

int main() {
  test_chain_reuses_memory();
  test_random_lifetimes_never_overlap_and_are_deterministic();
  test_empty_plan();
  return wv_test_exit_code();
}
