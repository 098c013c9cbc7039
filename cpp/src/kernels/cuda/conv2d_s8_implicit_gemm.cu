// int8 conv2d (every convolution but depthwise) and int8 linear on CUDA as an implicit GEMM: no im2col buffer,
// each block gathers its tile of the virtual column matrix straight from the NCHW or NHWC input.
//   M = output pixels of all images (n, oy, ox), N = output channels of one group (grid.z: group, split below),
//   K = kh * kw taps x Cig channels padded to a multiple of 4, ordered (ky, kx, ci): one 32-bit word of K holds
//   4 channels of one tap, the operand of __dp4a and of the int8 tensor-core MMA alike.
// Zero point: the tile holds raw x (taps in the padding hold z), and sum (x - z) w = sum x w - z sum w; the weight
// sums are folded into the bias at creation (bias' = bias - z sum_k w), so the inner loop multiplies raw bytes.
// Exact: |sum x w| <= 16384 * 128 * 128 = 2^28 and |bias'| < 2^30 + 2^28 fit int32; int32 sums are exact in any
// order, and the epilogue is kernels/cpu/requantize.hpp's (common.cuh), so outputs equal the CPU's bit for bit.
// Tile: 64 pixels x 64 channels x 64 K-bytes (16 words) per stage, 256 threads. The next stage's global loads go to
// registers while the current one is multiplied. Two inner loops share everything else:
//   mma: mma.sync.m16n8k32 s8 (sm_80+, both our archs), 8 warps of 32 x 16 outputs; the default (a build for an
//        older arch compiles the dp4a loop in its place);
//   dp4a: 4 x 4 outputs per thread; the portable path, also chosen by WAYVERT_CUDA_IGEMM=dp4a when an engine's
//        CUDA kernels are created (its first CUDA session), so that tests check both on one GPU.
// Weights are repacked at creation into [group][K words, padded to the stage][Cog] words (coalesced B loads).
// Split-K: where the output tiles are too few to fill the GPU (deep layers at batch 1), the K stages are shared out
// among up to 16 splits (grid.z = split x group) writing int32 partial sums to the scratch region, and a second
// kernel adds them (exact) and runs the epilogue.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernels/cpu/epilogue.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv2d_implicit_gemm.hpp"

