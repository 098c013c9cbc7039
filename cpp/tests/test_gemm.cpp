// Float GEMM kernel test: every SIMD variant usable here against the scalar reference (1e-5 relative),
// the scalar reference against a double recomputation, determinism (repeated and M-split calls), dispatch.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "check.hpp"
#include "kernels/cpu/gemm.hpp"

using namespace wv::kernels;

namespace {

struct Variant { const char* name; GemmF32Fn f32; };

// Variants other than scalar that this CPU can run.
std::vector<Variant> simd_variants() {
  std::vector<Variant> v;
#if defined(WV_HAVE_AVX2_KERNELS)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    v.push_back({"avx2", &gemm_f32_avx2});
#endif
#if defined(__aarch64__)
  v.push_back({"neon", &gemm_f32_neon});
#endif
  return v;
}

constexpr float kSentinelF = -12345.5f;

std::string shape(const char* what, int M, int N, int K, int ldc) {
  return std::string(what) + " M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
         " ldc=" + std::to_string(ldc);
}

// Tolerance: 1e-5 relative to sum_k |A*B| (the scale of the dot product, robust to cancellation).
void check_f32_case(const Variant& v, std::mt19937& rng, int M, int N, int K, int ldc) {
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> A(size_t(M) * K), B(size_t(K) * N);
  for (auto& x : A) x = d(rng);
  for (auto& x : B) x = d(rng);
  std::vector<float> ref(size_t(M) * ldc, kSentinelF), got(size_t(M) * ldc, kSentinelF), again(got), split(got);
  gemm_f32_scalar(M, N, K, A.data(), B.data(), ref.data(), ldc);
  v.f32(M, N, K, A.data(), B.data(), got.data(), ldc);
  v.f32(M, N, K, A.data(), B.data(), again.data(), ldc);
  // Same rows computed in two calls (as two threads would): must be bit-identical to one call.
  const int m1 = M > 1 ? int(rng() % unsigned(M)) : 0;
  v.f32(m1, N, K, A.data(), B.data(), split.data(), ldc);
  v.f32(M - m1, N, K, A.data() + size_t(m1) * K, B.data(), split.data() + size_t(m1) * ldc, ldc);
  const std::string tag = shape((std::string("f32 ") + v.name).c_str(), M, N, K, ldc);
  WV_CHECK_MSG(std::memcmp(got.data(), again.data(), got.size() * sizeof(float)) == 0, tag + ": repeated call differs");
  WV_CHECK_MSG(std::memcmp(got.data(), split.data(), got.size() * sizeof(float)) == 0, tag + ": M-split call differs");
  int bad = 0;
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < ldc; ++n) {
      const size_t i = size_t(m) * ldc + n;
      bool ok;
      double exact = 0.0, scale = 0.0;
      if (n < N) {
        for (int k = 0; k < K; ++k) {
          const double p = double(A[size_t(m) * K + k]) * B[size_t(k) * N + n];
          exact += p;
          scale += std::fabs(p);
        }
        const double tol = 1e-5 * scale + 1e-30;
        ok = std::fabs(ref[i] - exact) <= tol && std::fabs(double(got[i]) - ref[i]) <= tol;
      } else {
        ok = ref[i] == kSentinelF && got[i] == kSentinelF;  // columns past N untouched
      }
      if (!ok && bad++ == 0)
        WV_CHECK_MSG(false, tag + " at m=" + std::to_string(m) + " n=" + std::to_string(n) + " exact/scalar/simd=" +
                                std::to_string(exact) + "/" + std::to_string(ref[i]) + "/" + std::to_string(got[i]));
    }
}

}  // namespace

int main() {
  // Dispatch: a valid ISA name, and the forced-scalar override is honoured.
  const std::string isa = active_isa();
  std::printf("active_isa=%s\n", isa.c_str());
  WV_CHECK(isa == "avx2" || isa == "neon" || isa == "scalar");
  WV_CHECK(select_gemm_f32() != nullptr);
  const char* forced = std::getenv("WAYVERT_ISA");
  if (forced && std::string(forced) == "scalar") {
    WV_CHECK_EQ(isa, std::string("scalar"));
    WV_CHECK(select_gemm_f32() == &gemm_f32_scalar);
  } else {
    WV_CHECK_EQ(isa, std::string(simd_variants().empty() ? "scalar" : simd_variants().front().name));
  }

  std::vector<Variant> variants = simd_variants();
  // Without a SIMD variant, still exercise the scalar path against the double recomputation.
  if (variants.empty()) variants.push_back({"scalar", &gemm_f32_scalar});
  for (const Variant& v : variants) {
    std::mt19937 rng(20240611u);
    std::uniform_int_distribution<int> dmn(1, 70), dk(1, 600), dpad(0, 5);
    const int trials = 300;
    for (int t = 0; t < trials; ++t) {
      const int M = dmn(rng), N = dmn(rng), K = dk(rng), ldc = N + dpad(rng);
      check_f32_case(v, rng, M, N, K, ldc);
    }
    // A long K (several packed K-chunks) and a production-like shape.
    check_f32_case(v, rng, 13, 90, 1500, 91);
    check_f32_case(v, rng, 64, 300, 576, 300);
    // Single-column (matrix-vector) shapes.
    for (int k : {1, 13, 15, 17, 29, 31, 33, 599, 2049}) check_f32_case(v, rng, 7, 1, k, 2);
    // Degenerate K: outputs become zero.
    check_f32_case(v, rng, 3, 5, 0, 5);
    std::printf("%s: %d random shapes + fixed cases checked\n", v.name, trials);
  }
  return wv_test_exit_code();
}
