// A Session: one execution context of an Engine. Owns its arena; every pointer an op needs is bound
// at creation, so run() only walks the plan and allocates nothing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/status.hpp"
#include "kernels/cuda/executor.hpp"
#include "runtime/engine.hpp"
#include "runtime/thread_pool.hpp"

namespace wv {

// How a session runs. Defaults: one thread (the caller's), the behaviour every integrator gets unless asked.
struct SessionOptions {
  int threads = 1;  // intra-op threads including the caller's, 1..kMaxThreads (CPU sessions)
  enum class Device { cpu, cuda } device = Device::cpu;
  int device_index = 0;  // which CUDA device (ordinal), for Device::cuda
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
  // The CUDA device this session runs on, or -1 for the CPU.
  int cuda_device() const { return device_ ? device_->device() : -1; }
  int threads() const { return pool_->threads(); }
  // Copy graph input `index` in; `bytes` must match its spec exactly.
  Status set_input(int index, const void* data, size_t bytes);
  // Check float inputs are finite, then execute every op in order.
  Status run();
  // Output `index` of the last run; valid until the next run.
  const void* output(int index) const;
  // Restore what a new session has: arena and inputs zeroed, recurrent state at its zero point.
  Status reset();
  // Per-op timing of the runs that follow (off by default; switching clears the totals). CPU sessions only: a CUDA
  // session runs the plan as one graph (Code::unsupported).
  Status set_profiling(bool enabled);
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
  std::unique_ptr<cuda::DeviceSession> device_;  // set for CUDA sessions; then the CPU arena is not allocated
};

}  // namespace wv
