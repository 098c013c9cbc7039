#include "kernels/cpu/requantize_row.hpp"

#include <cstring>

#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/qgemm/ukernel.hpp"

namespace wv::kernels {

void quant_row_scalar(const QuantEpilogue& ep, const int32_t* acc, int64_t n, int channel0, int channel_step,
                      const int8_t* residual, int8_t* y) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = ep.apply(acc[i], channel0 + int(i) * channel_step, residual ? residual[i] : int8_t(0));
}

void quant_tile_scalar(const QuantEpilogue& ep, const int32_t* c, int64_t ldc, int64_t rows, int64_t n, int channel0,
                       const int8_t* residual, int8_t* y, int64_t ldy) {
  for (int64_t m = 0; m < rows; ++m)
    quant_row_scalar(ep, c + m * ldc, n, channel0, 1, residual ? residual + m * ldy : nullptr, y + m * ldy);
}

QuantTileFn select_quant_tile() {
#if defined(WV_HAVE_AVX2_KERNELS)
  const char* isa = qgemm::select_ukernel().isa;
  if (std::strcmp(isa, "avx512vnni") == 0) return &quant_tile_avx512;
  if (std::strcmp(isa, "avx2") == 0) return &quant_tile_avx2;
#endif
  return &quant_tile_scalar;
}


}  // namespace wv::kernels
