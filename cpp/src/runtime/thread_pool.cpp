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
}  // namespace

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_main(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::drain(int slot) {
  for (;;) {
    const int64_t i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i >= tasks_) return;
    call_(ctx_, i, slot);
  }
}

void ThreadPool::run_tasks(int64_t tasks, Trampoline call, void* ctx) {
  tasks_ = tasks;
  call_ = call;
  ctx_ = ctx;
  next_.store(0, std::memory_order_relaxed);
  busy_.store(int(workers_.size()), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);  // publishes the task fields above
  }
  wake_.notify_all();
  drain(0);
  // Every worker reports once per generation, after its last task: then the outputs are complete and the
  // task fields may be reused. Spin briefly (the usual case: workers finish with the caller), then sleep, so
  // that an oversubscribed machine does not burn the core a descheduled worker needs.
  for (int spin = 0; spin < kSpinRounds; ++spin)
    if (busy_.load(std::memory_order_acquire) == 0) return;
    else WV_CPU_RELAX();
  std::unique_lock<std::mutex> lock(mutex_);
  caller_waiting_ = true;
  finished_.wait(lock, [&] { return busy_.load(std::memory_order_acquire) == 0; });
  caller_waiting_ = false;
}

void ThreadPool::worker_main(int slot) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t g = generation_.load(std::memory_order_acquire);
    for (int spin = 0; g == seen && spin < kSpinRounds; ++spin) {
      WV_CPU_RELAX();
      g = generation_.load(std::memory_order_acquire);
    }
    if (g == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      g = generation_.load(std::memory_order_acquire);
    }
    seen = g;
    if (stop_.load()) return;
    drain(slot);
    if (busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) {  // the last worker out wakes a sleeping caller
      std::lock_guard<std::mutex> lock(mutex_);
      if (caller_waiting_) finished_.notify_one();
    }
  }
}

}  // namespace wv
