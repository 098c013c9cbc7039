// The C API over the C++ runtime: status codes out, a thread-local message, no exception crosses.
#include <cstddef>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

#include "capi/last_error.hpp"
#include "engine/format.hpp"
#include "kernels/cuda/executor.hpp"
#include "kernels/cuda/op.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/qgemm/ukernel.hpp"
#include "runtime/engine.hpp"
#include "runtime/session.hpp"
#include "wayvert/wayvert.h"

struct wv_engine {
  std::shared_ptr<const wv::Engine> impl;
  // The ops the CUDA executor cannot run, found on first request (host-side kernel creation, no device needed).
  std::once_flag cuda_gaps_once;
  std::vector<wv::cuda::Gap> cuda_gaps;
};
struct wv_session {
  std::unique_ptr<wv::Session> impl;
};

namespace {

using wv::capi::fail;
using wv::capi::guarded;

wv_status load(wv::Result<std::unique_ptr<wv::FileBytes>> bytes, const std::string& what, wv_engine** out) {
  if (!bytes.ok()) return fail(bytes.status());
  auto engine = wv::Engine::load(bytes.take(), what);
  if (!engine.ok()) return fail(engine.status());
  *out = new wv_engine;
  (*out)->impl = engine.take();
  return WV_OK;
}

wv_status spec_of(const wv_engine* e, int32_t index, bool input, wv_tensor_spec* out) {
  if (e == nullptr || out == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "engine or spec pointer is NULL");
  const wv::Graph& g = e->impl->graph();
  const auto& list = input ? g.inputs : g.outputs;
  if (index < 0 || size_t(index) >= list.size())
    return fail(WV_ERR_INVALID_ARGUMENT, std::string(input ? "input" : "output") + " index " + std::to_string(index) +
                                             " out of range (engine has " + std::to_string(list.size()) + ")");
  const wv::Value& v = g.values[size_t(list[size_t(index)])];
  std::memset(out, 0, sizeof *out);
  out->name = v.name.c_str();
  out->dtype = static_cast<wv_dtype>(v.dtype);
  out->rank = v.shape.rank;
  for (int d = 0; d < v.shape.rank; ++d) out->dims[d] = v.shape.dims[d];
  out->scale = v.scale;
  out->zero_point = v.zero_point;
  out->bytes = v.bytes;
  return WV_OK;
}

wv_status find(const wv_engine* e, const char* name, bool input, int32_t* index) {
  if (e == nullptr || name == nullptr || index == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "NULL argument");
  const wv::Graph& g = e->impl->graph();
  const auto& list = input ? g.inputs : g.outputs;
  std::string known;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string& n = g.values[size_t(list[i])].name;
    if (n == name) {
      *index = int32_t(i);
      return WV_OK;
    }
    known += (i ? ", " : "") + ("'" + n + "'");
  }
  return fail(WV_ERR_INPUT, std::string("engine has no ") + (input ? "input" : "output") + " named '" + name +
                                "' (it has " + known + ")");
}

}  // namespace