namespace wv::cuda {
namespace {

constexpr int kBM = 64, kBN = 64, kKW = 16;  // tile: pixels, channels, K words (4 int8 each)
constexpr int kThreads = 256;
constexpr int kPadRow = kBM + 8;  // shared rows padded: the MMA fragment reads hit 32 distinct banks
constexpr int kLoads = kBM * kKW / kThreads;  // A (and B) words each thread moves per stage
constexpr int64_t kTargetBlocks = 264;          // 2 per SM of an H200 (132 SMs); Orin-class GPUs have fewer SMs
constexpr int64_t kMinTilesPerSplit = 4, kMaxSplits = 16;

struct ConvS8Params {
  const int8_t* x = nullptr;
  const int32_t* w = nullptr;  // packed [group][k_tiles * kKW][Cog] words
  const int8_t* r = nullptr;
  int8_t* y = nullptr;
  QuantEpilogue ep;
  int C, H, W, Co, Ho, Wo, kw, sh, sw, pt, pl, dh, dw, Cig, Cog;
  int words_per_tap;  // ceil(Cig / 4)
  int k_words;        // kh * kw * words_per_tap
  int k_tiles;        // ceil(k_words / kKW)
  int adv_word, adv_kx, adv_ky;  // one stage (kKW words) further along K: words within a tap, kernel column, row
  int groups;
  int splits;           // split-K: blockIdx.z = split * groups + group, each split sums tiles_per_split stages
  int tiles_per_split;
  int32_t* partial = nullptr;  // splits > 1: [split][M][Co] int32 sums, reduced by conv2d_s8_split_k_epilogue
  int M;              // N * Ho * Wo
  int pad_word;       // the input zero point in each byte
  bool aligned;       // NHWC with C and Cig multiples of 4: a word is one aligned 32-bit load
};

__device__ __forceinline__ int pack4(int b0, int b1, int b2, int b3) {
  return (b0 & 0xff) | ((b1 & 0xff) << 8) | ((b2 & 0xff) << 16) | (int(unsigned(b3) << 24));
}

// Where a thread's load is along K: word `word` of tap (ky, kx), word index `kword`. Each stage moves it kKW words
// on with adds and at most one carry per field (no division in the loop).
struct KPosition {
  int kword, word, kx, ky;
  __device__ __forceinline__ void start(const ConvS8Params& p, int k) {
    kword = k;
    const int tap = k / p.words_per_tap;
    word = k - tap * p.words_per_tap;
    ky = tap / p.kw;
    kx = tap - ky * p.kw;
  }
  __device__ __forceinline__ void advance(const ConvS8Params& p) {
    kword += kKW;
    word += p.adv_word;
    kx += p.adv_kx;
    ky += p.adv_ky;
    if (word >= p.words_per_tap) { word -= p.words_per_tap; ++kx; }
    if (kx >= p.kw) { kx -= p.kw; ++ky; }
  }
};

// Word `k` of K for the pixel whose image (group's first channel) is `img` and whose first tap reads (iy0, ix0).
template <bool IN_NHWC>
__device__ __forceinline__ int load_a_word(const ConvS8Params& p, const int8_t* img, int iy0, int ix0,
                                           const KPosition& k) {
  const int ci = k.word * 4;
  const int iy = iy0 + k.ky * p.dh, ix = ix0 + k.kx * p.dw;
  if (unsigned(iy) >= unsigned(p.H) || unsigned(ix) >= unsigned(p.W)) return p.pad_word;
  const int left = p.Cig - ci;  // channels of this word inside the group; the rest multiply zero weights
  if (IN_NHWC) {
    const int8_t* q = img + (iy * p.W + ix) * p.C + ci;
    if (p.aligned) return *reinterpret_cast<const int*>(q);
    return pack4(q[0], left > 1 ? q[1] : 0, left > 2 ? q[2] : 0, left > 3 ? q[3] : 0);
  } else {
    const int hw = p.H * p.W;
    const int8_t* q = img + ci * hw + iy * p.W + ix;
    return pack4(q[0], left > 1 ? q[hw] : 0, left > 2 ? q[2 * hw] : 0, left > 3 ? q[3 * hw] : 0);
  }
}

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
constexpr bool kArchHasMma = false;
#else
constexpr bool kArchHasMma = true;
#endif

__device__ __forceinline__ void mma_s8_16x8x32(int& d0, int& d1, int& d2, int& d3, int a0, int a1, int a2, int a3,
                                               int b0, int b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+r"(d0), "+r"(d1), "+r"(d2), "+r"(d3)
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
#else
  __trap();  // unreachable: below sm_80 the kernels use the dp4a loop (kArchHasMma)
#endif
}

// Output (m, co) of the convolution: requantize and store (m: pixel index over all images, co: output channel).
template <bool OUT_NHWC>
__device__ __forceinline__ void requantize_store(const ConvS8Params& p, int m, int co, int acc) {
  const int P = p.Ho * p.Wo;
  size_t idx;
  if (OUT_NHWC) {
    idx = size_t(m) * p.Co + co;
  } else {
    const int n = m / P;
    idx = (size_t(n) * p.Co + co) * P + (m - n * P);
  }
  const int8_t r = p.ep.residual ? p.r[idx] : int8_t(0);
  p.y[idx] = p.ep.apply(acc, co, r);
}

// Output (m, c) of group g's tile: the finished sum, or this split's partial sum.
template <bool OUT_NHWC>
__device__ __forceinline__ void store_output(const ConvS8Params& p, int g, int split, int m, int c, int acc) {
  if (m >= p.M || c >= p.Cog) return;
  const int co = g * p.Cog + c;
  if (p.splits > 1)
    p.partial[(size_t(split) * p.M + m) * p.Co + co] = acc;
  else
    requantize_store<OUT_NHWC>(p, m, co, acc);
}

// Split-K: sum the splits' partial sums of each output (exact in int32, in any order), then the epilogue.
template <bool OUT_NHWC>
__global__ void __launch_bounds__(256) conv2d_s8_split_k_epilogue(ConvS8Params p) {
  const long long total = (long long)p.M * p.Co;
  WV_GRID_STRIDE(i, total) {
    int acc = 0;
    for (int s = 0; s < p.splits; ++s) acc += p.partial[size_t(s) * total + size_t(i)];
    const int m = int(i / p.Co), co = int(i - (long long)m * p.Co);
    requantize_store<OUT_NHWC>(p, m, co, acc);
  }
}

template <bool IN_NHWC, bool OUT_NHWC, bool MMA>
__global__ void __launch_bounds__(kThreads) conv2d_s8_implicit_gemm_64x64x64(ConvS8Params p) {
  __shared__ __align__(16) int As[kKW][kPadRow];
  __shared__ __align__(16) int Bs[kKW][kPadRow];
  constexpr bool kMma = MMA && kArchHasMma;
  const int tid = threadIdx.x, g = blockIdx.z % p.groups, split = blockIdx.z / p.groups;
  const int kt0 = split * p.tiles_per_split, kt1 = min(p.k_tiles, kt0 + p.tiles_per_split);
  const int m0 = blockIdx.x * kBM, n0 = blockIdx.y * kBN;
  const int P = p.Ho * p.Wo;

  // A: the pixel and K word each of this thread's loads covers. NHWC: 16 threads read one pixel's 64 bytes.
  int am[kLoads], ak[kLoads], iy0[kLoads], ix0[kLoads];
  bool pv[kLoads];
  const int8_t* img[kLoads];
#pragma unroll
  for (int i = 0; i < kLoads; ++i) {
    am[i] = IN_NHWC ? tid / kKW + i * (kThreads / kKW) : tid % kBM;
    ak[i] = IN_NHWC ? tid % kKW : tid / kBM + i * (kThreads / kBM);
    const int m = m0 + am[i];
    pv[i] = m < p.M;
    const int mm = pv[i] ? m : 0, n = mm / P, rest = mm - n * P, oy = rest / p.Wo, ox = rest - oy * p.Wo;
    iy0[i] = oy * p.sh - p.pt;
    ix0[i] = ox * p.sw - p.pl;
    img[i] = p.x + size_t(n) * p.C * p.H * p.W + (IN_NHWC ? size_t(g) * p.Cig : size_t(g) * p.Cig * p.H * p.W);
  }
  // B: one channel, kLoads K words.
  const int bc = tid % kBN, bk0 = tid / kBN;
  const bool cv = n0 + bc < p.Cog;
  const int* wg = p.w + size_t(g) * p.k_tiles * kKW * p.Cog + n0 + bc;

  KPosition kp[kLoads];
#pragma unroll
  for (int i = 0; i < kLoads; ++i) kp[i].start(p, kt0 * kKW + ak[i]);
  int ra[kLoads], rb[kLoads];
  auto load = [&](int kt) {  // called for kt0, kt0 + 1, ... in order: kp[] walks along
#pragma unroll
    for (int i = 0; i < kLoads; ++i) {
      ra[i] = (pv[i] && kp[i].kword < p.k_words) ? load_a_word<IN_NHWC>(p, img[i], iy0[i], ix0[i], kp[i]) : 0;
      kp[i].advance(p);
      const int bk = bk0 + i * (kThreads / kBN);
      rb[i] = cv ? wg[size_t(kt * kKW + bk) * p.Cog] : 0;
    }
  };

  const int lane = tid % 32, warp = tid / 32;
  // MMA: warp (wm, wn) owns rows wm*32 .. +32 and channels wn*16 .. +16 as 2 x 2 fragments of 16 x 8.
  const int wm = warp % 2, wn = warp / 2, gid = lane / 4, tig = lane % 4;
  // dp4a: thread (tx, ty) owns rows ty*4 .. +4 and channels tx*4 .. +4.
  const int tx = tid % 16, ty = tid / 16;
  int acc[16];
#pragma unroll
  for (int i = 0; i < 16; ++i) acc[i] = 0;

  load(kt0);
  for (int kt = kt0; kt < kt1; ++kt) {
#pragma unroll
    for (int i = 0; i < kLoads; ++i) {
      As[ak[i]][am[i]] = ra[i];
      Bs[bk0 + i * (kThreads / kBN)][bc] = rb[i];
    }
    __syncthreads();
    if (kt + 1 < kt1) load(kt + 1);
    if (kMma) {
#pragma unroll
      for (int ks = 0; ks < kKW; ks += 8) {  // 8 words = the MMA's 32 bytes of K
        int a[2][4], b[2][2];
#pragma unroll
        for (int mi = 0; mi < 2; ++mi) {
          const int row = wm * 32 + mi * 16 + gid;
          a[mi][0] = As[ks + tig][row];
          a[mi][1] = As[ks + tig][row + 8];
          a[mi][2] = As[ks + 4 + tig][row];
          a[mi][3] = As[ks + 4 + tig][row + 8];
        }
#pragma unroll
        for (int ni = 0; ni < 2; ++ni) {
          const int col = wn * 16 + ni * 8 + gid;
          b[ni][0] = Bs[ks + tig][col];
          b[ni][1] = Bs[ks + 4 + tig][col];
        }
#pragma unroll
        for (int mi = 0; mi < 2; ++mi)
#pragma unroll
          for (int ni = 0; ni < 2; ++ni) {
            const int f = (mi * 2 + ni) * 4;
            mma_s8_16x8x32(acc[f], acc[f + 1], acc[f + 2], acc[f + 3], a[mi][0], a[mi][1], a[mi][2], a[mi][3],
                           b[ni][0], b[ni][1]);
          }
      }
    } else {
#pragma unroll
      for (int k = 0; k < kKW; ++k) {
        const int4 a = *reinterpret_cast<const int4*>(&As[k][ty * 4]);
        const int4 b = *reinterpret_cast<const int4*>(&Bs[k][tx * 4]);
        const int av[4] = {a.x, a.y, a.z, a.w}, bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
          for (int j = 0; j < 4; ++j) acc[i * 4 + j] = __dp4a(av[i], bv[j], acc[i * 4 + j]);
      }
    }
    __syncthreads();
  }

  if (kMma) {
    // Fragment d of (mi, ni): d0, d1 at row gid, channels tig*2 + {0, 1}; d2, d3 at row gid + 8.
#pragma unroll
    for (int mi = 0; mi < 2; ++mi)
#pragma unroll
      for (int ni = 0; ni < 2; ++ni)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int m = m0 + wm * 32 + mi * 16 + gid + (e >= 2 ? 8 : 0);
          const int c = n0 + wn * 16 + ni * 8 + tig * 2 + (e & 1);
          store_output<OUT_NHWC>(p, g, split, m, c, acc[(mi * 2 + ni) * 4 + e]);
        }
  } else {
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) store_output<OUT_NHWC>(p, g, split, m0 + ty * 4 + i, n0 + tx * 4 + j, acc[i * 4 + j]);
  }
}

