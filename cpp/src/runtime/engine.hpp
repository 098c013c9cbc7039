// An Engine: a validated, mapped engine file plus its execution plan. Immutable once loaded, so one
// Engine may serve many sessions on many threads.
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "engine/engine_file.hpp"
#include "engine/graph.hpp"
#include "plan/kernel.hpp"

namespace wv {

class Engine {
 public:
  // Validate the bytes, decode the graph, create every kernel (packing weights) and plan the arena.
  static Result<std::shared_ptr<const Engine>> load(std::unique_ptr<FileBytes> bytes, const std::string& what);

  const Graph& graph() const { return graph_; }
  std::string_view meta_json() const { return {reinterpret_cast<const char*>(file_.meta.data), file_.meta.size}; }
  const std::vector<std::unique_ptr<PreparedOp>>& ops() const { return ops_; }
  // Arena offset of an activation or input value; kNotInArena for constants.
  size_t value_offset(int value) const { return value_offsets_[size_t(value)]; }
  size_t scratch_offset(int op) const { return scratch_offsets_[size_t(op)]; }
  size_t arena_bytes() const { return arena_bytes_; }
  size_t naive_arena_bytes() const { return naive_bytes_; }
  // Weights repacked at load for the micro-kernels, held once per engine and shared by its sessions.
  size_t packed_weight_bytes() const { return packed_bytes_; }
  // Private scratch each intra-op thread of a session needs (the largest any op asks for).
  size_t thread_scratch_bytes() const { return thread_scratch_bytes_; }

  // What the first session on CUDA device `d` uploaded (constants, kernel blobs: kernels/cuda/executor.cu), kept for
  // the engine's lifetime and shared by every later session on that device.
  struct DeviceCache {
    std::mutex mu;
    std::shared_ptr<void> state;
  };
  static constexpr int kMaxDevices = 16;
  DeviceCache& device_cache(int d) const { return device_caches_[d]; }

  static constexpr size_t kNotInArena = ~size_t(0);
  // A file of a few hundred bytes can declare huge tensors; refuse plans beyond what an embedded target has.
  static constexpr size_t kMaxArenaBytes = size_t(2) << 30;

 private:
  Engine() = default;
  EngineFile file_;
  Graph graph_;
  std::vector<std::unique_ptr<PreparedOp>> ops_;
  std::vector<size_t> value_offsets_;
  std::vector<size_t> scratch_offsets_;
  size_t arena_bytes_ = 0;
  size_t naive_bytes_ = 0;
  size_t packed_bytes_ = 0;
  size_t thread_scratch_bytes_ = 0;
  mutable DeviceCache device_caches_[kMaxDevices];
};

}  // namespace wv
