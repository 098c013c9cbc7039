#include "runtime/session.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace wv {

Result<std::unique_ptr<Session>> Session::create(std::shared_ptr<const Engine> engine, const SessionOptions& options) {
  if (options.threads < 1 || options.threads > SessionOptions::kMaxThreads)
    return Status(Code::invalid_argument, "threads must be in 1.." + std::to_string(SessionOptions::kMaxThreads) +
                                              ", got " + std::to_string(options.threads));
  std::unique_ptr<Session> s(new Session(std::move(engine)));
  const Engine& e = *s->engine_;
  const Graph& g = e.graph();
  if (options.device == SessionOptions::Device::cuda) {  // the device session owns every buffer; no CPU arena
    auto d = cuda::create_device_session(s->engine_, options.device_index);
    if (!d.ok()) return d.status();
    s->device_ = d.take();
    s->pool_ = std::make_unique<ThreadPool>(1);
    s->op_ns_.assign(g.ops.size(), 0);
    return s;
  }
  s->arena_bytes_ = e.arena_bytes();
  size_t alloc = std::max<size_t>(64, (s->arena_bytes_ + 63) / 64 * 64);
  s->arena_ = static_cast<unsigned char*>(std::aligned_alloc(64, alloc));
  if (s->arena_ == nullptr)
    return Status(Code::out_of_memory, "cannot allocate a " + std::to_string(alloc) + "-byte arena");
  const size_t per_thread = (e.thread_scratch_bytes() + 63) / 64 * 64;
  const size_t ts_alloc = std::max<size_t>(64, per_thread * size_t(options.threads));
  s->thread_scratch_ = static_cast<unsigned char*>(std::aligned_alloc(64, ts_alloc));
  if (s->thread_scratch_ == nullptr)
    return Status(Code::out_of_memory, "cannot allocate " + std::to_string(ts_alloc) + " bytes of thread scratch");
  std::memset(s->thread_scratch_, 0, ts_alloc);
  s->pool_ = std::make_unique<ThreadPool>(options.threads);

  size_t n_in = 0, n_out = 0;
  for (const Op& op : g.ops) {
    n_in += op.inputs.size();
    n_out += op.outputs.size();
  }
  s->in_ptrs_.reserve(n_in);
  s->out_ptrs_.reserve(n_out);
  s->bound_.reserve(g.ops.size());
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op& op = g.ops[i];
    OpBuffers b;
    b.in = s->in_ptrs_.data() + s->in_ptrs_.size();
    for (int32_t id : op.inputs) s->in_ptrs_.push_back(id >= 0 ? s->value_ptr(id) : nullptr);
    b.out = s->out_ptrs_.data() + s->out_ptrs_.size();
    for (int32_t id : op.outputs) s->out_ptrs_.push_back(s->value_ptr(id));
    b.scratch = e.ops()[i]->scratch_bytes() ? s->arena_ + e.scratch_offset(int(i)) : nullptr;
    b.pool = s->pool_.get();
    b.thread_scratch = s->thread_scratch_;
    b.thread_scratch_stride = per_thread;
    s->bound_.push_back(b);
  }
  s->op_ns_.assign(g.ops.size(), 0);
  (void)s->reset();  // the CPU reset cannot fail
  return s;
}

Status Session::set_profiling(bool enabled) {
  if (device_)
    return Status(Code::unsupported, "per-op timing is for CPU sessions: a CUDA session runs the whole plan as one "
                                     "CUDA Graph (time run() instead)");
  profiling_ = enabled;
  std::fill(op_ns_.begin(), op_ns_.end(), 0);
  profiled_runs_ = 0;
  return Status::Ok();
}

Session::~Session() {
  device_.reset();
  pool_.reset();  // joins the workers before their scratch goes
  std::free(thread_scratch_);
  std::free(arena_);
}

void* Session::value_ptr(int value) const {
  const Value& v = engine_->graph().values[size_t(value)];
  if (v.kind == format::kConstant) return const_cast<void*>(v.data);
  return arena_ + engine_->value_offset(value);
}

Status Session::set_input(int index, const void* data, size_t bytes) {
  const Graph& g = engine_->graph();
  if (index < 0 || size_t(index) >= g.inputs.size())
    return Status(Code::invalid_argument, "input index " + std::to_string(index) + " out of range (engine has " +
                                              std::to_string(g.inputs.size()) + " inputs)");
  const Value& v = g.values[size_t(g.inputs[size_t(index)])];
  if (data == nullptr) return Status(Code::invalid_argument, "input '" + v.name + "': data is NULL");
  if (bytes != v.bytes)
    return input_error("input '" + v.name + "' expects " + std::to_string(v.bytes) + " bytes (" + dtype_name(v.dtype) +
                       " " + v.shape.str() + "), got " + std::to_string(bytes));
  std::memcpy(device_ ? device_->input_staging(index) : value_ptr(g.inputs[size_t(index)]), data, bytes);
  return Status::Ok();
}

Status Session::run() {
  const Graph& g = engine_->graph();
  for (size_t k = 0; k < g.inputs.size(); ++k) {
    const int32_t id = g.inputs[k];
    const Value& v = g.values[size_t(id)];
    if (v.dtype != DType::f32) continue;
    const float* p = static_cast<const float*>(device_ ? device_->input_staging(int(k)) : value_ptr(id));
    const size_t n = v.bytes / 4;
    for (size_t i = 0; i < n; ++i)
      if (!std::isfinite(p[i]))
        return input_error("input '" + v.name + "' holds a non-finite value (" + std::to_string(p[i]) +
                           ") at flat index " + std::to_string(i));
  }
  if (device_) return device_->run();
  const auto& ops = engine_->ops();
  if (profiling_) {
    using Clock = std::chrono::steady_clock;
    for (size_t i = 0; i < ops.size(); ++i) {
      const Clock::time_point t0 = Clock::now();
      ops[i]->run(bound_[i]);
      op_ns_[i] += uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
    }
    ++profiled_runs_;
  } else {
    for (size_t i = 0; i < ops.size(); ++i) ops[i]->run(bound_[i]);
  }
  for (const StateUpdate& su : g.states) std::memcpy(value_ptr(su.state), value_ptr(su.next), g.values[size_t(su.state)].bytes);
  return Status::Ok();
}

const void* Session::output(int index) const {
  return device_ ? device_->output(index) : value_ptr(engine_->graph().outputs[size_t(index)]);
}

Status Session::reset() {
  if (device_) return device_->reset();
  std::memset(arena_, 0, std::max<size_t>(64, (arena_bytes_ + 63) / 64 * 64));
  const Graph& g = engine_->graph();
  for (const StateUpdate& su : g.states) {  // int8 state starts at its zero point (real value 0)
    const Value& v = g.values[size_t(su.state)];
    if (v.dtype == DType::i8 || v.dtype == DType::u8) std::memset(value_ptr(su.state), v.zero_point & 0xFF, v.bytes);
  }
  return Status::Ok();
}

}  // namespace wv