using KernelFn = void (*)(ConvS8Params);

template <bool MMA>
KernelFn pick(bool in_nhwc, bool out_nhwc) {
  if (in_nhwc) return out_nhwc ? conv2d_s8_implicit_gemm_64x64x64<true, true, MMA> : conv2d_s8_implicit_gemm_64x64x64<true, false, MMA>;
  return out_nhwc ? conv2d_s8_implicit_gemm_64x64x64<false, true, MMA> : conv2d_s8_implicit_gemm_64x64x64<false, false, MMA>;
}

class Conv2dS8ImplicitGemm final : public Op {
 public:
  using Op::add_blob;  // filled in by the create function below
  using Op::set_work;
  using Op::set_scratch_bytes;
  ConvS8Params params{};  // device pointers filled in at enqueue
  bool has_lut = false;
  int weights_blob = -1, bias_blob = -1;
  KernelFn kernel = nullptr;
  KernelFn reduce = nullptr;  // split-K only
  dim3 grid;

  void enqueue(const Buffers& b, void* stream) const override {
    ConvS8Params p = params;
    p.x = static_cast<const int8_t*>(b.in[0]);
    p.w = static_cast<const int32_t*>(b.blobs[weights_blob]);
    p.r = p.ep.residual ? static_cast<const int8_t*>(b.in[kernels::kSlotResidual]) : nullptr;
    p.y = static_cast<int8_t*>(b.out[0]);
    p.ep.bias = static_cast<const int32_t*>(b.blobs[bias_blob]);
    p.ep.multiplier = static_cast<const int32_t*>(b.in[kernels::kSlotMultiplier]);
    p.ep.shift = static_cast<const int32_t*>(b.in[kernels::kSlotShift]);
    p.ep.lut = has_lut ? static_cast<const int8_t*>(b.in[kernels::kSlotLut]) : nullptr;
    p.partial = static_cast<int32_t*>(b.scratch);
    if (grid.x == 0 || grid.y == 0) return;  // no output pixels or channels
    kernel<<<grid, kThreads, 0, as_stream(stream)>>>(p);
    if (p.splits > 1) reduce<<<blocks_for((long long)p.M * p.Co), 256, 0, as_stream(stream)>>>(p);
  }
};