extern "C" {

const char* wv_version(void) { return "0.1.0"; }
void wv_engine_format_version(uint32_t* major, uint32_t* minor) {
  if (major) *major = wv::format::kMajor;
  if (minor) *minor = wv::format::kMinor;
}
const char* wv_last_error(void) { return wv::capi::last_error().c_str(); }
const char* wv_cpu_isa(void) { return wv::kernels::qgemm::select_ukernel().isa; }

const char* wv_status_name(wv_status s) {
  switch (s) {
    case WV_OK: return "WV_OK";
    case WV_ERR_INVALID_ARGUMENT: return "WV_ERR_INVALID_ARGUMENT";
    case WV_ERR_IO: return "WV_ERR_IO";
    case WV_ERR_ENGINE_FORMAT: return "WV_ERR_ENGINE_FORMAT";
    case WV_ERR_UNSUPPORTED: return "WV_ERR_UNSUPPORTED";
    case WV_ERR_INPUT: return "WV_ERR_INPUT";
    case WV_ERR_OUT_OF_MEMORY: return "WV_ERR_OUT_OF_MEMORY";
    case WV_ERR_INTERNAL: return "WV_ERR_INTERNAL";
    case WV_ERR_DEVICE: return "WV_ERR_DEVICE";
  }
  return "WV_ERR_UNKNOWN";
}

wv_status wv_engine_load(const char* path, wv_engine** out) {
  return guarded([&] {
    if (path == nullptr || out == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "path or out pointer is NULL");
    *out = nullptr;
    return load(wv::FileBytes::map_file(path), std::string("engine '") + path + "'", out);
  });
}

wv_status wv_engine_load_from_memory(const void* data, size_t size, wv_engine** out) {
  return guarded([&] {
    if (out == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "out pointer is NULL");
    *out = nullptr;
    return load(wv::FileBytes::copy_of(data, size), "engine buffer", out);
  });
}

void wv_engine_release(wv_engine* engine) { delete engine; }

wv_status wv_engine_meta(const wv_engine* e, const char** json, size_t* length) {
  if (e == nullptr || json == nullptr || length == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "NULL argument");
  auto m = e->impl->meta_json();
  *json = m.data();
  *length = m.size();
  return WV_OK;
}

int32_t wv_engine_input_count(const wv_engine* e) { return e ? int32_t(e->impl->graph().inputs.size()) : 0; }
int32_t wv_engine_output_count(const wv_engine* e) { return e ? int32_t(e->impl->graph().outputs.size()) : 0; }
wv_status wv_engine_input_spec(const wv_engine* e, int32_t i, wv_tensor_spec* out) { return spec_of(e, i, true, out); }
wv_status wv_engine_output_spec(const wv_engine* e, int32_t i, wv_tensor_spec* out) { return spec_of(e, i, false, out); }
wv_status wv_engine_find_input(const wv_engine* e, const char* n, int32_t* i) { return guarded([&] { return find(e, n, true, i); }); }
wv_status wv_engine_find_output(const wv_engine* e, const char* n, int32_t* i) { return guarded([&] { return find(e, n, false, i); }); }

wv_status wv_engine_arena_bytes(const wv_engine* e, size_t* planned, size_t* naive) {
  if (e == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "engine is NULL");
  if (planned) *planned = e->impl->arena_bytes();
  if (naive) *naive = e->impl->naive_arena_bytes();
  return WV_OK;
}

int32_t wv_engine_op_count(const wv_engine* e) { return e ? int32_t(e->impl->graph().ops.size()) : 0; }
const char* wv_engine_op_name(const wv_engine* e, int32_t i) {
  if (e == nullptr || i < 0 || size_t(i) >= e->impl->graph().ops.size()) return nullptr;
  return e->impl->graph().ops[size_t(i)].name.c_str();
}

wv_status wv_engine_packed_weight_bytes(const wv_engine* e, size_t* bytes) {
  if (e == nullptr || bytes == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "engine or bytes pointer is NULL");
  *bytes = e->impl->packed_weight_bytes();
  return WV_OK;
}

wv_session_options wv_session_options_default(void) {
  wv_session_options o;
  o.struct_size = sizeof(wv_session_options);
  o.threads = 1;
  o.device = WV_DEVICE_CPU;
  o.device_index = 0;
  return o;
}

wv_status wv_session_create(wv_engine* e, wv_session** out) { return wv_session_create_with_options(e, nullptr, out); }

wv_status wv_session_create_with_options(wv_engine* e, const wv_session_options* options, wv_session** out) {
  return guarded([&] {
    if (e == nullptr || out == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "engine or out pointer is NULL");
    *out = nullptr;
    wv::SessionOptions so;
    if (options != nullptr) {
      if (options->struct_size < sizeof(uint32_t) + 2 * sizeof(int32_t))
        return fail(WV_ERR_INVALID_ARGUMENT, "wv_session_options.struct_size is " +
                                                 std::to_string(options->struct_size) +
                                                 "; start from wv_session_options_default()");
      if (options->device != WV_DEVICE_CPU && options->device != WV_DEVICE_CUDA)
        return fail(WV_ERR_INVALID_ARGUMENT, "device " + std::to_string(options->device) +
                                                 " is not a device (WV_DEVICE_CPU or WV_DEVICE_CUDA)");
      so.threads = options->threads;
      if (options->device == WV_DEVICE_CUDA) {
        so.device = wv::SessionOptions::Device::cuda;
        if (options->struct_size >= offsetof(wv_session_options, device_index) + sizeof(int32_t))
          so.device_index = options->device_index;
      }
    }
    auto s = wv::Session::create(e->impl, so);
    if (!s.ok()) return fail(s.status());
    *out = new wv_session{s.take()};
    return WV_OK;
  });
}

void wv_session_release(wv_session* s) { delete s; }

int32_t wv_session_threads(const wv_session* s) { return s ? int32_t(s->impl->threads()) : 0; }

wv_status wv_session_set_profiling(wv_session* s, int32_t enabled) {
  if (s == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "session is NULL");
  wv::Status st = s->impl->set_profiling(enabled != 0);
  return st.ok() ? WV_OK : fail(st);
}

wv_status wv_session_op_time(const wv_session* s, int32_t index, uint64_t* nanoseconds, int64_t* runs) {
  if (s == nullptr || nanoseconds == nullptr || runs == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "NULL argument");
  const size_t n = s->impl->engine().graph().ops.size();
  if (index < 0 || size_t(index) >= n)
    return fail(WV_ERR_INVALID_ARGUMENT, "op index " + std::to_string(index) + " out of range (the plan has " +
                                             std::to_string(n) + " ops)");
  *nanoseconds = s->impl->op_nanoseconds(index);
  *runs = s->impl->profiled_runs();
  return WV_OK;
}

wv_status wv_session_set_input(wv_session* s, int32_t index, const void* data, size_t bytes) {
  return guarded([&] {
    if (s == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "session is NULL");
    wv::Status st = s->impl->set_input(index, data, bytes);
    return st.ok() ? WV_OK : fail(st);
  });
}

wv_status wv_session_run(wv_session* s) {
  return guarded([&] {
    if (s == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "session is NULL");
    wv::Status st = s->impl->run();
    return st.ok() ? WV_OK : fail(st);
  });
}

wv_status wv_session_output(const wv_session* s, int32_t index, const void** data, size_t* bytes) {
  if (s == nullptr || data == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "NULL argument");
  const wv::Graph& g = s->impl->engine().graph();
  if (index < 0 || size_t(index) >= g.outputs.size())
    return fail(WV_ERR_INVALID_ARGUMENT, "output index " + std::to_string(index) + " out of range (engine has " +
                                             std::to_string(g.outputs.size()) + ")");
  *data = s->impl->output(index);
  if (bytes) *bytes = g.values[size_t(g.outputs[size_t(index)])].bytes;
  return WV_OK;
}

wv_status wv_session_reset(wv_session* s) {
  return guarded([&] {
    if (s == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "session is NULL");
    wv::Status st = s->impl->reset();
    return st.ok() ? WV_OK : fail(st);
  });
}

}  // extern "C"

