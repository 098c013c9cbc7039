#pragma once
// Float matrix-multiply kernels for the CPU backend (float conv2d / linear): a portable scalar reference
// plus ISA-specific variants (AVX2+FMA on x86-64, NEON on aarch64) chosen once at run time, and the
// process-wide ISA choice (active_isa) that other kernels follow. The int8 kernels use kernels/cpu/qgemm/.
#include <cstdint>
#include <cstddef>

namespace wv::kernels {

// C[M][N] (float, row stride ldc) = A[M][K] (row-major) x B[K][N] (row-major, row stride N).
// Summation over k is in increasing k order per output for the scalar path; SIMD paths use a fixed order too,
// so results never depend on thread count or call history.
// (The SIMD paths compute each output as a chain of fused multiply-adds in increasing k order, so a
// row's result is also independent of how M is split across calls.) C columns >= N are never touched.
using GemmF32Fn = void (*)(int M, int N, int K, const float* A, const float* B, float* C, int ldc);

// Portable reference implementation (plain loops).
void gemm_f32_scalar(int M, int N, int K, const float* A, const float* B, float* C, int ldc);

#if defined(WV_HAVE_AVX2_KERNELS)
// AVX2+FMA variant; call only when the CPU supports AVX2 and FMA (see select_gemm_f32).
void gemm_f32_avx2(int M, int N, int K, const float* A, const float* B, float* C, int ldc);
#endif

#if defined(__aarch64__)
// NEON variant (always available on aarch64).
void gemm_f32_neon(int M, int N, int K, const float* A, const float* B, float* C, int ldc);
#endif

// Runtime dispatch: best variant for this CPU (checked once; WAYVERT_ISA=scalar env var forces the scalar path).
GemmF32Fn select_gemm_f32();
const char* active_isa();   // "avx2", "neon" or "scalar"

}  // namespace wv::kernels
