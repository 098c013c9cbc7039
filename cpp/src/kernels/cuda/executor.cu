// The CUDA executor: an engine's constants and kernel blobs uploaded once per device, and device sessions that
// replay the whole plan as one CUDA Graph (inputs in, every op, state updates, outputs out).
//
// Memory: a session's device arena uses the CPU plan's offsets (plan/memory_plan.cpp; the ops run in plan order on
// one stream, so the lifetimes that let values share bytes on the CPU hold here too), plus one scratch region sized
// for the largest CUDA kernel's scratch. Inputs and outputs cross the bus through pinned staging the graph copies
// from and to. Everything is allocated at creation; run() launches the graph and waits, nothing else.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cuda/device.hpp"
#include "kernels/cuda/executor.hpp"
#include "kernels/cuda/op.hpp"
#include "runtime/engine.hpp"

namespace wv::cuda {
namespace {

Status cuda_status(cudaError_t e, const std::string& what) {
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  return Status(Code::device, "CUDA: " + what + " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

#define WV_CUDA_TRY(call, what)                              \
  do {                                                       \
    const cudaError_t wv_e_ = (call);                        \
    if (wv_e_ != cudaSuccess) return cuda_status(wv_e_, what); \
  } while (0)

constexpr size_t kAlign = 256;
size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// Switches the calling thread to `device` for a scope and back afterwards (the current device is per thread).
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    if (cudaGetDevice(&previous_) != cudaSuccess) previous_ = -1;
    ok_ = cudaSetDevice(device) == cudaSuccess;
  }
  ~DeviceScope() {
    if (previous_ >= 0) cudaSetDevice(previous_);
  }
  bool ok() const { return ok_; }

 private:
  int previous_ = -1;
  bool ok_ = false;
};

// An engine on one device: its CUDA kernels, its constants byte for byte and the kernels' blobs, in one allocation.
struct DeviceWeights {
  int device = 0;
  std::vector<std::unique_ptr<Op>> ops;
  unsigned char* base = nullptr;
  size_t bytes = 0;
  std::vector<size_t> constant_offset;           // per value; Engine::kNotInArena for non-constants
  std::vector<std::vector<const void*>> blobs;  // per op: device addresses of its blobs
  size_t scratch_bytes = 0;                      // the largest any kernel asks for

  ~DeviceWeights() {
    if (base == nullptr) return;
    DeviceScope scope(device);
    cudaFree(base);
  }
};

Status unsupported(const Engine& e, const std::vector<Gap>& gaps) {
  std::string m = "the CUDA executor cannot run " + std::to_string(gaps.size()) + " of the engine's " +
                  std::to_string(e.graph().ops.size()) + " ops:";
  for (size_t i = 0; i < gaps.size() && i < 8; ++i)
    m += " op " + std::to_string(gaps[i].op_index) + " (" + gaps[i].op + "): " + gaps[i].reason + ";";
  if (gaps.size() > 8) m += " ...";
  m += " (wayvert inspect ENGINE lists them)";
  return Status(Code::unsupported, m);
}

Result<std::shared_ptr<DeviceWeights>> upload(const Engine& e, int device) {
  const Graph& g = e.graph();
  auto w = std::make_shared<DeviceWeights>();
  w->device = device;
  std::vector<Gap> gaps;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const KernelEntry* k = find_kernel(g.ops[i].name);
    if (k == nullptr) {
      gaps.push_back({int(i), g.ops[i].name, "no CUDA kernel for '" + g.ops[i].name + "'"});
      continue;
    }
    auto op = k->create(OpView(g, int(i)));
    if (!op.ok()) {
      gaps.push_back({int(i), g.ops[i].name, op.status().message()});
      continue;
    }
    w->ops.push_back(op.take());
  }
  if (!gaps.empty()) return unsupported(e, gaps);

