// rescale(): round half away from zero of x*m/2^s, checked against exact 128-bit arithmetic.
#include <random>

#include "check.hpp"
#include "kernels/cpu/requantize.hpp"

using wv::kernels::rescale;

namespace {

int64_t exact(int64_t x, int32_t m, int32_t s) {
  __int128 p = __int128(x) * m;
  if (s == 0) return int64_t(p);
  __int128 d = __int128(1) << s;
  __int128 q = (p >= 0 ? p : -p);
  __int128 r = (q + d / 2) / d;  // half away from zero on the magnitude
  return int64_t(p >= 0 ? r : -r);
}

void test_ties_round_away_from_zero() {
  WV_CHECK_EQ(rescale(5, 1, 1), int64_t(3));    //  2.5 ->  3
  WV_CHECK_EQ(rescale(-5, 1, 1), int64_t(-3));  // -2.5 -> -3
  WV_CHECK_EQ(rescale(3, 1, 1), int64_t(2));    //  1.5 ->  2
  WV_CHECK_EQ(rescale(-3, 1, 1), int64_t(-2));
  WV_CHECK_EQ(rescale(-1, 1, 2), int64_t(0));   // -0.25 -> 0
  WV_CHECK_EQ(rescale(7, 3, 0), int64_t(21));
}

void test_matches_exact_arithmetic() {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200000; ++i) {
    int64_t x = int64_t(rng() % (1ull << 32)) - (int64_t(1) << 31);
    int32_t m = int32_t(rng() % (1ull << 31));
    int32_t s = int32_t(rng() % 63);
    int64_t got = rescale(x, m, s), want = exact(x, m, s);
    WV_CHECK_MSG(got == want, "x=" + std::to_string(x) + " m=" + std::to_string(m) + " s=" + std::to_string(s));
  }
}

void test_epilogue_clamps_and_uses_lut() {
  int32_t mult[1] = {1 << 30}, shift[1] = {31};  // x 0.5
  wv::kernels::QuantEpilogue ep;
  ep.multiplier = mult;
  ep.shift = shift;
  ep.out_zero = 10;
  ep.act_min = 10;  // ReLU at the zero point
  WV_CHECK_EQ(int(ep.apply(-100, 0, 0)), 10);
  WV_CHECK_EQ(int(ep.apply(100, 0, 0)), 60);
  WV_CHECK_EQ(int(ep.apply(1000, 0, 0)), 127);
  int8_t lut[256];
  for (int i = 0; i < 256; ++i) lut[i] = int8_t(127 - i);
  ep.lut = lut;
  WV_CHECK_EQ(int(ep.apply(100, 0, 0)), 127 - (60 + 128));
}

}  // namespace

int main() {
  test_ties_round_away_from_zero();
  test_matches_exact_arithmetic();
  test_epilogue_clamps_and_uses_lut();
  return wv_test_exit_code();
}
