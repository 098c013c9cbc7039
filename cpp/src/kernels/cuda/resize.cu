// resize on the GPU: x [N, C, H, W] -> y [N, C, Ho, Wo], the CPU's kernels/cpu/resize.cpp (its header states the
// coordinate rules). One thread per output element.
//   nearest (any dtype): source index floor(o * in / out) in exact integers: a copy, bit-identical.
//   bilinear int8: the CPU's 1/2048 taps (built here on the host by the same code, uploaded as blobs) and its int64
//                  arithmetic: bit-identical.
//   bilinear float32: the CPU's float taps (host-built, uploaded) and its formula with every multiply and add
//                  rounded separately (no FMA contraction), so bit-identical to a CPU build that does not contract
//                  either (x86-64); documented and tested bound: rtol 1e-6, atol 1e-6 x max(1, max |y|).
#include <memory>
#include <vector>

#include "kernels/cuda/common.cuh"

namespace wv::cuda {
namespace {

constexpr long long kOne = 2048;  // 11 fraction bits per axis

struct IntTap {
  int i0, i1, frac;  // the two source indices and the weight of i1 in 1/2048
};
struct FloatTap {
  int i0, i1;
  float frac;
};

// kernels/cpu/resize.cpp's int_taps, verbatim in its arithmetic.
std::vector<IntTap> int_taps(long long in, long long out, bool align) {
  std::vector<IntTap> t;
  for (long long o = 0; o < out; ++o) {
    long long num, den;
    if (align) {
      num = out > 1 ? o * (in - 1) : 0;
      den = out > 1 ? out - 1 : 1;
    } else {
      num = (2 * o + 1) * in - out;
      den = 2 * out;
      if (num < 0) num = 0;
    }
    long long i0 = num / den, rem = num - i0 * den;
    long long f = (2 * rem * kOne + den) / (2 * den);
    if (f == kOne) { ++i0; f = 0; }
    if (i0 >= in - 1) { i0 = in - 1; f = 0; }
    t.push_back({int(i0), int(i0 + 1 < in ? i0 + 1 : in - 1), int(f)});
  }
  return t;
}

// kernels/cpu/resize.cpp's float_taps, verbatim in its arithmetic.
std::vector<FloatTap> float_taps(long long in, long long out, bool align) {
  std::vector<FloatTap> t;
  const float scale = align ? (out > 1 ? float(in - 1) / float(out - 1) : 0.f) : float(in) / float(out);
  for (long long o = 0; o < out; ++o) {
    float src = align ? scale * float(o) : scale * (float(o) + 0.5f) - 0.5f;
    if (src < 0.f) src = 0.f;
    long long i0 = (long long)src;
    if (i0 > in - 1) i0 = in - 1;
    t.push_back({int(i0), int(i0 + 1 < in ? i0 + 1 : in - 1), src - float(i0)});
  }
  return t;
}

struct Geometry {
  long long planes = 0, H = 0, W = 0, Ho = 0, Wo = 0;
};

template <class T>
__global__ void nearest_kernel(Geometry g, const T* x, T* y) {
  WV_GRID_STRIDE(i, g.planes * g.Ho * g.Wo) {
    const long long ox = i % g.Wo, oy = (i / g.Wo) % g.Ho, p = i / (g.Wo * g.Ho);
    y[i] = x[(p * g.H + oy * g.H / g.Ho) * g.W + ox * g.W / g.Wo];
  }
}

__global__ void bilinear_s8_kernel(Geometry g, int z, const IntTap* ty, const IntTap* tx, const int8_t* x, int8_t* y) {
  WV_GRID_STRIDE(i, g.planes * g.Ho * g.Wo) {
    const long long ox = i % g.Wo, oy = (i / g.Wo) % g.Ho, p = i / (g.Wo * g.Ho);
    const IntTap a = ty[oy], c = tx[ox];
    const int8_t* r0 = x + (p * g.H + a.i0) * g.W;
    const int8_t* r1 = x + (p * g.H + a.i1) * g.W;
    const long long fy = a.frac, fx = c.frac;
    const long long top = (long long)(r0[c.i0] - z) * (kOne - fx) + (long long)(r0[c.i1] - z) * fx;
    const long long bot = (long long)(r1[c.i0] - z) * (kOne - fx) + (long long)(r1[c.i1] - z) * fx;
    const long long v = top * (kOne - fy) + bot * fy;
    const long long mag = ((v < 0 ? -v : v) + (1LL << 21)) >> 22;
    const long long q = (v < 0 ? -mag : mag) + z;
    y[i] = int8_t(q < -128 ? -128 : (q > 127 ? 127 : q));
  }
}

__global__ void bilinear_f32_kernel(Geometry g, const FloatTap* ty, const FloatTap* tx, const float* x, float* y) {
  WV_GRID_STRIDE(i, g.planes * g.Ho * g.Wo) {
    const long long ox = i % g.Wo, oy = (i / g.Wo) % g.Ho, p = i / (g.Wo * g.Ho);
    const FloatTap a = ty[oy], c = tx[ox];
    const float* r0 = x + (p * g.H + a.i0) * g.W;
    const float* r1 = x + (p * g.H + a.i1) * g.W;
    const float fy = a.frac, fx = c.frac;
    const float top = __fadd_rn(__fmul_rn(r0[c.i0], 1.f - fx), __fmul_rn(r0[c.i1], fx));
    const float bot = __fadd_rn(__fmul_rn(r1[c.i0], 1.f - fx), __fmul_rn(r1[c.i1], fx));
    y[i] = __fadd_rn(__fmul_rn(top, 1.f - fy), __fmul_rn(bot, fy));
  }
}

enum class Kind { nearest1, nearest4, bilinear_s8, bilinear_f32 };

class ResizeOp final : public Op {
 public:
  using Op::set_work;
  using Op::add_blob;
  Geometry g;
  Kind kind = Kind::nearest1;
  int z = 0;
  void enqueue(const Buffers& b, void* stream) const override {
    const long long n = g.planes * g.Ho * g.Wo;
    if (n == 0) return;
    const cudaStream_t s = as_stream(stream);
    const unsigned grid = blocks_for(n);
    switch (kind) {
      case Kind::nearest1:
        nearest_kernel<uint8_t><<<grid, 256, 0, s>>>(g, static_cast<const uint8_t*>(b.in[0]), static_cast<uint8_t*>(b.out[0]));
        break;
      case Kind::nearest4:
        nearest_kernel<uint32_t><<<grid, 256, 0, s>>>(g, static_cast<const uint32_t*>(b.in[0]), static_cast<uint32_t*>(b.out[0]));
        break;
      case Kind::bilinear_s8:
        bilinear_s8_kernel<<<grid, 256, 0, s>>>(g, z, static_cast<const IntTap*>(b.blobs[0]), static_cast<const IntTap*>(b.blobs[1]),
                                                static_cast<const int8_t*>(b.in[0]), static_cast<int8_t*>(b.out[0]));
        break;
      case Kind::bilinear_f32:
        bilinear_f32_kernel<<<grid, 256, 0, s>>>(g, static_cast<const FloatTap*>(b.blobs[0]), static_cast<const FloatTap*>(b.blobs[1]),
                                                 static_cast<const float*>(b.in[0]), static_cast<float*>(b.out[0]));
        break;
    }
  }
};

Result<std::unique_ptr<Op>> create_resize(const OpView& op) {
  // The CPU kernel's checks are the engine format's rules; what it accepts, this kernel runs.
  WV_RETURN_IF_ERROR(cpu_accepts(op));
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  if (x.layout != Layout::nchw || y.layout != Layout::nchw) return Status(Code::unsupported, "resize of an NHWC value");
  auto k = std::make_unique<ResizeOp>();
  k->g = {x.shape[0] * x.shape[1], x.shape[2], x.shape[3], y.shape[2], y.shape[3]};
  const bool bilinear = op.attr_int("mode", 0) == 1, align = op.attr_int("align_corners", 0) == 1;
  if (!bilinear) {
    const size_t elem = dtype_size(x.dtype);
    if (elem != 1 && elem != 4) return Status(Code::unsupported, "nearest resize of " + std::to_string(elem) + "-byte elements");
    k->kind = elem == 1 ? Kind::nearest1 : Kind::nearest4;
    k->set_work(y.shape.elements());
    return std::unique_ptr<Op>(std::move(k));
  }
  if (x.dtype == DType::i8) {
    k->kind = Kind::bilinear_s8;
    k->z = x.zero_point;
    k->add_blob(int_taps(k->g.H, k->g.Ho, align));
    k->add_blob(int_taps(k->g.W, k->g.Wo, align));
  } else {  // float32: the CPU accepts no other dtype for bilinear
    k->kind = Kind::bilinear_f32;
    k->add_blob(float_taps(k->g.H, k->g.Ho, align));
    k->add_blob(float_taps(k->g.W, k->g.Wo, align));
  }
  k->set_work(4 * y.shape.elements());
  return std::unique_ptr<Op>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_resize = {"resize", &create_resize};

}  // namespace wv::cuda
