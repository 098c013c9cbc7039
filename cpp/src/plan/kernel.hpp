// The contract between the plan and the kernels (create once at engine load, run many times).
// The plan knows no kernel by name: it looks each op up in the registry the kernels fill.
#pragma once
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.hpp"
#include "engine/graph.hpp"

namespace wv {

// What a kernel sees while it is created: the op, its values, and helpers for attributes and errors.
class OpView {
 public:
  OpView(const Graph& g, int index) : g_(g), op_(g.ops[size_t(index)]), index_(index) {}
  const Op& op() const { return op_; }
  int input_count() const { return int(op_.inputs.size()); }
  int output_count() const { return int(op_.outputs.size()); }
  bool has_input(int k) const { return k < input_count() && op_.inputs[size_t(k)] >= 0; }
  const Value& in(int k) const { return g_.values[size_t(op_.inputs[size_t(k)])]; }
  const Value& out(int k) const { return g_.values[size_t(op_.outputs[size_t(k)])]; }

  int64_t attr_int(std::string_view key, int64_t fallback) const;
  double attr_float(std::string_view key, double fallback) const;
  // Fail on attribute keys the kernel does not know (a newer writer's meaning would be silently lost).
  Status check_attrs(std::initializer_list<const char*> known) const;
  // Fail unless the op has between `min` and `max` input slots and exactly `outputs` outputs.
  Status check_arity(int min, int max, int outputs) const;
  // Engine-format error prefixed with the op's position and type, e.g. "op 3 (conv2d): ...".
  Status error(const std::string& message) const;

 private:
  const Graph& g_;
  const Op& op_;
  int index_;
};

class ThreadPool;

// Buffers bound to one op in one session; fixed when the session is created.
struct OpBuffers {
  const void* const* in = nullptr;  // one per input slot (nullptr for absent optional inputs)
  void* const* out = nullptr;
  void* scratch = nullptr;  // scratch_bytes() bytes, 64-byte aligned, shared with other ops' scratch
  ThreadPool* pool = nullptr;  // the session's intra-op threads (never null while running)
  // thread_scratch_bytes() bytes for each pool thread t at thread_scratch + t * thread_scratch_stride, 64-byte aligned.
  unsigned char* thread_scratch = nullptr;
  size_t thread_scratch_stride = 0;
  void* thread_scratch_of(int thread) const { return thread_scratch + size_t(thread) * thread_scratch_stride; }
};

// A created kernel: weights packed, shapes checked. run() cannot fail and allocates nothing.
class PreparedOp {
 public:
  virtual ~PreparedOp() = default;
  virtual void run(const OpBuffers& b) const = 0;
  size_t scratch_bytes() const { return scratch_bytes_; }
  // Private scratch each intra-op thread needs while this op runs (tile buffers, indirection pointers).
  size_t thread_scratch_bytes() const { return thread_scratch_bytes_; }
  // Bytes of weights repacked at load for this op's micro-kernels (shared by every session).
  size_t packed_bytes() const { return packed_bytes_; }
  // Multiply-accumulates (or elements touched) per run, for reports.
  int64_t work() const { return work_; }
  // Set by the kernel's create function.
  void set_scratch_bytes(size_t bytes) { scratch_bytes_ = bytes; }
  void set_work(int64_t work) { work_ = work; }
  void set_thread_scratch_bytes(size_t bytes) { thread_scratch_bytes_ = bytes; }
  void set_packed_bytes(size_t bytes) { packed_bytes_ = bytes; }

 private:
  size_t scratch_bytes_ = 0;
  size_t thread_scratch_bytes_ = 0;
  size_t packed_bytes_ = 0;
  int64_t work_ = 0;
};

using KernelFactory = Result<std::unique_ptr<PreparedOp>> (*)(const OpView&);

struct KernelEntry {
  const char* op;
  KernelFactory create;
};

// Look an op type up in the kernel registry (kernels/cpu/registry.cpp); nullptr if none runs it.
const KernelEntry* find_kernel(std::string_view op);

}  // namespace wv
