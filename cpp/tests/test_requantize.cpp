// rescale(): round half away from zero of x*m/2^s, checked against exact 128-bit arithmetic.
#include <cstdio>
#include <random>
#include <utility>
#include <vector>

#include "check.hpp"
#include "kernels/cpu/requantize.hpp"
#include "kernels/cpu/requantize_row.hpp"

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

using wv::kernels::QuantTileFn;

// Every tile epilogue this CPU runs against QuantEpilogue::apply, element by element: random per-channel
// multipliers and shifts over the whole allowed range, bias, residual, clamps, LUT, and column tails.
void test_tile_epilogues_match_apply() {
  std::vector<std::pair<const char*, QuantTileFn>> variants = {{"scalar", &wv::kernels::quant_tile_scalar}};
#if defined(WV_HAVE_AVX2_KERNELS)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) variants.push_back({"avx2", &wv::kernels::quant_tile_avx2});
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq"))
    variants.push_back({"avx512", &wv::kernels::quant_tile_avx512});
  else
    std::printf("skip quant_tile_avx512: this CPU lacks AVX-512\n");
#endif
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 300; ++trial) {
    const int rows = 1 + int(rng() % 9), n = 1 + int(rng() % 37), ch0 = int(rng() % 5), channels = ch0 + n;
    std::vector<int32_t> mult(static_cast<size_t>(channels)), shift(static_cast<size_t>(channels)),
        bias(static_cast<size_t>(channels));
    for (int c = 0; c < channels; ++c) {
      mult[size_t(c)] = int32_t(rng() % (1ull << 31));
      shift[size_t(c)] = trial % 3 == 0 ? int32_t(rng() % 63) : int32_t(25 + rng() % 15);
      bias[size_t(c)] = int32_t(int64_t(rng() % (1ull << 30)) - (1 << 29));
    }
    wv::kernels::QuantEpilogue ep;
    ep.multiplier = mult.data();
    ep.shift = shift.data();
    ep.bias = trial % 2 ? bias.data() : nullptr;
    ep.out_zero = int32_t(rng() % 256) - 128;
    ep.act_min = trial % 4 == 1 ? ep.out_zero : -128;
    ep.act_max = trial % 5 == 2 ? 100 : 127;
    if (ep.act_min > ep.act_max) ep.act_min = ep.act_max;
    int8_t lut[256];
    for (int i = 0; i < 256; ++i) lut[i] = int8_t(int(rng() % 256) - 128);
    if (trial % 7 == 3) ep.lut = lut;
    if (trial % 3 == 1) {
      ep.residual = true;
      ep.residual_zero = int32_t(rng() % 256) - 128;
      ep.residual_multiplier = int32_t(rng() % (1ull << 31));
      ep.residual_shift = int32_t(20 + rng() % 20);
    }
    const int ldc = 40, ldy = n + int(rng() % 5);
    std::vector<int32_t> acc(size_t(rows * ldc));
    for (auto& a : acc) a = int32_t(int64_t(rng() % (1ull << 31)) - (1ll << 30));
    std::vector<int8_t> res(size_t(rows * ldy));
    for (auto& r : res) r = int8_t(int(rng() % 256) - 128);
    for (const auto& [name, fn] : variants) {
      std::vector<int8_t> y(size_t(rows * ldy), int8_t(0x5A));
      fn(ep, acc.data(), ldc, rows, n, ch0, ep.residual ? res.data() : nullptr, y.data(), ldy);
      int bad = 0;
      for (int m = 0; m < rows; ++m)
        for (int j = 0; j < ldy; ++j) {
          const int8_t want = j < n ? ep.apply(acc[size_t(m * ldc + j)], ch0 + j, res[size_t(m * ldy + j)]) : int8_t(0x5A);
          if (y[size_t(m * ldy + j)] != want && ++bad <= 3)
            WV_CHECK_MSG(false, std::string(name) + " trial " + std::to_string(trial) + " m=" + std::to_string(m) +
                                    " j=" + std::to_string(j) + ": " + std::to_string(int(y[size_t(m * ldy + j)])) +
                                    " vs " + std::to_string(int(want)));
        }
    }
  }
}

}  // namespace

int main() {
  test_tile_epilogues_match_apply();
  test_ties_round_away_from_zero();
  test_matches_exact_arithmetic();
  test_epilogue_clamps_and_uses_lut();
  return wv_test_exit_code();
}