  // Layout of the one allocation: every constant value, then every op's blobs, each 256-byte aligned.
  size_t at = 0;
  w->constant_offset.assign(g.values.size(), Engine::kNotInArena);
  for (size_t v = 0; v < g.values.size(); ++v) {
    if (g.values[v].kind != format::kConstant) continue;
    w->constant_offset[v] = at;
    at += align_up(std::max<size_t>(g.values[v].bytes, 1));
  }
  std::vector<std::vector<size_t>> blob_offset(w->ops.size());
  for (size_t i = 0; i < w->ops.size(); ++i) {
    for (const auto& blob : w->ops[i]->blobs()) {
      blob_offset[i].push_back(at);
      at += align_up(std::max<size_t>(blob.size(), 1));
    }
    w->scratch_bytes = std::max(w->scratch_bytes, w->ops[i]->scratch_bytes());
  }
  w->bytes = std::max<size_t>(at, kAlign);

  WV_CUDA_TRY(cudaMalloc(&w->base, w->bytes), "allocating " + std::to_string(w->bytes) + " bytes of weights");
  for (size_t v = 0; v < g.values.size(); ++v)
    if (w->constant_offset[v] != Engine::kNotInArena && g.values[v].bytes > 0)
      WV_CUDA_TRY(cudaMemcpy(w->base + w->constant_offset[v], g.values[v].data, g.values[v].bytes, cudaMemcpyHostToDevice),
                  "uploading constant '" + g.values[v].name + "'");
  w->blobs.resize(w->ops.size());
  for (size_t i = 0; i < w->ops.size(); ++i) {
    const auto& blobs = w->ops[i]->blobs();
    for (size_t b = 0; b < blobs.size(); ++b) {
      if (!blobs[b].empty())
        WV_CUDA_TRY(cudaMemcpy(w->base + blob_offset[i][b], blobs[b].data(), blobs[b].size(), cudaMemcpyHostToDevice),
                    "uploading op " + std::to_string(i) + "'s packed weights");
      w->blobs[i].push_back(w->base + blob_offset[i][b]);
    }
  }
  // A pageable cudaMemcpy may return before its DMA lands, and the sessions' non-blocking streams do not wait for
  // the default stream it ran on (a stream sync, not a device sync, so no other thread's capture is disturbed).
  WV_CUDA_TRY(cudaStreamSynchronize(0), "uploading the engine's weights");
  return w;
}

// The engine's weights on `device`: uploaded by the first session there, then shared.
Result<std::shared_ptr<DeviceWeights>> weights_for(const Engine& e, int device) {
  Engine::DeviceCache& cache = e.device_cache(device);
  std::lock_guard<std::mutex> lock(cache.mu);
  if (cache.state) return std::static_pointer_cast<DeviceWeights>(cache.state);
  auto w = upload(e, device);
  if (!w.ok()) return w.status();
  cache.state = w.value();
  return w.take();
}

class CudaSession final : public DeviceSession {
 public:
  static Result<std::unique_ptr<DeviceSession>> create(std::shared_ptr<const Engine> engine, int device);
  ~CudaSession() override;

  void* input_staging(int index) override { return in_stage_ + in_offset_[size_t(index)]; }
  const void* output(int index) const override { return out_stage_ + out_offset_[size_t(index)]; }
  Status run() override;
  Status reset() override;
  int device() const override { return device_; }

 private:
  CudaSession(std::shared_ptr<const Engine> engine, int device) : engine_(std::move(engine)), device_(device) {}
  const void* value_ptr(int value) const {
    const Value& v = engine_->graph().values[size_t(value)];
    if (v.kind == format::kConstant) return weights_->base + weights_->constant_offset[size_t(value)];
    return arena_ + engine_->value_offset(value);
  }
  Status capture();

