// Every int8 micro-kernel this CPU can run (ukernel.hpp), packed and fed through the shared packing and
// activation preparation, against the exact int64 sum bias + sum (x - z) * w. Shapes, zero points and taps
// vary (padding taps included), and extreme values (x, w at -128/127, z at both ends) are pinned.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "check.hpp"
#include "kernels/cpu/qgemm/ukernel.hpp"

using namespace wv::kernels::qgemm;

namespace {

// mode 0 random, 1 all extremes of one sign, 2 random extremes.
int8_t draw(std::mt19937& rng, int mode) {
  std::uniform_int_distribution<int> d(-128, 127), coin(0, 1);
  if (mode == 0) return int8_t(d(rng));
  if (mode == 1) return int8_t(-128);
  return int8_t(coin(rng) ? 127 : -128);
}

void check_case(const Ukernel& uk, std::mt19937& rng, int64_t N, int64_t ks, int64_t C, int32_t z, int mode) {
  const int64_t rows = 11;  // distinct activation rows; the tile's taps pick among them or the padding row
  std::vector<int8_t> x(size_t(rows * C)), w(size_t(N * ks * C));
  for (auto& v : x) v = draw(rng, mode);
  for (auto& v : w) v = draw(rng, mode == 1 ? 2 : mode);
  std::vector<int32_t> bias(static_cast<size_t>(N));
  std::uniform_int_distribution<int32_t> db(-(1 << 29), (1 << 29));
  for (auto& b : bias) b = db(rng);

  const PackedWeights p = pack_weights(uk, w.data(), bias.data(), N, ks, C, z);
  const size_t es = a_element_bytes(uk.a_format);
  std::vector<uint8_t> prepared(size_t((rows + 1) * p.kc) * es + 64);
  prepare_rows(uk.a_format, x.data(), C, 1, C, p.kc, z, 0, rows, prepared.data());
  fill_padding_row(uk.a_format, p.kc, z, prepared.data() + size_t(rows * p.kc) * es);

  // tap t of tile row m reads source row src[t][m] (rows == padding)
  std::uniform_int_distribution<int64_t> dr(0, rows);
  std::vector<int64_t> src(size_t(ks * uk.mr));
  std::vector<const void*> ptrs(size_t(ks * uk.mr));
  for (size_t i = 0; i < src.size(); ++i) {
    src[i] = dr(rng);
    ptrs[i] = prepared.data() + size_t(src[i] * p.kc) * es;
  }
  std::vector<int32_t> c(size_t(uk.mr * uk.nr));
  std::vector<const void*> row_ptrs(static_cast<size_t>(ks));
  int bad = 0;
  for (int64_t j = 0; j < p.blocks; ++j) {
    for (auto& v : c) v = 0x5A5A5A5A;
    uk.run(size_t(p.kc), size_t(ks), ptrs.data(), p.block(j), c.data());
    if (uk.run_row != nullptr && (j + mode) % 2 == 0) {  // the one-row variant must give the same rows
      std::vector<int32_t> full = c;
      for (int m = 0; m < uk.mr; ++m) {
        for (int64_t t = 0; t < ks; ++t) row_ptrs[size_t(t)] = ptrs[size_t(t * uk.mr + m)];
        uk.run_row(size_t(p.kc), size_t(ks), row_ptrs.data(), p.block(j), c.data() + m * uk.nr);
      }
      WV_CHECK_MSG(full == c, std::string(uk.name) + ": run_row differs from run");
    }
    for (int m = 0; m < uk.mr; ++m)
      for (int n = 0; n < uk.nr; ++n) {
        const int64_t co = j * uk.nr + n;
        if (co >= N) continue;
        int64_t exact = bias[size_t(co)];
        for (int64_t t = 0; t < ks; ++t) {
          const int64_t r = src[size_t(t * uk.mr + m)];
          if (r == rows) continue;  // padding reads x = z: contributes nothing
          for (int64_t k = 0; k < C; ++k) exact += (int64_t(x[size_t(r * C + k)]) - z) * w[size_t((co * ks + t) * C + k)];
        }
        const int32_t got = c[size_t(m * uk.nr + n)];
        if (got != exact && ++bad <= 3)
          wv_test::report_failure(__FILE__, __LINE__, std::string(uk.name) + " N=" + std::to_string(N) + " ks=" +
                                  std::to_string(ks) + " C=" + std::to_string(C) + " z=" + std::to_string(z) +
                                  " mode=" + std::to_string(mode) + " m=" + std::to_string(m) + " n=" + std::to_string(n) +
                                  ": got " + std::to_string(got) + ", exact " + std::to_string(exact));
      }
  }
}

void check_ukernel(const Ukernel& uk) {
  std::mt19937 rng(1234);
  const int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 3}, {16, 9, 3}, {17, 9, 5}, {32, 1, 64}, {40, 9, 16},
                               {8, 4, 7}, {64, 1, 129}, {5, 3, 2}, {33, 2, 250}};
  const int32_t zeros[] = {0, -128, 127, 5};
  for (const auto& s : shapes)
    for (int32_t z : zeros)
      for (int mode = 0; mode < 3; ++mode) check_case(uk, rng, s[0], s[1], s[2], z, mode);
  // The worst case for int32 bounds: K = 16384, every product at its extreme.
  check_case(uk, rng, int64_t(uk.nr), 1, 16384, -128, 1);
  check_case(uk, rng, int64_t(uk.nr), 16, 1024, 127, 2);
}

