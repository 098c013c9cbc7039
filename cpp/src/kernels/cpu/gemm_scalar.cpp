// Portable reference GEMM kernels: plain loops, no intrinsics, defined results on every target.
#include "kernels/cpu/gemm.hpp"

namespace wv::kernels {

// Exact int32 result. Overflow bound: A and B come from int8 data minus a zero point, so each
// product |A*B| < 2^17, and Kp < 2^14 terms keep |sum| < 2^31: int32 accumulation never overflows.
void gemm_s16_scalar(int M, int N, int Kp, const int16_t* A, const int16_t* B, int32_t* C, int ldc) {
  const int pairs = Kp / 2;
  const std::ptrdiff_t bstride = std::ptrdiff_t(2) * N;  // int16 elements per k-pair row of B
  for (int m = 0; m < M; ++m) {
    const int16_t* a = A + std::ptrdiff_t(m) * Kp;
    int32_t* c = C + std::ptrdiff_t(m) * ldc;
    for (int n = 0; n < N; ++n) c[n] = 0;
    for (int p = 0; p < pairs; ++p) {
      const int32_t a0 = a[2 * p], a1 = a[2 * p + 1];
      const int16_t* b = B + p * bstride;
      for (int n = 0; n < N; ++n) c[n] += a0 * int32_t(b[2 * n]) + a1 * int32_t(b[2 * n + 1]);
    }
  }
}

// Each C[m][n] is 0 + A[m][0]*B[0][n] + A[m][1]*B[1][n] + ... accumulated in float, in increasing k order.
void gemm_f32_scalar(int M, int N, int K, const float* A, const float* B, float* C, int ldc) {
  for (int m = 0; m < M; ++m) {
    const float* a = A + std::ptrdiff_t(m) * K;
    float* c = C + std::ptrdiff_t(m) * ldc;
    for (int n = 0; n < N; ++n) c[n] = 0.0f;
    for (int k = 0; k < K; ++k) {
      const float av = a[k];
      const float* b = B + std::ptrdiff_t(k) * N;
      for (int n = 0; n < N; ++n) c[n] += av * b[n];
    }
  }
}

}  // namespace wv::kernels