  std::shared_ptr<const Engine> engine_;
  std::shared_ptr<DeviceWeights> weights_;
  int device_ = 0;
  cudaStream_t stream_ = nullptr;
  unsigned char* arena_ = nullptr;
  size_t arena_bytes_ = 0;
  void* scratch_ = nullptr;
  unsigned char* in_stage_ = nullptr;
  unsigned char* out_stage_ = nullptr;
  std::vector<size_t> in_offset_, out_offset_;
  std::vector<const void*> in_ptrs_;
  std::vector<void*> out_ptrs_;
  std::vector<Buffers> bound_;
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

Result<std::unique_ptr<DeviceSession>> CudaSession::create(std::shared_ptr<const Engine> engine, int device) {
  const int count = device_count();
  if (count == 0)
    return Status(Code::device, "CUDA: no CUDA device is available (no NVIDIA driver, no device, or "
                                "CUDA_VISIBLE_DEVICES hides them); use device=\"cpu\"");
  if (device < 0 || device >= count || device >= Engine::kMaxDevices)
    return Status(Code::device, "CUDA: device " + std::to_string(device) + " does not exist (this machine has " +
                                    std::to_string(count) + " CUDA device" + (count == 1 ? "" : "s") + ")");
  DeviceScope scope(device);
  if (!scope.ok()) return cuda_status(cudaGetLastError(), "selecting device " + std::to_string(device));
  std::unique_ptr<CudaSession> s(new CudaSession(std::move(engine), device));
  const Engine& e = *s->engine_;
  const Graph& g = e.graph();
  auto w = weights_for(e, device);
  if (!w.ok()) return w.status();
  s->weights_ = w.take();

  WV_CUDA_TRY(cudaStreamCreateWithFlags(&s->stream_, cudaStreamNonBlocking), "creating a stream");
  s->arena_bytes_ = std::max<size_t>(e.arena_bytes(), kAlign);
  WV_CUDA_TRY(cudaMalloc(&s->arena_, s->arena_bytes_), "allocating a " + std::to_string(s->arena_bytes_) + "-byte arena");
  WV_CUDA_TRY(cudaMalloc(&s->scratch_, std::max<size_t>(s->weights_->scratch_bytes, kAlign)), "allocating scratch");
  size_t in_bytes = 0, out_bytes = 0;
  for (int32_t id : g.inputs) {
    s->in_offset_.push_back(in_bytes);
    in_bytes += align_up(g.values[size_t(id)].bytes);
  }
  for (int32_t id : g.outputs) {
    s->out_offset_.push_back(out_bytes);
    out_bytes += align_up(g.values[size_t(id)].bytes);
  }
  WV_CUDA_TRY(cudaHostAlloc(reinterpret_cast<void**>(&s->in_stage_), std::max<size_t>(in_bytes, kAlign), cudaHostAllocDefault),
              "allocating pinned input staging");
  WV_CUDA_TRY(cudaHostAlloc(reinterpret_cast<void**>(&s->out_stage_), std::max<size_t>(out_bytes, kAlign), cudaHostAllocDefault),
              "allocating pinned output staging");
  std::memset(s->out_stage_, 0, std::max<size_t>(out_bytes, kAlign));

  size_t n_in = 0, n_out = 0;
  for (const wv::Op& op : g.ops) {
    n_in += op.inputs.size();
    n_out += op.outputs.size();
  }
  s->in_ptrs_.reserve(n_in);  // Buffers point into these vectors: they must never reallocate
  s->out_ptrs_.reserve(n_out);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const wv::Op& op = g.ops[i];
    Buffers b;
    b.in = s->in_ptrs_.data() + s->in_ptrs_.size();
    for (int32_t id : op.inputs) s->in_ptrs_.push_back(id >= 0 ? s->value_ptr(id) : nullptr);
    b.out = s->out_ptrs_.data() + s->out_ptrs_.size();
    for (int32_t id : op.outputs) s->out_ptrs_.push_back(const_cast<void*>(s->value_ptr(id)));
    b.scratch = s->weights_->ops[i]->scratch_bytes() ? s->scratch_ : nullptr;
    b.blobs = s->weights_->blobs[i].data();
    s->bound_.push_back(b);
  }
  WV_RETURN_IF_ERROR(s->reset());
  WV_RETURN_IF_ERROR(s->capture());
  return std::unique_ptr<DeviceSession>(std::move(s));
}

Status CudaSession::capture() {
  const Graph& g = engine_->graph();
  cudaGetLastError();  // start clean, so `launched` below names only a launch made during this capture
  WV_CUDA_TRY(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), "beginning graph capture");
  for (size_t k = 0; k < g.inputs.size(); ++k) {
    const Value& v = g.values[size_t(g.inputs[k])];
    if (v.bytes)
      cudaMemcpyAsync(const_cast<void*>(value_ptr(g.inputs[k])), in_stage_ + in_offset_[k], v.bytes,
                      cudaMemcpyHostToDevice, stream_);
  }
  for (size_t i = 0; i < g.ops.size(); ++i) weights_->ops[i]->enqueue(bound_[i], stream_);
  for (const StateUpdate& su : g.states)
    cudaMemcpyAsync(const_cast<void*>(value_ptr(su.state)), value_ptr(su.next), g.values[size_t(su.state)].bytes,
                    cudaMemcpyDeviceToDevice, stream_);
  for (size_t k = 0; k < g.outputs.size(); ++k) {
    const Value& v = g.values[size_t(g.outputs[k])];
    if (v.bytes) cudaMemcpyAsync(out_stage_ + out_offset_[k], value_ptr(g.outputs[k]), v.bytes, cudaMemcpyDeviceToHost, stream_);
  }
  const cudaError_t launched = cudaGetLastError();  // a kernel launch that failed during capture
  const cudaError_t ended = cudaStreamEndCapture(stream_, &graph_);
  if (launched != cudaSuccess) return cuda_status(launched, "launching the plan's kernels during graph capture");
  if (ended != cudaSuccess) return cuda_status(ended, "capturing the plan as a CUDA Graph");
  WV_CUDA_TRY(cudaGraphInstantiate(&exec_, graph_, 0), "instantiating the plan's CUDA Graph");
  return Status::Ok();
}

