// Float activations fused into conv2d/linear/add epilogues (codes are the engine's `activation` attribute).
#pragma once
#include <cmath>
#include <cstdint>

namespace wv::kernels {

enum class Activation : int64_t { none = 0, relu = 1, relu6 = 2, silu = 3, gelu = 4 };

inline bool activation_known(int64_t a) { return a >= 0 && a <= 4; }

inline float activate(Activation a, float x) {
  switch (a) {
    case Activation::none: return x;
    case Activation::relu: return x > 0.f ? x : 0.f;
    case Activation::relu6: return x < 0.f ? 0.f : (x > 6.f ? 6.f : x);
    case Activation::silu: return x / (1.f + std::exp(-x));
    case Activation::gelu: return 0.5f * x * (1.f + std::erf(x * 0.70710678118654752f));
  }
  return x;
}

inline void activate_inplace(Activation a, float* x, int64_t n) {
  if (a == Activation::none) return;
  for (int64_t i = 0; i < n; ++i) x[i] = activate(a, x[i]);
}

}  // namespace wv::kernels
