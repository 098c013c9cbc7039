// The int8 GEMM micro-kernel family behind conv2d and linear (XNNPACK's split: the driver tiles, threads,
// packs and requantizes; a micro-kernel computes one register tile and knows nothing else).
//
// Every micro-kernel is an *indirect* GEMM: its A rows (output pixels, or linear rows) arrive as pointers,
// one per row per kernel tap, so a 3x3 convolution reads the NHWC activation in place, with no im2col; a
// 1x1 convolution or a linear layer is the same call with one tap. Each computes, exactly in int32,
//
//   c[m][n] = bias'[n] + sum_{t < ks} sum_{k < kc} A(a[t*mr + m])[k] * W[t][k][n]        m < mr, n < nr
//
// where A and bias' are in the micro-kernel's A format (below), so that c equals the true accumulator
// bias[n] + sum (x - z) * w for int8 activations x with zero point z and int8 weights w.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace wv::kernels::qgemm {

// How an int8 activation x (zero point z) reaches the micro-kernel, and what the packed bias carries.
enum class AFormat : uint8_t {
  s16_centered,  // int16 x - z; exact in vpmaddwd / smlal. bias' = bias. Padding taps read 0.
  u8_offset,     // uint8 x + 128 (x ^ 0x80), for u8 x s8 dot products (vpdpbusd). bias' = bias - (z + 128) * sum(w).
                 // Padding taps read z + 128.
  s8_raw,        // int8 x as is, for s8 x s8 dot products (sdot, smmla). bias' = bias - z * sum(w). Padding reads z.
};

inline size_t a_element_bytes(AFormat f) { return f == AFormat::s16_centered ? 2 : 1; }

// One micro-kernel. Named by what it computes, its tile and its ISA: qs8_igemm_<mr>x<nr>c<kr>_<isa>.
struct Ukernel {
  const char* name;
  const char* isa;        // what WAYVERT_ISA names to force it: "scalar", "avx2", "avx512vnni", "neon", "neondot", "i8mm"
  AFormat a_format;
  int mr;                 // rows (pixels) per tile
  int nr;                 // columns (output channels) per tile; a multiple of 4
  int kr;                 // reduction grouping: kc is always a multiple of kr
  bool (*supported)();    // can this CPU run it (checked at run time)
  // a: ks * mr row pointers, tap-major (a[t * mr + m]); every pointer is valid (rows past the problem's end
  //    repeat a valid one) and addresses kc elements of a_format. w: one packed column block (pack_weights).
  // c: mr x nr int32, row stride nr; every element is written.
  void (*run)(size_t kc, size_t ks, const void* const* a, const void* w, int32_t* c);
  // Optional: the same for ONE row (a: ks pointers; c: nr int32), for a batch-1 linear layer or a block's last
  // rows, where run() would compute mr - 1 rows for nothing. nullptr: the driver repeats the row through run().
  void (*run_row)(size_t kc, size_t ks, const void* const* a, const void* w, int32_t* c) = nullptr;
};

// Packed weights of one layer for one micro-kernel: ceil(N / nr) column blocks, each
//   int32 bias'[nr]  then  W[t][k / kr][n][k % kr] for t < ks, k < kc, n < nr  (int16 for s16_centered, else int8),
// with zeros for k >= the layer's channels and n >= N. Packed once when the engine loads.
struct PackedWeights {
  std::vector<uint8_t> bytes;  // no alignment is required by any kernel
  size_t block_bytes = 0;
  int64_t blocks = 0;
  int64_t kc = 0;  // padded channels per tap
  int64_t ks = 0;  // taps
  const void* block(int64_t j) const { return bytes.data() + size_t(j) * block_bytes; }
};

// Pack w[n][t][c] (n < N output channels, t < ks taps, c < C channels per tap, int8) and bias[n] (int32,
// nullable) for `uk`, folding the input zero point z as the A format requires. Bounds (why int32 never
// overflows): |x - z| <= 255, |w| <= 128, kc * ks <= 16384 gives |sum| < 2^29, and |bias| < 2^30.
PackedWeights pack_weights(const Ukernel& uk, const int8_t* w, const int32_t* bias, int64_t N, int64_t ks, int64_t C,
                           int32_t z);

// Convert rows of int8 activations into the A format: dst row r (stride kc elements) holds f(x[r * row_stride +
// c * chan_stride]) for c < C and the padding value for C <= c < kc. Rows [r0, r1). chan_stride 1 reads NHWC
// rows in place; row_stride 1 and chan_stride = H*W transposes an NCHW plane stack.
void prepare_rows(AFormat f, const int8_t* x, int64_t row_stride, int64_t chan_stride, int64_t C, int64_t kc,
                  int32_t z, int64_t r0, int64_t r1, void* dst);
// One row of kc elements that reads as x = z (what a padding tap contributes: nothing).
void fill_padding_row(AFormat f, int64_t kc, int32_t z, void* dst);

// The micro-kernels this build contains, best first; the scalar reference is always last.
const std::vector<const Ukernel*>& all_ukernels();
// The best one this CPU supports (WAYVERT_ISA=<isa> forces a supported one; an unknown or unsupported
// name falls back to the best). Fixed for the process.
const Ukernel& select_ukernel();

// Defined in one file each; reached only through all_ukernels().
extern const Ukernel qs8_igemm_4x8c2_scalar;
#if defined(WV_HAVE_AVX2_KERNELS)
extern const Ukernel qs8_igemm_6x16c2_avx2;
extern const Ukernel qs8_igemm_8x16c4_avx512vnni;
#endif
#if defined(__aarch64__)
extern const Ukernel qs8_igemm_4x8c2_neon;     // smull/smlal, any ARMv8-A
extern const Ukernel qs8_igemm_4x16c4_neondot; // sdot (FEAT_DotProd)
extern const Ukernel qs8_igemm_4x8c8_i8mm;     // smmla (FEAT_I8MM)
#endif

}  // namespace wv::kernels::qgemm
