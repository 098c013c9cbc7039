#pragma once
// Matrix-multiply micro-kernels for the CPU backend: a portable scalar reference plus
// ISA-specific variants (AVX2+FMA on x86-64, NEON on aarch64) chosen once at run time.
#include <cstdint>
#include <cstddef>

namespace wv::kernels {

// C[M][N] (int32, row stride ldc) = A[M][Kp] (int16, row-major, row stride Kp, Kp even) x B,
// where B is K-pair interleaved: B[(k/2)*N*2 + n*2 + (k%2)] holds element (k, n); exact integer arithmetic.
// Exactness bound: with |A*B| products < 2^17 (int8 data minus zero point) and Kp < 2^14 every partial
// sum stays below 2^31, so all variants agree bit for bit. C columns >= N are never touched.
using GemmS16Fn = void (*)(int M, int N, int Kp, const int16_t* A, const int16_t* B, int32_t* C, int ldc);

// C[M][N] (float, row stride ldc) = A[M][K] (row-major) x B[K][N] (row-major, row stride N).
// Summation over k is in increasing k order per output for the scalar path; SIMD paths use a fixed order too,
// so results never depend on thread count or call history.
// (The SIMD paths compute each output as a chain of fused multiply-adds in increasing k order, so a
// row's result is also independent of how M is split across calls.) C columns >= N are never touched.
using GemmF32Fn = void (*)(int M, int N, int K, const float* A, const float* B, float* C, int ldc);

// Portable reference implementations (plain loops).
void gemm_s16_scalar(int M, int N, int Kp, const int16_t* A, const int16_t* B, int32_t* C, int ldc);
void gemm_f32_scalar(int M, int N, int K, const float* A, const float* B, float* C, int ldc);

#if defined(WV_HAVE_AVX2_KERNELS)
// AVX2 (+FMA for f32) variants; call only when the CPU supports AVX2 and FMA (see select_*).
void gemm_s16_avx2(int M, int N, int Kp, const int16_t* A, const int16_t* B, int32_t* C, int ldc);
void gemm_f32_avx2(int M, int N, int K, const float* A, const float* B, float* C, int ldc);
#endif

#if defined(__aarch64__)
// NEON variants (always available on aarch64).
void gemm_s16_neon(int M, int N, int Kp, const int16_t* A, const int16_t* B, int32_t* C, int ldc);
void gemm_f32_neon(int M, int N, int K, const float* A, const float* B, float* C, int ldc);
#endif

// Runtime dispatch: best variant for this CPU (checked once; WAYVERT_ISA=scalar env var forces the scalar path).
GemmS16Fn select_gemm_s16();
GemmF32Fn select_gemm_f32();
const char* active_isa();   // "avx2", "neon" or "scalar"

}  // namespace wv::kernels
