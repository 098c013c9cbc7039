// The intra-op thread pool a session owns: persistent workers that split one op's tiles with the caller, for
// batch-1 latency. Work is handed out in fixed tasks whose outputs never overlap, so results do not depend on
// which thread ran which task, or on how many threads there are.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace wv {

class ThreadPool {
 public:
  // `threads` counts the caller: threads - 1 workers are started (none for 1).
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return int(workers_.size()) + 1; }

  // Calls fn(task, thread) for every task in [0, tasks) and returns when all are done; `thread` < threads()
  // names the calling thread's slot (for per-thread scratch). Allocation-free; not reentrant.
  template <typename Fn>
  void parallel_for(int64_t tasks, Fn&& fn) {
    if (tasks <= 0) return;
    if (workers_.empty() || tasks == 1) {
      for (int64_t i = 0; i < tasks; ++i) fn(i, 0);
      return;
    }
    run_tasks(tasks, [](void* ctx, int64_t task, int thread) { (*static_cast<Fn*>(ctx))(task, thread); }, &fn);
  }

 private:
  using Trampoline = void (*)(void*, int64_t, int);
  void run_tasks(int64_t tasks, Trampoline call, void* ctx);
  void worker_main(int slot);
  // Claims and runs tasks of generation `gen` until none is left; a worker that wakes late for a generation the
  // caller already finished claims nothing, so nobody ever waits on a thread the OS has not scheduled.
  void drain(uint32_t gen, int slot);

  // The task counter: generation (high 32 bits), next task (16 bits), task count (low 16 bits), claimed by CAS.
  static constexpr int64_t kMaxTasksPerRound = 0xFFFF;
  std::atomic<uint64_t> state_{0};
  std::atomic<int64_t> done_{0};
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;      // workers sleep here between ops
  std::condition_variable finished_;  // the caller sleeps here when a worker still runs a task
  bool caller_waiting_ = false;       // guarded by mutex_
  std::atomic<bool> stop_{false};     // set under mutex_ (so a sleeping worker cannot miss it)
  Trampoline call_ = nullptr;         // valid while a task of the current generation is unfinished
  void* ctx_ = nullptr;
};

}  // namespace wv
