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
  void drain(int slot);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;      // workers sleep here between ops
  std::condition_variable finished_;  // the caller sleeps here when workers are slow to finish
  bool caller_waiting_ = false;       // guarded by mutex_
  std::atomic<uint64_t> generation_{0};
  std::atomic<int64_t> next_{0};
  std::atomic<int> busy_{0};
  std::atomic<bool> stop_{false};
  int64_t tasks_ = 0;
  Trampoline call_ = nullptr;
  void* ctx_ = nullptr;
};

}  // namespace wv
