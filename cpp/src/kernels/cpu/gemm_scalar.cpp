// Portable reference float GEMM: plain loops, no intrinsics, defined results on every target.
#include "kernels/cpu/gemm.hpp"

namespace wv::kernels {

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
