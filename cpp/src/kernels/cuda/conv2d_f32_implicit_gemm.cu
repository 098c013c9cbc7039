// float32 conv2d and float32 linear on CUDA as an implicit GEMM (no im2col buffer): M = output pixels of all
// images, N = output channels of one group (grid.z is the group), K = Cig x kh x kw in the weight's own order
// (ci, ky, kx). Tile 64 x 64 x 16 per stage, 256 threads, 4 x 4 outputs each; the next stage's global loads go to
// registers while the current one is multiplied. Weights are transposed at creation into [group][K, padded to the
// stage][Cog] (coalesced loads). Where the output tiles are too few to fill the GPU (a linear head of one row), a
// direct kernel runs instead: one thread per output, the same chain along K.
//
// Arithmetic, and the bound vs the CPU (kernels/cpu/conv2d.cpp, linear.cpp): every output is one chain of fused
// multiply-adds over k in increasing order from +0, exactly what the CPU's AVX2 and NEON float GEMMs compute
// (kernels/cpu/gemm.hpp), padding taps included as zeros; then activate((acc + bias) + r) in the CPU's order.
// So with activation none, relu or relu6 the outputs equal a CPU session's bit for bit on x86-64 with AVX2 and on
// aarch64; silu and gelu evaluate exp and erf in double and round (glibc's expf and erff are within about 1 ulp
// of that), so they may differ by an ulp or two. Against the CPU's scalar GEMM (WAYVERT_ISA=scalar: no FMA) the
// bound is |y_cuda - y_cpu| <= 1e-5 (sum_k |x_k w_k| + |bias| + |r|) + 1e-6 before the activation (slope <= 1.13),
// which tests/runtime/test_cuda_gemm_ops.py checks everywhere.
#include <cuda_runtime.h>

#include "kernels/cpu/epilogue.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv2d_implicit_gemm.hpp"

