#include "runtime/thread_pool.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define WV_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define WV_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define WV_CPU_RELAX() ((void)0)
#endif

namespace wv {
namespace {
// A worker spins this many rounds (tens of microseconds) for the next op before it sleeps: ops of one run
// follow each other within microseconds, and a futex wake costs more than most of them take.
constexpr int kSpinRounds = 4000;

inline uint32_t gen_of(uint64_t s) { return uint32_t(s >> 32); }
inline int64_t next_of(uint64_t s) { return int64_t((s >> 16) & 0xFFFF); }
inline int64_t count_of(uint64_t s) { return int64_t(s & 0xFFFF); }
}  // namespace

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_main(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true, std::memory_order_release);
    state_.store((uint64_t(gen_of(state_.load()) + 1) << 32), std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::drain(uint32_t gen, int slot) {
  uint64_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    if (gen_of(s) != gen || next_of(s) >= count_of(s)) return;
    if (!state_.compare_exchange_weak(s, s + (uint64_t(1) << 16), std::memory_order_acq_rel,
                                      std::memory_order_acquire))
      continue;  // s was reloaded
    call_(ctx_, next_of(s), slot);
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == count_of(s)) {  // the last task wakes a sleeping caller
      std::lock_guard<std::mutex> lock(mutex_);
      if (caller_waiting_) finished_.notify_one();
    }
    s = state_.load(std::memory_order_acquire);
  }
}

void ThreadPool::run_tasks(int64_t tasks, Trampoline call, void* ctx) {
  if (tasks > kMaxTasksPerRound) {  // never in practice (drivers cut work into a few tasks per thread)
    for (int64_t i = 0; i < tasks; ++i) call(ctx, i, 0);
    return;
  }
  call_ = call;
  ctx_ = ctx;
  done_.store(0, std::memory_order_relaxed);
  const uint32_t gen = gen_of(state_.load(std::memory_order_relaxed)) + 1;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    state_.store((uint64_t(gen) << 32) | uint64_t(tasks), std::memory_order_release);  // publishes call_ and ctx_
  }
  wake_.notify_all();
  drain(gen, 0);
  // Wait until every task has finished (not for every worker to check in: a descheduled one may hold none).
  for (int spin = 0; spin < kSpinRounds; ++spin) {
    if (done_.load(std::memory_order_acquire) == tasks) return;
    WV_CPU_RELAX();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  caller_waiting_ = true;
  finished_.wait(lock, [&] { return done_.load(std::memory_order_acquire) == tasks; });
  caller_waiting_ = false;
}

void ThreadPool::worker_main(int slot) {
  uint32_t seen = 0;
  for (;;) {
    uint32_t g = gen_of(state_.load(std::memory_order_acquire));
    for (int spin = 0; g == seen && spin < kSpinRounds; ++spin) {
      WV_CPU_RELAX();
      g = gen_of(state_.load(std::memory_order_acquire));
    }
    if (g == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_.load() || gen_of(state_.load(std::memory_order_acquire)) != seen; });
      if (stop_) return;
      g = gen_of(state_.load(std::memory_order_acquire));
    }
    seen = g;
    if (stop_.load(std::memory_order_acquire)) return;
    drain(g, slot);
  }
}

}  // namespace wv
