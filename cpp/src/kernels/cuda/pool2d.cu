// max_pool2d and avg_pool2d on the GPU over NCHW windows, the CPU's kernels/cpu/pool2d.cpp (its header states the
// geometry: floor/ceil output sizes, padding that never wins a max, count_include_pad). One thread per output
// element, the window walked in the CPU's order with the CPU's arithmetic:
//   max (float32, int8): bit-identical (same comparisons in the same order).
//   avg int8: y = z + round_half_away(sum(x - z) / count) in exact integers: bit-identical.
//   avg float32: the CPU's sequential sum in the same order, then one IEEE division: expected bit-identical;
//                documented and tested bound: rtol 1e-6, atol 1e-7.
#include <memory>

#include "kernels/cuda/common.cuh"

namespace wv::cuda {
namespace {

struct Window {
  long long N = 0, C = 0, H = 0, W = 0, Ho = 0, Wo = 0;
  int kh = 1, kw = 1, sh = 1, sw = 1, pt = 0, pl = 0, pb = 0, pr = 0, dh = 1, dw = 1;
  bool include_pad = false;
};

template <class T>
__global__ void max_pool_kernel(Window g, const T* x, T* y) {
  WV_GRID_STRIDE(i, g.N * g.C * g.Ho * g.Wo) {
    const long long ox = i % g.Wo, oy = (i / g.Wo) % g.Ho, p = i / (g.Wo * g.Ho);
    const T* xp = x + p * g.H * g.W;
    bool first = true;
    T best = T(0);
    for (int ky = 0; ky < g.kh; ++ky) {
      const long long iy = oy * g.sh - g.pt + (long long)ky * g.dh;
      if (iy < 0 || iy >= g.H) continue;
      for (int kx = 0; kx < g.kw; ++kx) {
        const long long ix = ox * g.sw - g.pl + (long long)kx * g.dw;
        if (ix < 0 || ix >= g.W) continue;
        const T v = xp[iy * g.W + ix];
        if (first || v > best) best = v;
        first = false;
      }
    }
    y[i] = best;
  }
}

// The window's rows [y0, y1) and columns [x0, x1) inside the input and the count a mean divides by (the CPU's
// span_of).
struct Span {
  long long y0, y1, x0, x1, count;
};

__device__ __forceinline__ Span span_of(const Window& g, long long oy, long long ox) {
  long long y0 = oy * g.sh - g.pt, x0 = ox * g.sw - g.pl;
  long long y1 = min(y0 + g.kh, g.H + g.pb), x1 = min(x0 + g.kw, g.W + g.pr);
  const long long padded = (y1 - y0) * (x1 - x0);
  y0 = max(y0, 0LL); x0 = max(x0, 0LL);
  y1 = min(y1, g.H); x1 = min(x1, g.W);
  return {y0, y1, x0, x1, g.include_pad ? padded : (y1 - y0) * (x1 - x0)};
}

__global__ void avg_pool_f32_kernel(Window g, const float* x, float* y) {
  WV_GRID_STRIDE(i, g.N * g.C * g.Ho * g.Wo) {
    const long long ox = i % g.Wo, oy = (i / g.Wo) % g.Ho, p = i / (g.Wo * g.Ho);
    const float* xp = x + p * g.H * g.W;
    const Span s = span_of(g, oy, ox);
    float sum = 0.f;
    for (long long iy = s.y0; iy < s.y1; ++iy)
      for (long long ix = s.x0; ix < s.x1; ++ix) sum += xp[iy * g.W + ix];
    y[i] = sum / float(s.count);
  }
}

__global__ void avg_pool_s8_kernel(Window g, int z, const int8_t* x, int8_t* y) {
  WV_GRID_STRIDE(i, g.N * g.C * g.Ho * g.Wo) {
    const long long ox = i % g.Wo, oy = (i / g.Wo) % g.Ho, p = i / (g.Wo * g.Ho);
    const int8_t* xp = x + p * g.H * g.W;
    const Span s = span_of(g, oy, ox);
    long long sum = 0;
    for (long long iy = s.y0; iy < s.y1; ++iy)
      for (long long ix = s.x0; ix < s.x1; ++ix) sum += xp[iy * g.W + ix] - z;
    const long long mag = (2 * (sum < 0 ? -sum : sum) + s.count) / (2 * s.count);  // round half away from zero
    const long long v = (sum < 0 ? -mag : mag) + z;
    y[i] = int8_t(v < -128 ? -128 : (v > 127 ? 127 : v));
  }
}

enum class Kind { max_f32, max_s8, avg_f32, avg_s8 };

class Pool2dOp final : public Op {
 public:
  using Op::set_work;
  Window g;
  Kind kind = Kind::max_f32;
  int z = 0;
  void enqueue(const Buffers& b, void* stream) const override {
    const long long n = g.N * g.C * g.Ho * g.Wo;
    if (n == 0) return;
    const cudaStream_t s = as_stream(stream);
    const unsigned grid = blocks_for(n);
    switch (kind) {
      case Kind::max_f32:
        max_pool_kernel<float><<<grid, 256, 0, s>>>(g, static_cast<const float*>(b.in[0]), static_cast<float*>(b.out[0]));
        break;
      case Kind::max_s8:
        max_pool_kernel<int8_t><<<grid, 256, 0, s>>>(g, static_cast<const int8_t*>(b.in[0]), static_cast<int8_t*>(b.out[0]));
        break;
      case Kind::avg_f32:
        avg_pool_f32_kernel<<<grid, 256, 0, s>>>(g, static_cast<const float*>(b.in[0]), static_cast<float*>(b.out[0]));
        break;
      case Kind::avg_s8:
        avg_pool_s8_kernel<<<grid, 256, 0, s>>>(g, z, static_cast<const int8_t*>(b.in[0]), static_cast<int8_t*>(b.out[0]));
        break;
    }
  }
};

// The window as the CPU kernel accepted it (attributes already validated there).
Result<std::unique_ptr<Op>> create_pool(const OpView& op, bool is_max) {
  // The CPU kernel's checks are the engine format's rules; what it accepts, this kernel runs.
  WV_RETURN_IF_ERROR(cpu_accepts(op));
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  if (x.layout != Layout::nchw || y.layout != Layout::nchw)
    return Status(Code::unsupported, op.op().name + " of an NHWC value");
  auto k = std::make_unique<Pool2dOp>();
  Window& g = k->g;
  g.N = x.shape[0]; g.C = x.shape[1]; g.H = x.shape[2]; g.W = x.shape[3]; g.Ho = y.shape[2]; g.Wo = y.shape[3];
  g.kh = int(op.attr_int("kernel_h", 0)); g.kw = int(op.attr_int("kernel_w", 0));
  g.sh = int(op.attr_int("stride_h", g.kh)); g.sw = int(op.attr_int("stride_w", g.kw));
  g.dh = is_max ? int(op.attr_int("dilation_h", 1)) : 1; g.dw = is_max ? int(op.attr_int("dilation_w", 1)) : 1;
  g.pt = int(op.attr_int("pad_top", 0)); g.pl = int(op.attr_int("pad_left", 0));
  g.pb = int(op.attr_int("pad_bottom", 0)); g.pr = int(op.attr_int("pad_right", 0));
  g.include_pad = !is_max && op.attr_int("count_include_pad", 0) == 1;
  const bool f32 = x.dtype == DType::f32;
  k->kind = is_max ? (f32 ? Kind::max_f32 : Kind::max_s8) : (f32 ? Kind::avg_f32 : Kind::avg_s8);
  k->z = x.zero_point;
  k->set_work(g.N * g.C * g.Ho * g.Wo * g.kh * g.kw);
  return std::unique_ptr<Op>(std::move(k));
}

Result<std::unique_ptr<Op>> create_max_pool2d(const OpView& op) { return create_pool(op, true); }
Result<std::unique_ptr<Op>> create_avg_pool2d(const OpView& op) { return create_pool(op, false); }

}  // namespace

extern const KernelEntry kernel_max_pool2d = {"max_pool2d", &create_max_pool2d};
extern const KernelEntry kernel_avg_pool2d = {"avg_pool2d", &create_avg_pool2d};

}  // namespace wv::cuda
