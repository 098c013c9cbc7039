// The int8 epilogue applied to a row of accumulators: scalar reference and an AVX2 variant, bit-identical.
#pragma once
#include <cstdint>

#include "kernels/cpu/requantize.hpp"

namespace wv::kernels {

// y[i] = ep.apply(acc[i], channel0 + i * channel_step, residual ? residual[i] : 0) for i < n.
// channel_step is 0 for a row of one channel and 1 for a row of consecutive channels. The scalar reference.
void quant_row_scalar(const QuantEpilogue& ep, const int32_t* acc, int64_t n, int channel0, int channel_step,
                      const int8_t* residual, int8_t* y);
// A finished GEMM tile: y[m * ldy + j] = ep.apply(c[m * ldc + j], channel0 + j, residual ? residual[m * ldy + j] : 0)
// for m < rows, j < n (one output channel per column, rows one stride apart: NHWC pixels or linear rows).
using QuantTileFn = void (*)(const QuantEpilogue& ep, const int32_t* c, int64_t ldc, int64_t rows, int64_t n,
                             int channel0, const int8_t* residual, int8_t* y, int64_t ldy);
void quant_tile_scalar(const QuantEpilogue& ep, const int32_t* c, int64_t ldc, int64_t rows, int64_t n, int channel0,
                       const int8_t* residual, int8_t* y, int64_t ldy);
#if defined(WV_HAVE_AVX2_KERNELS)
void quant_tile_avx2(const QuantEpilogue& ep, const int32_t* c, int64_t ldc, int64_t rows, int64_t n, int channel0,
                     const int8_t* residual, int8_t* y, int64_t ldy);
// Native 64-bit lanes (vpsravq, vpminsq, vpmovqb): a third of the AVX2 instructions. AVX-512 F/BW/DQ/VL CPUs only.
void quant_tile_avx512(const QuantEpilogue& ep, const int32_t* c, int64_t ldc, int64_t rows, int64_t n, int channel0,
                       const int8_t* residual, int8_t* y, int64_t ldy);
#endif
// The variant matching the int8 micro-kernel in use (qgemm::select_ukernel(), so WAYVERT_ISA picks both).
QuantTileFn select_quant_tile();

}  // namespace wv::kernels