// prepare_rows against its definition: NHWC rows and NCHW planes, every format, padded channel counts.
void check_prepare_rows() {
  std::mt19937 rng(99);
  const AFormat formats[] = {AFormat::s16_centered, AFormat::u8_offset, AFormat::s8_raw};
  for (AFormat f : formats)
    for (int64_t C : {1, 2, 3, 4, 5, 16, 19})
      for (int64_t kr : {1, 2, 4, 8})
        for (int32_t z : {-128, 0, 37, 127})
          for (int planar = 0; planar < 2; ++planar) {
            const int64_t kc = (C + kr - 1) / kr * kr, rows = 53, r0 = 3, r1 = 50;
            std::vector<int8_t> x(size_t(rows * C));
            for (auto& v : x) v = draw(rng, 0);
            const size_t es = a_element_bytes(f);
            std::vector<uint8_t> got(size_t(rows * kc) * es, 0xEE), want(size_t(rows * kc) * es, 0xEE);
            if (planar) prepare_rows(f, x.data(), 1, rows, C, kc, z, r0, r1, got.data());
            else prepare_rows(f, x.data(), C, 1, C, kc, z, r0, r1, got.data());
            for (int64_t r = r0; r < r1; ++r)
              for (int64_t c = 0; c < kc; ++c) {
                const int32_t xv = c < C ? x[size_t(planar ? c * rows + r : r * C + c)] : z;  // padding reads x = z
                int32_t v = f == AFormat::s16_centered ? xv - z : (f == AFormat::u8_offset ? xv + 128 : xv);
                if (es == 2) {
                  const int16_t s16 = int16_t(v);
                  std::memcpy(want.data() + size_t(r * kc + c) * 2, &s16, 2);
                } else {
                  want[size_t(r * kc + c)] = uint8_t(v & 0xFF);
                }
              }
            WV_CHECK_MSG(got == want, "prepare_rows format " + std::to_string(int(f)) + " C=" + std::to_string(C) +
                                          " kc=" + std::to_string(kc) + " z=" + std::to_string(z) +
                                          (planar ? " planar" : " rows"));
          }
}

}  // namespace

int main() {
  check_prepare_rows();
  int ran = 0;
  for (const Ukernel* uk : all_ukernels()) {
    if (!uk->supported()) {
      std::printf("skip %s: this CPU lacks %s\n", uk->name, uk->isa);
      continue;
    }
    WV_CHECK(uk->nr % 4 == 0 && uk->mr >= 1 && uk->kr >= 1);
    check_ukernel(*uk);
    std::printf("checked %s\n", uk->name);
    ++ran;
  }
  WV_CHECK(ran >= 1);
  std::printf("selected: %s\n", select_ukernel().name);
  return wv_test_exit_code();
}
