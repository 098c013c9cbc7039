// The table of int8 micro-kernels in this build and the run-time choice among them.
#include <cstdlib>
#include <cstring>

#include "kernels/cpu/qgemm/ukernel.hpp"

namespace wv::kernels::qgemm {

const std::vector<const Ukernel*>& all_ukernels() {
  static const std::vector<const Ukernel*> table = {
#if defined(WV_HAVE_AVX2_KERNELS)
      &qs8_igemm_8x16c4_avx512vnni,
      &qs8_igemm_6x16c2_avx2,
#endif
#if defined(__aarch64__)
      &qs8_igemm_4x8c8_i8mm,
      &qs8_igemm_4x16c4_neondot,
      &qs8_igemm_4x8c2_neon,
#endif
      &qs8_igemm_4x8c2_scalar,
  };
  return table;
}

namespace {

const Ukernel& choose() {
  const char* forced = std::getenv("WAYVERT_ISA");
  if (forced != nullptr && *forced != '\0')
    for (const Ukernel* k : all_ukernels())
      if (std::strcmp(k->isa, forced) == 0 && k->supported()) return *k;
  for (const Ukernel* k : all_ukernels())
    if (k->supported()) return *k;
  return qs8_igemm_4x8c2_scalar;
}

}  // namespace

const Ukernel& select_ukernel() {
  static const Ukernel& chosen = choose();
  return chosen;
}

}  // namespace wv::kernels::qgemm