// WAYVERT_CUDA_IGEMM=dp4a selects the portable inner loop (so tests can check both on one GPU).
bool use_mma() {
  const char* v = std::getenv("WAYVERT_CUDA_IGEMM");
  return v == nullptr || std::strcmp(v, "dp4a") != 0;
}

}  // namespace

Result<std::unique_ptr<Op>> create_conv2d_s8_implicit_gemm(const OpView& op, const kernels::ConvShape& s, bool in_nhwc,
                                                           bool out_nhwc) {
  WV_RETURN_IF_ERROR(check_conv_extent(op, s));
  if (s.Cig < 1) return unsupported(op, "a convolution without input channels");
  auto k = std::make_unique<Conv2dS8ImplicitGemm>();
  kernels::QuantEpilogue host_ep;
  WV_RETURN_IF_ERROR(kernels::make_quant_epilogue(op, s.Co, &host_ep));
  ConvS8Params& p = k->params;
  p.ep.residual = host_ep.residual;
  p.ep.residual_zero = host_ep.residual_zero;
  p.ep.residual_multiplier = host_ep.residual_multiplier;
  p.ep.residual_shift = host_ep.residual_shift;
  p.ep.out_zero = host_ep.out_zero;
  p.ep.act_min = host_ep.act_min;
  p.ep.act_max = host_ep.act_max;
  k->has_lut = host_ep.lut != nullptr;

  const int32_t zero = op.in(0).zero_point;
  if (zero < -128 || zero > 127) return op.error("int8 input zero point outside -128..127");
  p.C = int(s.C); p.H = int(s.H); p.W = int(s.W); p.Co = int(s.Co); p.Ho = int(s.Ho); p.Wo = int(s.Wo);
  p.kw = int(s.kw); p.sh = int(s.sh); p.sw = int(s.sw); p.pt = int(s.pt); p.pl = int(s.pl);
  p.dh = int(s.dh); p.dw = int(s.dw); p.Cig = int(s.Cig); p.Cog = int(s.Cog);
  p.words_per_tap = int((s.Cig + 3) / 4);
  p.k_words = int(s.kh * s.kw) * p.words_per_tap;
  p.k_tiles = (p.k_words + kKW - 1) / kKW;
  p.adv_word = kKW % p.words_per_tap;
  p.adv_kx = int((kKW / p.words_per_tap) % s.kw);
  p.adv_ky = int((kKW / p.words_per_tap) / s.kw);
  p.M = int(s.N * s.P());
  p.pad_word = int(uint32_t(uint8_t(int8_t(zero))) * 0x01010101u);
  p.aligned = in_nhwc && s.C % 4 == 0 && s.Cig % 4 == 0;

  // weight [Co][Cig][kh][kw] -> [g][k word][Cog] words, byte ci % 4 of word (tap * words_per_tap + ci / 4);
  // bias' = bias - z * (sum of the channel's weights).
  const int8_t* w = static_cast<const int8_t*>(op.in(1).data);
  const size_t kw_padded = size_t(p.k_tiles) * kKW;
  std::vector<int8_t> packed(size_t(s.groups) * kw_padded * size_t(s.Cog) * 4, 0);
  std::vector<int32_t> bias(size_t(s.Co));
  for (int64_t g = 0; g < s.groups; ++g)
    for (int64_t c = 0; c < s.Cog; ++c) {
      const int64_t co = g * s.Cog + c;
      int64_t sum = 0;
      for (int64_t ci = 0; ci < s.Cig; ++ci)
        for (int64_t t = 0; t < s.taps(); ++t) {
          const int8_t v = w[(co * s.Cig + ci) * s.taps() + t];
          const size_t word = size_t(g) * kw_padded + size_t(t * p.words_per_tap + ci / 4);
          packed[(word * size_t(s.Cog) + size_t(c)) * 4 + size_t(ci % 4)] = v;
          sum += v;
        }
      const int64_t folded = (host_ep.bias ? host_ep.bias[co] : 0) - int64_t(zero) * sum;
      if (folded > INT32_MAX || folded < INT32_MIN) return op.error("bias minus zero point times weight sum overflows int32");
      bias[size_t(co)] = int32_t(folded);
    }
  k->weights_blob = k->add_blob(packed);
  k->bias_blob = k->add_blob(bias);
  k->kernel = use_mma() ? pick<true>(in_nhwc, out_nhwc) : pick<false>(in_nhwc, out_nhwc);
  // Split-K where the output tiles alone leave most of a large GPU idle (the deep, narrow layers of a backbone at
  // batch 1): aim at kTargetBlocks blocks, each split summing at least kMinTilesPerSplit stages.
  const int64_t tiles_m = (p.M + kBM - 1) / kBM, tiles_n = (s.Cog + kBN - 1) / kBN;
  const int64_t blocks = tiles_m * tiles_n * s.groups;
  int64_t splits = 1;
  if (blocks > 0 && blocks < kTargetBlocks && p.k_tiles >= 2 * kMinTilesPerSplit)
    splits = std::min<int64_t>({(kTargetBlocks + blocks - 1) / blocks, p.k_tiles / kMinTilesPerSplit, kMaxSplits});
  p.groups = int(s.groups);
  p.tiles_per_split = int((p.k_tiles + splits - 1) / splits);
  p.splits = p.tiles_per_split > 0 ? (p.k_tiles + p.tiles_per_split - 1) / p.tiles_per_split : 1;
  if (p.splits > 1) {
    k->reduce = out_nhwc ? conv2d_s8_split_k_epilogue<true> : conv2d_s8_split_k_epilogue<false>;
    k->set_scratch_bytes(size_t(p.splits) * size_t(p.M) * size_t(s.Co) * sizeof(int32_t));
  }
  if (tiles_n > 65535 || int64_t(p.splits) * s.groups > 65535)
    return unsupported(op, "more than 65535 blocks along the output channels or the groups");
  k->grid = dim3(unsigned(tiles_m), unsigned(tiles_n), unsigned(p.splits * s.groups));
  k->set_work(s.N * s.Co * s.P() * s.K);
  return std::unique_ptr<Op>(std::move(k));
}

}  // namespace wv::cuda
