#include "runtime/thread_pool.hpp"

#include <chrono>

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
// Spin before sleeping, by the clock. Ops of one run follow each other within microseconds, and waking a
// sleeping thread costs far more than most of them take: on a virtual machine an idle vCPU needs milliseconds
// to be rescheduled (measured here: a caller that slept after 70 us of spinning put 2.4 ms on the p90 of a
// 0.4 ms run). A worker keeps spinning 2 ms after its last task, so between the frames of a 10-100 Hz loop it
// sleeps; the caller spins up to 20 ms for a worker that is still inside a task.
using Clock = std::chrono::steady_clock;
constexpr auto kWorkerSpin = std::chrono::milliseconds(2);
constexpr auto kCallerSpin = std::chrono::milliseconds(20);

// Spin until done() or `limit` has passed; true if done.
template <typename Done>
bool spin_until(Done done, Clock::duration limit) {
  const Clock::time_point start = Clock::now();
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      WV_CPU_RELAX();
    }
    if (Clock::now() - start > limit) return done();
  }
}

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
  if (spin_until([&] { return done_.load(std::memory_order_acquire) == tasks; }, kCallerSpin)) return;
  std::unique_lock<std::mutex> lock(mutex_);
  caller_waiting_ = true;
  finished_.wait(lock, [&] { return done_.load(std::memory_order_acquire) == tasks; });
  caller_waiting_ = false;
}

void ThreadPool::worker_main(int slot) {
  uint32_t seen = 0;
  for (;;) {
    uint32_t g = seen;
    spin_until([&] { return (g = gen_of(state_.load(std::memory_order_acquire))) != seen; }, kWorkerSpin);
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