Status CudaSession::run() {
  DeviceScope scope(device_);
  if (!scope.ok()) return cuda_status(cudaGetLastError(), "selecting device " + std::to_string(device_));
  WV_CUDA_TRY(cudaGraphLaunch(exec_, stream_), "launching the plan's CUDA Graph");
  WV_CUDA_TRY(cudaStreamSynchronize(stream_), "running the plan on the GPU");
  return Status::Ok();
}

Status CudaSession::reset() {
  DeviceScope scope(device_);
  if (!scope.ok()) return cuda_status(cudaGetLastError(), "selecting device " + std::to_string(device_));
  const Graph& g = engine_->graph();
  WV_CUDA_TRY(cudaMemsetAsync(arena_, 0, arena_bytes_, stream_), "clearing the arena");
  for (const StateUpdate& su : g.states) {  // int8 state starts at its zero point (real value 0), as on the CPU
    const Value& v = g.values[size_t(su.state)];
    if (v.dtype == DType::i8 || v.dtype == DType::u8)
      WV_CUDA_TRY(cudaMemsetAsync(const_cast<void*>(value_ptr(su.state)), v.zero_point & 0xFF, v.bytes, stream_),
                  "setting recurrent state");
  }
  for (size_t k = 0; k < g.outputs.size(); ++k) {  // output() after reset reads what the CPU's arena would hold
    const Value& v = g.values[size_t(g.outputs[k])];
    if (v.bytes)
      WV_CUDA_TRY(cudaMemcpyAsync(out_stage_ + out_offset_[k], value_ptr(g.outputs[k]), v.bytes, cudaMemcpyDeviceToHost, stream_),
                  "clearing the outputs");
  }
  WV_CUDA_TRY(cudaStreamSynchronize(stream_), "resetting the session");
  size_t in_bytes = 0;
  for (int32_t id : g.inputs) in_bytes += align_up(g.values[size_t(id)].bytes);
  std::memset(in_stage_, 0, in_bytes);
  return Status::Ok();
}

CudaSession::~CudaSession() {
  DeviceScope scope(device_);
  if (stream_) cudaStreamSynchronize(stream_);
  if (exec_) cudaGraphExecDestroy(exec_);
  if (graph_) cudaGraphDestroy(graph_);
  if (in_stage_) cudaFreeHost(in_stage_);
  if (out_stage_) cudaFreeHost(out_stage_);
  if (scratch_) cudaFree(scratch_);
  if (arena_) cudaFree(arena_);
  if (stream_) cudaStreamDestroy(stream_);
}

}  // namespace

Result<std::unique_ptr<DeviceSession>> create_device_session(std::shared_ptr<const Engine> engine, int device) {
  return CudaSession::create(std::move(engine), device);
}

}  // namespace wv::cuda
