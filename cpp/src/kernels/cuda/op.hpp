// The contract between the CUDA executor and its kernels, the CUDA twin of plan/kernel.hpp.
//
// A CUDA kernel is created once per engine from the same OpView the CPU kernel sees (the op, its values with
// their layouts as plan/layout.cpp chose them, the engine's constants on the host). Creation only validates and
// prepares host data; it touches no device, so the coverage report (`wayvert inspect`) works on any machine with
// a CUDA build. The executor then uploads, once per engine per device:
//   - every constant value of the graph, byte for byte (so a kernel reads a weight exactly as the file holds it),
//   - each op's blobs() (weights repacked for the device, per-channel tables), in order.
// At session creation the executor binds every pointer (device addresses in the session's arena, the engine's
// device constants, the op's device blobs, one device scratch region shared by all ops because they run in order
// on one stream) and captures every op's enqueue() once into a CUDA Graph; run() replays that graph.
//
// Rules for enqueue(): launch kernels on `stream` only; no allocation, no synchronisation, no host reads of device
// memory, no cudaMemcpy to or from pageable memory (the call is being captured into a graph). Arithmetic matches
// the CPU kernel bit for bit for int8 (kernels/cpu/requantize.hpp's rounding); float ops document their bound.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "plan/kernel.hpp"

namespace wv::cuda {

// Device pointers bound to one op in one session; fixed at session creation.
struct Buffers {
  const void* const* in = nullptr;     // one per input slot: the session arena, or the engine's device copy of a
                                       // constant; nullptr for absent optional inputs
  void* const* out = nullptr;          // one per output, in the session arena
  void* scratch = nullptr;             // scratch_bytes() of device memory, 256-byte aligned (shared between ops)
  const void* const* blobs = nullptr;  // device copies of blobs(), in order, 256-byte aligned
};

class Op {
 public:
  virtual ~Op() = default;
  // Enqueue this op's work on `stream` (a cudaStream_t). Cannot fail; see the rules above.
  virtual void enqueue(const Buffers& b, void* stream) const = 0;

  // Host data to upload once per engine per device (repacked weights, per-channel tables).
  const std::vector<std::vector<unsigned char>>& blobs() const { return blobs_; }
  size_t scratch_bytes() const { return scratch_bytes_; }
  int64_t work() const { return work_; }  // multiply-accumulates (or elements touched) per run, for reports

 protected:
  // Returns the index of the new blob (its device address is b.blobs[index] in enqueue()).
  int add_blob(const void* data, size_t bytes);
  template <typename T>
  int add_blob(const std::vector<T>& v) { return add_blob(v.data(), v.size() * sizeof(T)); }
  void set_scratch_bytes(size_t bytes) { scratch_bytes_ = bytes; }
  void set_work(int64_t work) { work_ = work; }

 private:
  std::vector<std::vector<unsigned char>> blobs_;
  size_t scratch_bytes_ = 0;
  int64_t work_ = 0;
};

// Creates the CUDA kernel for one op, or fails with Code::unsupported naming what this back end cannot run
// (a dtype, a layout, an attribute value) so that the coverage report can say why.
using Factory = Result<std::unique_ptr<Op>> (*)(const OpView&);

struct KernelEntry {
  const char* op;
  Factory create;
};

// The op passes its CPU kernel's creation checks (the engine format's rules for that op, with the same messages):
// a CUDA kernel runs exactly what the CPU accepts, and adds only limits of its own (reported as Code::unsupported).
Status cpu_accepts(const OpView& op);

// The CUDA kernel registry (kernels/cuda/registry.cpp); nullptr when no CUDA kernel runs this op type or the
// build has no CUDA.
const KernelEntry* find_kernel(std::string_view op);

// Whether this build compiled the CUDA executor.
bool built();

}  // namespace wv::cuda