#include "kernels/cuda/device.hpp"
extern "C" int32_t wv_cuda_device_count(void) { return wv::cuda::device_count(); }
extern "C" int32_t wv_cuda_built(void) { return wv::cuda::built() ? 1 : 0; }

namespace {
const std::vector<wv::cuda::Gap>& cuda_gaps(const wv_engine* e) {
  auto* m = const_cast<wv_engine*>(e);
  std::call_once(m->cuda_gaps_once, [m] { m->cuda_gaps = wv::cuda::coverage_gaps(*m->impl); });
  return m->cuda_gaps;
}
}  // namespace

extern "C" wv_status wv_engine_cuda_gap_count(const wv_engine* e, int32_t* count) {
  return guarded([&] {
    if (e == nullptr || count == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "NULL argument");
    *count = int32_t(cuda_gaps(e).size());
    return WV_OK;
  });
}

extern "C" wv_status wv_engine_cuda_gap(const wv_engine* e, int32_t k, int32_t* op_index, const char** reason) {
  return guarded([&] {
    if (e == nullptr || op_index == nullptr || reason == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "NULL argument");
    const auto& gaps = cuda_gaps(e);
    if (k < 0 || size_t(k) >= gaps.size())
      return fail(WV_ERR_INVALID_ARGUMENT, "CUDA gap index " + std::to_string(k) + " out of range (" +
                                               std::to_string(gaps.size()) + " gaps)");
    *op_index = gaps[size_t(k)].op_index;
    *reason = gaps[size_t(k)].reason.c_str();
    return WV_OK;
  });
}