namespace wv::cuda {
namespace {

constexpr int kBM = 64, kBN = 64, kBK = 16;
constexpr int kThreads = 256;
constexpr int kPadRow = kBM + 4;
constexpr int kLoads = kBM * kBK / kThreads;
constexpr int kDirectBatch = 32;      // loads in flight per thread in the direct kernel's 1x1 path
constexpr int64_t kTargetBlocks = 264;  // 2 per SM of an H200 (132 SMs), as conv2d_s8_implicit_gemm.cu

struct ConvF32Params {
  const float* x = nullptr;
  const float* w = nullptr;  // packed [group][k_tiles * kBK][Cog]
  const float* bias = nullptr;
  const float* r = nullptr;
  float* y = nullptr;
  int activation = 0;  // kernels::Activation
  int C, H, W, Co, Ho, Wo, kw, taps, sh, sw, pt, pl, dh, dw, Cig, Cog;
  int K, k_tiles, M;
};

// kernels::activate on the device: the same float operations in the same order; exp and erf are evaluated in double
// and rounded to float (the correctly rounded value in all but the rarest cases, as glibc's expf nearly always is).
__device__ __forceinline__ float activate_dev(int a, float x) {
  switch (a) {
    case 1: return x > 0.f ? x : 0.f;
    case 2: return x < 0.f ? 0.f : (x > 6.f ? 6.f : x);
    case 3: return x / (1.f + float(exp(-double(x))));
    case 4: return 0.5f * x * (1.f + float(erf(double(x * 0.70710678118654752f))));
    default: return x;
  }
}

template <bool IN_NHWC>
__device__ __forceinline__ float load_a(const ConvF32Params& p, const float* img, int iy0, int ix0, int k) {
  const int ci = k / p.taps, t = k - ci * p.taps, ky = t / p.kw, kx = t - ky * p.kw;
  const int iy = iy0 + ky * p.dh, ix = ix0 + kx * p.dw;
  if (unsigned(iy) >= unsigned(p.H) || unsigned(ix) >= unsigned(p.W)) return 0.f;
  return IN_NHWC ? img[(iy * p.W + ix) * p.C + ci] : img[(ci * p.H + iy) * p.W + ix];
}

// Output (m, co): bias, residual and activation, then the store.
template <bool OUT_NHWC>
__device__ __forceinline__ void epilogue_store(const ConvF32Params& p, int m, int co, float acc) {
  const int P = p.Ho * p.Wo, n = m / P;
  const size_t idx = OUT_NHWC ? size_t(m) * p.Co + co : (size_t(n) * p.Co + co) * P + (m - n * P);
  p.y[idx] = activate_dev(p.activation, acc + (p.bias ? p.bias[co] : 0.f) + (p.r ? p.r[idx] : 0.f));
}

// One thread per output (channel fastest, so the packed weights are read coalesced): the same FMA chain over k.
template <bool IN_NHWC, bool OUT_NHWC>
__global__ void __launch_bounds__(256) conv2d_f32_direct(ConvF32Params p) {
  const long long total = (long long)p.M * p.Co;
  const int P = p.Ho * p.Wo;
  WV_GRID_STRIDE(i, total) {
    const int m = int(i / p.Co), co = int(i - (long long)m * p.Co);
    const int g = co / p.Cog, c = co - g * p.Cog;
    const int n = m / P, rest = m - n * P, oy = rest / p.Wo, ox = rest - oy * p.Wo;
    const int iy0 = oy * p.sh - p.pt, ix0 = ox * p.sw - p.pl;
    const float* img = p.x + size_t(n) * p.C * p.H * p.W + (IN_NHWC ? size_t(g) * p.Cig : size_t(g) * p.Cig * p.H * p.W);
    const float* w = p.w + size_t(g) * p.k_tiles * kBK * p.Cog + c;
    float acc = 0.f;
    if (IN_NHWC && p.taps == 1 && p.sh == 1 && p.sw == 1 && p.pt == 0 && p.pl == 0) {
      // A 1x1 unpadded convolution or a linear layer: K = Cig contiguous inputs. Loads are issued kDirectBatch at a
      // time into registers before the chain consumes them, so one memory latency covers kDirectBatch steps (one
      // load per step left each step waiting a full latency: 0.1 ms for K = 256 on an H200). The chain's order is
      // unchanged, so the result is the same bit for bit.
      const float* xr = img + (size_t(oy) * p.W + ox) * p.C;
      int k = 0;
      for (; k + kDirectBatch <= p.Cig; k += kDirectBatch) {
        float xv[kDirectBatch], wv[kDirectBatch];
#pragma unroll
        for (int j = 0; j < kDirectBatch; ++j) {
          xv[j] = __ldg(xr + k + j);
          wv[j] = __ldg(w + size_t(k + j) * p.Cog);
        }
#pragma unroll
        for (int j = 0; j < kDirectBatch; ++j) acc = fmaf(xv[j], wv[j], acc);
      }
      for (; k < p.Cig; ++k) acc = fmaf(__ldg(xr + k), __ldg(w + size_t(k) * p.Cog), acc);
      epilogue_store<OUT_NHWC>(p, m, co, acc);
      continue;
    }
    for (int ci = 0; ci < p.Cig; ++ci)
      for (int ky = 0; ky < p.taps / p.kw; ++ky) {
        const int iy = iy0 + ky * p.dh;
        for (int kx = 0; kx < p.kw; ++kx, w += p.Cog) {
          const int ix = ix0 + kx * p.dw;
          float xv = 0.f;  // padding: a zero product, as in the CPU's im2col
          if (unsigned(iy) < unsigned(p.H) && unsigned(ix) < unsigned(p.W))
            xv = IN_NHWC ? img[(iy * p.W + ix) * p.C + ci] : img[(ci * p.H + iy) * p.W + ix];
          acc = fmaf(xv, *w, acc);
        }
      }
    epilogue_store<OUT_NHWC>(p, m, co, acc);
  }
}

template <bool IN_NHWC, bool OUT_NHWC>
__global__ void __launch_bounds__(kThreads) conv2d_f32_implicit_gemm_64x64x16(ConvF32Params p) {
  __shared__ __align__(16) float As[kBK][kPadRow];
  __shared__ __align__(16) float Bs[kBK][kPadRow];
  const int tid = threadIdx.x, g = blockIdx.z;
  const int m0 = blockIdx.x * kBM, n0 = blockIdx.y * kBN;
  const int P = p.Ho * p.Wo;

  int am[kLoads], ak[kLoads], iy0[kLoads], ix0[kLoads];
  bool pv[kLoads];
  const float* img[kLoads];
#pragma unroll
  for (int i = 0; i < kLoads; ++i) {
    am[i] = IN_NHWC ? tid / kBK + i * (kThreads / kBK) : tid % kBM;
    ak[i] = IN_NHWC ? tid % kBK : tid / kBM + i * (kThreads / kBM);
    const int m = m0 + am[i];
    pv[i] = m < p.M;
    const int mm = pv[i] ? m : 0, n = mm / P, rest = mm - n * P, oy = rest / p.Wo, ox = rest - oy * p.Wo;
    iy0[i] = oy * p.sh - p.pt;
    ix0[i] = ox * p.sw - p.pl;
    img[i] = p.x + size_t(n) * p.C * p.H * p.W + (IN_NHWC ? size_t(g) * p.Cig : size_t(g) * p.Cig * p.H * p.W);
  }
  const int bc = tid % kBN, bk0 = tid / kBN;
  const bool cv = n0 + bc < p.Cog;
  const float* wg = p.w + size_t(g) * p.k_tiles * kBK * p.Cog + n0 + bc;

  float ra[kLoads], rb[kLoads];
  auto load = [&](int kt) {
#pragma unroll
    for (int i = 0; i < kLoads; ++i) {
      const int k = kt * kBK + ak[i];
      ra[i] = (pv[i] && k < p.K) ? load_a<IN_NHWC>(p, img[i], iy0[i], ix0[i], k) : 0.f;
      rb[i] = cv ? wg[size_t(kt * kBK + bk0 + i * (kThreads / kBN)) * p.Cog] : 0.f;
    }
  };

  const int tx = tid % 16, ty = tid / 16;
  float acc[4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) acc[i][j] = 0.f;

  load(0);
  for (int kt = 0; kt < p.k_tiles; ++kt) {
#pragma unroll
    for (int i = 0; i < kLoads; ++i) {
      As[ak[i]][am[i]] = ra[i];
      Bs[bk0 + i * (kThreads / kBN)][bc] = rb[i];
    }
    __syncthreads();
    if (kt + 1 < p.k_tiles) load(kt + 1);
#pragma unroll
    for (int k = 0; k < kBK; ++k) {
      const float4 a = *reinterpret_cast<const float4*>(&As[k][ty * 4]);
      const float4 b = *reinterpret_cast<const float4*>(&Bs[k][tx * 4]);
      const float av[4] = {a.x, a.y, a.z, a.w}, bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int m = m0 + ty * 4 + i;
    if (m >= p.M) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int c = n0 + tx * 4 + j;
      if (c >= p.Cog) continue;
      epilogue_store<OUT_NHWC>(p, m, g * p.Cog + c, acc[i][j]);
    }
  }
}

using KernelFn = void (*)(ConvF32Params);

class Conv2dF32ImplicitGemm final : public Op {
 public:
  using Op::add_blob;
  using Op::set_work;
  ConvF32Params params{};
  bool has_bias = false, residual = false;
  int weights_blob = -1;
  KernelFn kernel = nullptr;
  bool direct = false;  // conv2d_f32_direct instead of the tiled kernel
  dim3 grid;

