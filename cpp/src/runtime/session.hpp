// A Session: one execution context of an Engine. Owns its arena; every pointer an op needs is bound
// at creation, so run() only walks the plan and allocates nothing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/status.hpp"
#include "runtime/engine.hpp"
#include "runtime/thread_pool.hpp"

namespace wv {

// How a session runs. Defaults: one thread (the caller's), the behaviour every integrator gets unless asked.
struct SessionOptions {
  int threads = 1;  // intra-op threads including the caller's, 1..kMaxThreads
  static constexpr int kMaxThreads = 64;
};

class Session {
 public:
  static Result<std::unique_ptr<Session>> create(std::shared_ptr<const Engine> engine,
                                                 const SessionOptions& options = SessionOptions());
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const Engine& engine() const { return *engine_; }
  int threads() const { return pool_->threads(); }
  // Copy graph input `index` in; `bytes` must match its spec exactly.
  Status set_input(int index, const void* data, size_t bytes);
  // Check float inputs are finite, then execute every op in order.
  Status run();
  // Output `index` of the last run; valid until the next run.
  const void* output(int index) const;
  // Restore what a new session has: arena and inputs zeroed, recurrent state at its zero point.
  void reset();
  // Per-op timing of the runs that follow (off by default; switching clears the totals).
  void set_profiling(bool enabled);
  // Wall time op `index` took over the profiled runs, in nanoseconds, and how many runs that is.
  uint64_t op_nanoseconds(int index) const { return op_ns_[size_t(index)]; }
  int64_t profiled_runs() const { return profiled_runs_; }

 private:
  explicit Session(std::shared_ptr<const Engine> engine) : engine_(std::move(engine)) {}
  void* value_ptr(int value) const;

  std::shared_ptr<const Engine> engine_;
  unsigned char* arena_ = nullptr;
  size_t arena_bytes_ = 0;
  std::vector<const void*> in_ptrs_;  // all ops' input slots, concatenated
  std::vector<void*> out_ptrs_;
  std::vector<OpBuffers> bound_;
  std::unique_ptr<ThreadPool> pool_;
  bool profiling_ = false;
  std::vector<uint64_t> op_ns_;  // one per op, sized at creation
  int64_t profiled_runs_ = 0;
  unsigned char* thread_scratch_ = nullptr;
};

}  // namespace wv
