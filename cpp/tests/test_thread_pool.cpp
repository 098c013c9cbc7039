// The session's thread pool: every task of every call runs exactly once, on a valid thread slot, whatever the
// thread count; calls follow each other back to back (the pattern of one run's ops) and after idle gaps long
// enough for the workers to sleep; destruction joins cleanly.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "check.hpp"
#include "runtime/thread_pool.hpp"

namespace {

void test_every_task_runs_once(int threads) {
  wv::ThreadPool pool(threads);
  WV_CHECK_EQ(pool.threads(), threads);
  std::vector<std::atomic<int>> hits(1000);
  std::atomic<int> bad_slot{0};
  for (int64_t tasks : {1, 2, 3, 7, 64, 999, 1000}) {
    for (auto& h : hits) h.store(0);
    pool.parallel_for(tasks, [&](int64_t i, int slot) {
      if (slot < 0 || slot >= threads) bad_slot.fetch_add(1);
      hits[size_t(i)].fetch_add(1);
    });
    for (int64_t i = 0; i < 1000; ++i)
      WV_CHECK_MSG(hits[size_t(i)].load() == (i < tasks ? 1 : 0),
                   "threads=" + std::to_string(threads) + " tasks=" + std::to_string(tasks) + " task " +
                       std::to_string(i) + " ran " + std::to_string(hits[size_t(i)].load()) + " times");
  }
  WV_CHECK_EQ(bad_slot.load(), 0);
}

// Thousands of small back-to-back calls (one run's ops), each writing disjoint outputs: the sums come out
// exact, and the caller never returns before a worker's task is done.
void test_back_to_back_calls_complete_before_returning(int threads) {
  wv::ThreadPool pool(threads);
  std::vector<int64_t> out(64);
  int64_t expect = 0;
  for (int call = 0; call < 3000; ++call) {
    const int64_t tasks = 1 + call % 16;
    pool.parallel_for(tasks, [&](int64_t i, int) { out[size_t(i)] += i + call; });
    for (int64_t i = 0; i < tasks; ++i) expect += i + call;
  }
  int64_t got = 0;
  for (int64_t v : out) got += v;
  WV_CHECK_EQ(got, expect);
}

// Idle gaps longer than the workers' spin: they sleep and must wake for the next call.
void test_calls_after_idle_gaps_wake_the_workers() {
  wv::ThreadPool pool(3);
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
    std::atomic<int> ran{0};
    std::atomic<int> other_threads{0};
    pool.parallel_for(48, [&](int64_t, int slot) {
      ran.fetch_add(1);
      if (slot != 0) other_threads.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::microseconds(200));  // long tasks: the workers get some
    });
    WV_CHECK_EQ(ran.load(), 48);
    WV_CHECK(other_threads.load() > 0);
  }
}

void test_pools_are_created_and_destroyed_repeatedly() {
  for (int i = 0; i < 50; ++i) {
    wv::ThreadPool pool(1 + i % 4);
    int64_t sum = 0;
    std::vector<int64_t> part(8, 0);
    pool.parallel_for(8, [&](int64_t t, int) { part[size_t(t)] = t; });
    for (int64_t v : part) sum += v;
    WV_CHECK_EQ(sum, int64_t(28));
  }
}

}  // namespace

int main() {
  for (int threads : {1, 2, 3, 8}) {
    test_every_task_runs_once(threads);
    test_back_to_back_calls_complete_before_returning(threads);
  }
  test_calls_after_idle_gaps_wake_the_workers();
  test_pools_are_created_and_destroyed_repeatedly();
  return wv_test_exit_code();
}