  void enqueue(const Buffers& b, void* stream) const override {
    ConvF32Params p = params;
    p.x = static_cast<const float*>(b.in[0]);
    p.w = static_cast<const float*>(b.blobs[weights_blob]);
    p.bias = has_bias ? static_cast<const float*>(b.in[kernels::kSlotBias]) : nullptr;
    p.r = residual ? static_cast<const float*>(b.in[kernels::kSlotResidual]) : nullptr;
    p.y = static_cast<float*>(b.out[0]);
    if (direct)
      kernel<<<blocks_for((long long)p.M * p.Co), 256, 0, as_stream(stream)>>>(p);
    else if (grid.x > 0 && grid.y > 0)
      kernel<<<grid, kThreads, 0, as_stream(stream)>>>(p);
  }
};

}  // namespace

Result<std::unique_ptr<Op>> create_conv2d_f32_implicit_gemm(const OpView& op, const kernels::ConvShape& s, bool in_nhwc,
                                                            bool out_nhwc) {
  WV_RETURN_IF_ERROR(check_conv_extent(op, s));
  auto k = std::make_unique<Conv2dF32ImplicitGemm>();
  kernels::FloatEpilogue ep;
  WV_RETURN_IF_ERROR(kernels::make_float_epilogue(op, s.Co, &ep));
  k->has_bias = ep.bias != nullptr;
  k->residual = ep.residual;
  ConvF32Params& p = k->params;
  p.activation = int(ep.activation);
  p.C = int(s.C); p.H = int(s.H); p.W = int(s.W); p.Co = int(s.Co); p.Ho = int(s.Ho); p.Wo = int(s.Wo);
  p.kw = int(s.kw); p.taps = int(s.taps()); p.sh = int(s.sh); p.sw = int(s.sw); p.pt = int(s.pt); p.pl = int(s.pl);
  p.dh = int(s.dh); p.dw = int(s.dw); p.Cig = int(s.Cig); p.Cog = int(s.Cog);
  p.K = int(s.K);
  p.k_tiles = (p.K + kBK - 1) / kBK;
  p.M = int(s.N * s.P());
  // weight [Co][K] (K = ci, ky, kx) -> [g][k][Cog], zero rows past K.
  const float* w = static_cast<const float*>(op.in(1).data);
  const size_t k_padded = size_t(p.k_tiles) * kBK;
  std::vector<float> packed(size_t(s.groups) * k_padded * size_t(s.Cog), 0.f);
  for (int64_t g = 0; g < s.groups; ++g)
    for (int64_t c = 0; c < s.Cog; ++c)
      for (int64_t kk = 0; kk < s.K; ++kk)
        packed[(size_t(g) * k_padded + size_t(kk)) * size_t(s.Cog) + size_t(c)] = w[(g * s.Cog + c) * s.K + kk];
  k->weights_blob = k->add_blob(packed);
  // The direct kernel where the output tiles alone would leave most of a large GPU idle.
  const int64_t tiles_m = (p.M + kBM - 1) / kBM, tiles_n = (s.Cog + kBN - 1) / kBN;
  k->direct = tiles_m * tiles_n * s.groups < kTargetBlocks;
  if (k->direct) {
    if (in_nhwc) k->kernel = out_nhwc ? conv2d_f32_direct<true, true> : conv2d_f32_direct<true, false>;
    else k->kernel = out_nhwc ? conv2d_f32_direct<false, true> : conv2d_f32_direct<false, false>;
  } else {
    if (tiles_n > 65535 || s.groups > 65535) return unsupported(op, "more than 65535 blocks along the output channels or the groups");
    if (in_nhwc)
      k->kernel = out_nhwc ? conv2d_f32_implicit_gemm_64x64x16<true, true> : conv2d_f32_implicit_gemm_64x64x16<true, false>;
    else
      k->kernel = out_nhwc ? conv2d_f32_implicit_gemm_64x64x16<false, true> : conv2d_f32_implicit_gemm_64x64x16<false, false>;
    k->grid = dim3(unsigned(tiles_m), unsigned(tiles_n), unsigned(s.groups));
  }
  k->set_work(s.N * s.Co * s.P() * s.K);
  return std::unique_ptr<Op>(std::move(k));
}

}  // namespace wv::cuda
