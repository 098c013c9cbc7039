// CUDA side of the runtime (built only when CUDA is enabled). Host-callable, C++ linkage, no exceptions.
#pragma once
#include <cstddef>
#include <cstdint>

namespace wv::cuda {

// Number of usable CUDA devices; 0 when the driver or a device is missing.
int device_count();

// Requantize int32 accumulators to int8 on the GPU with the same arithmetic as kernels/cpu/requantize.hpp
// (no residual): y[c*P + p] = clamp(rescale(acc + bias[c], m[c], s[c]) + zero, lo, hi). Host pointers in and out;
// returns false (and leaves y untouched) when no device is usable.
bool requantize_host(const int32_t* acc, const int32_t* bias, const int32_t* multiplier, const int32_t* shift,
                     int channels, int pixels, int32_t zero, int32_t lo, int32_t hi, int8_t* y);

}  // namespace wv::cuda
