#include "kernels/cpu/requantize_row.hpp"

#include <cstring>

#include "kernels/cpu/gemm.hpp"

namespace wv::kernels {

void quant_row_scalar(const QuantEpilogue& ep, const int32_t* acc, int64_t n, int channel0, int channel_step,
                      const int8_t* residual, int8_t* y) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = ep.apply(acc[i], channel0 + int(i) * channel_step, residual ? residual[i] : int8_t(0));
}

QuantRowFn select_quant_row() {
#if defined(WV_HAVE_AVX2_KERNELS)
  if (std::strcmp(active_isa(), "avx2") == 0) return &quant_row_avx2;
#endif
  return &quant_row_scalar;
}

}  // namespace wv::kernels
