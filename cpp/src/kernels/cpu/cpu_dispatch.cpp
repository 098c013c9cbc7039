// Picks the GEMM variant for this CPU once per process; WAYVERT_ISA=scalar forces the reference path.
#include <cstdlib>
#include <cstring>

#include "kernels/cpu/gemm.hpp"

namespace wv::kernels {
namespace {

enum class Isa { kScalar, kAvx2, kNeon };

// Best ISA usable here, honouring the WAYVERT_ISA=scalar override.
Isa detect_isa() {
  const char* forced = std::getenv("WAYVERT_ISA");
  if (forced != nullptr && std::strcmp(forced, "scalar") == 0) return Isa::kScalar;
#if defined(__aarch64__)
  return Isa::kNeon;
#elif defined(WV_HAVE_AVX2_KERNELS) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();  // libgcc's check also requires OS-enabled YMM state (XGETBV)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
  return Isa::kScalar;
#else
  return Isa::kScalar;
#endif
}

// Detected on first use, then fixed for the process (thread-safe static init).
Isa active() {
  static const Isa isa = detect_isa();
  return isa;
}

}  // namespace

GemmF32Fn select_gemm_f32() {
  switch (active()) {
#if defined(WV_HAVE_AVX2_KERNELS)
    case Isa::kAvx2: return &gemm_f32_avx2;
#endif
#if defined(__aarch64__)
    case Isa::kNeon: return &gemm_f32_neon;
#endif
    default: return &gemm_f32_scalar;
  }
}

const char* active_isa() {
  switch (active()) {
    case Isa::kAvx2: return "avx2";
    case Isa::kNeon: return "neon";
    default: return "scalar";
  }
}

}  // namespace wv::kernels
