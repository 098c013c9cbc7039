// add on the GPU: elementwise a + b, the CPU's kernels/cpu/add.cpp on device pointers.
//   int8:  v = rescale(rescale(a - z_a, m_a, s_a) + rescale(b - z_b, m_b, s_b), 1, 8) + z_out, clamp, optional LUT
//          (the LUT is a constant input, already on the device byte for byte): bit-identical to the CPU.
//   float: y = activation(a + b). none/relu/relu6 are exact; silu and gelu use expf/erff (<= 2 ulp each, no fast
//          math), expected within relative 1e-6 of the CPU; documented and tested bound: rtol 1e-5, atol 1e-6.
// Layout: elementwise, so NCHW and NHWC are the same loop as long as a, b and y share one layout (plan/layout.cpp
// makes an add's operands and result agree; anything else is reported unsupported).
#include <memory>

#include "kernels/cuda/common.cuh"

namespace wv::cuda {
namespace {

struct AddS8Params {
  long long n = 0;
  int za = 0, zb = 0, ma = 0, sa = 0, mb = 0, sb = 0, zo = 0, lo = -128, hi = 127;
};

__device__ __forceinline__ int8_t add_s8(const AddS8Params& p, int8_t a, int8_t b, const int8_t* lut) {
  const long long v = rescale(rescale((long long)a - p.za, p.ma, p.sa) + rescale((long long)b - p.zb, p.mb, p.sb), 1, 8) + p.zo;
  const int q = clamp_i32(v, p.lo, p.hi);
  return lut ? lut[q + 128] : int8_t(q);
}

// Four elements per thread through 32-bit loads when every pointer allows it, scalar otherwise.
__global__ void add_s8_kernel(AddS8Params p, const int8_t* a, const int8_t* b, const int8_t* lut, int8_t* y, bool vec4) {
  if (vec4) {
    const long long n4 = p.n / 4;
    WV_GRID_STRIDE(i, n4) {
      const char4 va = reinterpret_cast<const char4*>(a)[i], vb = reinterpret_cast<const char4*>(b)[i];
      char4 r;
      r.x = add_s8(p, va.x, vb.x, lut); r.y = add_s8(p, va.y, vb.y, lut);
      r.z = add_s8(p, va.z, vb.z, lut); r.w = add_s8(p, va.w, vb.w, lut);
      reinterpret_cast<char4*>(y)[i] = r;
    }
    return;
  }
  WV_GRID_STRIDE(i, p.n) y[i] = add_s8(p, a[i], b[i], lut);
}

// kernels::activate on the device (codes as in kernels/cpu/activation.hpp).
__device__ __forceinline__ float activate_dev(int act, float x) {
  switch (act) {
    case 1: return x > 0.f ? x : 0.f;
    case 2: return x < 0.f ? 0.f : (x > 6.f ? 6.f : x);
    case 3: return x / (1.f + expf(-x));
    case 4: return __fmul_rn(__fmul_rn(0.5f, x), 1.f + erff(__fmul_rn(x, 0.70710678118654752f)));
  }
  return x;
}

__global__ void add_f32_kernel(long long n, int act, const float* a, const float* b, float* y) {
  WV_GRID_STRIDE(i, n) y[i] = activate_dev(act, a[i] + b[i]);
}

bool aligned4(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 3u) == 0; }

class AddS8 final : public Op {
 public:
  using Op::set_work;
  AddS8Params p;
  bool lut = false;
  void enqueue(const Buffers& b, void* stream) const override {
    if (p.n == 0) return;
    const bool vec4 = p.n % 4 == 0 && aligned4(b.in[0]) && aligned4(b.in[1]) && aligned4(b.out[0]);
    add_s8_kernel<<<blocks_for(vec4 ? p.n / 4 : p.n), 256, 0, as_stream(stream)>>>(
        p, static_cast<const int8_t*>(b.in[0]), static_cast<const int8_t*>(b.in[1]),
        lut ? static_cast<const int8_t*>(b.in[2]) : nullptr, static_cast<int8_t*>(b.out[0]), vec4);
  }
};

class AddF32 final : public Op {
 public:
  using Op::set_work;
  long long n = 0;
  int act = 0;
  void enqueue(const Buffers& b, void* stream) const override {
    if (n == 0) return;
    add_f32_kernel<<<blocks_for(n), 256, 0, as_stream(stream)>>>(n, act, static_cast<const float*>(b.in[0]),
                                                                 static_cast<const float*>(b.in[1]), static_cast<float*>(b.out[0]));
  }
};

Result<std::unique_ptr<Op>> create_add(const OpView& op) {
  // The CPU kernel's checks are the engine format's rules; what it accepts, this kernel runs.
  WV_RETURN_IF_ERROR(cpu_accepts(op));
  const Value& a = op.in(0);
  const Value& b = op.in(1);
  const Value& y = op.out(0);
  if (a.layout != y.layout || b.layout != y.layout)
    return Status(Code::unsupported, "add of values in different layouts (NCHW and NHWC mixed)");
  if (a.dtype == DType::i8) {
    auto k = std::make_unique<AddS8>();
    k->p.n = a.shape.elements();
    k->p.za = a.zero_point; k->p.zb = b.zero_point; k->p.zo = y.zero_point;
    k->p.ma = int(op.attr_int("a_multiplier", -1)); k->p.sa = int(op.attr_int("a_shift", -1));
    k->p.mb = int(op.attr_int("b_multiplier", -1)); k->p.sb = int(op.attr_int("b_shift", -1));
    k->p.lo = int(op.attr_int("act_min", -128)); k->p.hi = int(op.attr_int("act_max", 127));
    if (op.has_input(2)) {
      k->lut = true;
      k->p.zo = int(op.attr_int("lut_zero_point", y.zero_point));
    }
    k->set_work(k->p.n);
    return std::unique_ptr<Op>(std::move(k));
  }
  auto k = std::make_unique<AddF32>();  // float32: the only other dtype the CPU accepts
  k->n = a.shape.elements();
  k->act = int(op.attr_int("activation", 0));
  k->set_work(k->n);
  return std::unique_ptr<Op>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_add = {"add", &create_add};

}  // namespace wv::cuda
