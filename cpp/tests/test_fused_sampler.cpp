// Pixel-format decoding and the fused remap + colour + LUT pass: hand-computed pixels of every format (bayer
// borders included), YUV clamping at the extremes, missing frames and bad entries, an independent per-entry
// reference, and AVX2 == scalar bit for bit on random frames and tables (frames placed against guard pages,
// so any read outside a frame faults). `test_fused_sampler --bench` also prints throughput.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#define WV_TEST_GUARD_PAGES 1
#endif

#include "check.hpp"
#include "kernels/cpu/gemm.hpp"
#include "sensors/fused_sampler.hpp"
#include "sensors/pixel_formats.hpp"

using namespace wv::sensors;

namespace {

const YuvCoeffs k601f = yuv_coeffs(ColorMatrix::bt601, true);
const YuvCoeffs k601l = yuv_coeffs(ColorMatrix::bt601, false);
const YuvCoeffs k709f = yuv_coeffs(ColorMatrix::bt709, true);
const YuvCoeffs k709l = yuv_coeffs(ColorMatrix::bt709, false);

std::string rgb_str(const uint8_t* p) {
  return "(" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + ", " + std::to_string(p[2]) + ")";
}

void check_rgb(const uint8_t* got, int r, int g, int b, const std::string& what) {
  const bool ok = got[0] == r && got[1] == g && got[2] == b;
  WV_CHECK_MSG(ok, what + ": got " + rgb_str(got) + ", want (" + std::to_string(r) + ", " + std::to_string(g) + ", " +
                       std::to_string(b) + ")");
}

// A buffer of exactly n bytes placed against an inaccessible page (after it, or before it when !at_end), so
// that any read outside [0, n) faults. Falls back to a plain vector where mmap is unavailable.
class GuardedBuffer {
 public:
  GuardedBuffer(size_t n, bool at_end) : n_(n) {
#if defined(WV_TEST_GUARD_PAGES)
    page_ = size_t(sysconf(_SC_PAGESIZE));
    const size_t body = (n + page_ - 1) / page_ * page_;
    total_ = body + 2 * page_;
    void* m = mmap(nullptr, total_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED) {
      base_ = static_cast<uint8_t*>(m);
      mprotect(base_, page_, PROT_NONE);
      mprotect(base_ + page_ + body, page_, PROT_NONE);
      data_ = at_end ? base_ + page_ + body - n : base_ + page_;
      return;
    }
#endif
    (void)at_end;
    fallback_.resize(n);
    data_ = fallback_.data();
  }
  ~GuardedBuffer() {
#if defined(WV_TEST_GUARD_PAGES)
    if (base_) munmap(base_, total_);
#endif
  }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;
  uint8_t* data() { return data_; }
  size_t size() const { return n_; }

 private:
  size_t n_ = 0, page_ = 0, total_ = 0;
  uint8_t* base_ = nullptr;
  uint8_t* data_ = nullptr;
  std::vector<uint8_t> fallback_;
};

bool have_avx2() {
#if defined(WV_HAVE_AVX2_KERNELS)
  return std::strcmp(wv::kernels::active_isa(), "avx2") == 0;
#else
  return false;
#endif
}

// ------------------------------------------------------------------ fetch_rgb by hand
void test_fetch_rgb_rgb_bgr() {
  const uint8_t f[2 * 2 * 3] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  uint8_t p[3];
  fetch_rgb(f, 2, 2, PixelFormat::rgb8, k601f, 0, 0, p); check_rgb(p, 1, 2, 3, "rgb8 (0,0)");
  fetch_rgb(f, 2, 2, PixelFormat::rgb8, k601f, 1, 0, p); check_rgb(p, 4, 5, 6, "rgb8 (1,0)");
  fetch_rgb(f, 2, 2, PixelFormat::rgb8, k601f, 0, 1, p); check_rgb(p, 7, 8, 9, "rgb8 (0,1)");
  fetch_rgb(f, 2, 2, PixelFormat::rgb8, k601f, 1, 1, p); check_rgb(p, 10, 11, 12, "rgb8 (1,1)");
  fetch_rgb(f, 2, 2, PixelFormat::bgr8, k601f, 0, 0, p); check_rgb(p, 3, 2, 1, "bgr8 (0,0)");
  fetch_rgb(f, 2, 2, PixelFormat::bgr8, k601f, 1, 1, p); check_rgb(p, 12, 11, 10, "bgr8 (1,1)");
  WV_CHECK_EQ(frame_bytes(PixelFormat::rgb8, 2, 2), size_t(12));
  WV_CHECK_EQ(frame_bytes(PixelFormat::bgr8, 1600, 900), size_t(1600 * 900 * 3));
}

void test_fetch_rgb_nv12() {
  // 4 x 2: Y plane then one chroma row of 2 (U, V) pairs. bt601 full: (100, 150, 90) -> (47, 120, 139),
  // (50, 200, 60) -> (0, 74, 178); bt601 limited: (100, 150, 90) -> (37, 120, 142), (50, 200, 60) -> (0, 67, 185).
  const uint8_t f[4 * 2 + 4] = {100, 50, 50, 100,  //
                                50, 100, 100, 50,  //
                                150, 90, 200, 60};
  WV_CHECK_EQ(frame_bytes(PixelFormat::nv12, 4, 2), sizeof f);
  uint8_t p[3];
  fetch_rgb(f, 4, 2, PixelFormat::nv12, k601f, 0, 0, p); check_rgb(p, 47, 120, 139, "nv12 601f (0,0)");
  fetch_rgb(f, 4, 2, PixelFormat::nv12, k601f, 1, 1, p); check_rgb(p, 47, 120, 139, "nv12 601f (1,1)");
  // (3,0): Y 100 with chroma sample 1 (200, 60): full (5, 124, 228), limited (0, 125, 243)
  fetch_rgb(f, 4, 2, PixelFormat::nv12, k601f, 3, 0, p); check_rgb(p, 5, 124, 228, "nv12 601f (3,0)");
  fetch_rgb(f, 4, 2, PixelFormat::nv12, k601l, 3, 0, p); check_rgb(p, 0, 125, 243, "nv12 601l (3,0)");
  fetch_rgb(f, 4, 2, PixelFormat::nv12, k601l, 0, 0, p); check_rgb(p, 37, 120, 142, "nv12 601l (0,0)");
  fetch_rgb(f, 4, 2, PixelFormat::nv12, k601f, 2, 0, p); check_rgb(p, 0, 74, 178, "nv12 601f (2,0)");
  fetch_rgb(f, 4, 2, PixelFormat::nv12, k601l, 3, 1, p); check_rgb(p, 0, 67, 185, "nv12 601l (3,1)");
  // bt709: (100, 150, 90) -> full (40, 114, 141), limited (30, 113, 144)
  fetch_rgb(f, 4, 2, PixelFormat::nv12, k709f, 1, 1, p); check_rgb(p, 40, 114, 141, "nv12 709f (1,1)");
  fetch_rgb(f, 4, 2, PixelFormat::nv12, k709l, 0, 0, p); check_rgb(p, 30, 113, 144, "nv12 709l (0,0)");
  WV_CHECK_EQ(frame_bytes(PixelFormat::nv12, 1600, 900), size_t(1600 * 900 * 3 / 2));
  WV_CHECK_EQ(frame_bytes(PixelFormat::nv12, 5, 4), size_t(0));
  WV_CHECK_EQ(frame_bytes(PixelFormat::nv12, 4, 3), size_t(0));
}

void test_fetch_rgb_yuyv() {
  // 4 x 2: row 0 pairs (Y0 U Y1 V) = (100 150 50 90), (50 200 100 60); row 1 swapped.
  const uint8_t f[2 * 8] = {100, 150, 50, 90, 50, 200, 100, 60,  //
                            50, 200, 100, 60, 100, 150, 50, 90};
  WV_CHECK_EQ(frame_bytes(PixelFormat::yuyv, 4, 2), sizeof f);
  uint8_t p[3];
  fetch_rgb(f, 4, 2, PixelFormat::yuyv, k601f, 0, 0, p); check_rgb(p, 47, 120, 139, "yuyv (0,0)");
  fetch_rgb(f, 4, 2, PixelFormat::yuyv, k601f, 2, 0, p); check_rgb(p, 0, 74, 178, "yuyv (2,0)");
  fetch_rgb(f, 4, 2, PixelFormat::yuyv, k601f, 1, 0, p); check_rgb(p, 0, 70, 89, "yuyv (1,0)");  // Y 50, (150, 90)
  fetch_rgb(f, 4, 2, PixelFormat::yuyv, k601f, 1, 1, p); check_rgb(p, 5, 124, 228, "yuyv (1,1)");  // Y 100, (200, 60)
  fetch_rgb(f, 4, 2, PixelFormat::yuyv, k601l, 3, 0, p); check_rgb(p, 0, 125, 243, "yuyv 601l (3,0)");
  fetch_rgb(f, 4, 2, PixelFormat::yuyv, k601l, 2, 1, p); check_rgb(p, 37, 120, 142, "yuyv 601l (2,1)");
  WV_CHECK_EQ(frame_bytes(PixelFormat::yuyv, 3, 2), size_t(0));
}

void test_fetch_rgb_bayer() {
  // RGGB 4 x 4; expected demosaic worked out by hand, e.g. (0,0): R 10, G (20+20+50+50+2)>>2 = 35 (left/up
  // mirrored onto right/down), B 61 (all four diagonals mirror onto (1,1)); (3,3): B 167,
  // G (150+150+120+120+2)>>2 = 135, R 113.
  const uint8_t f[16] = {10, 20, 30, 45,     //
                         50, 61, 70, 80,     //
                         90, 100, 113, 120,  //
                         130, 140, 150, 167};
  const int want[4][4][3] = {{{10, 35, 61}, {20, 20, 61}, {30, 51, 71}, {30, 45, 80}},
                             {{50, 50, 61}, {61, 60, 61}, {72, 70, 71}, {72, 76, 80}},
                             {{90, 95, 101}, {102, 100, 101}, {113, 110, 112}, {113, 120, 124}},
                             {{90, 130, 140}, {102, 120, 140}, {113, 150, 154}, {113, 135, 167}}};
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) {
      uint8_t p[3];
      fetch_rgb(f, 4, 4, PixelFormat::bayer_rggb8, k601f, x, y, p);
      check_rgb(p, want[y][x][0], want[y][x][1], want[y][x][2],
                "bayer (" + std::to_string(x) + "," + std::to_string(y) + ")");
    }
  // 2 x 2 (every neighbour mirrored): R 1, G (2+2+3+3+2)>>2 = 2 at the R site; G sites interpolate R/B from
  // the mirrored pair: (1+1+1)>>1 = 1.
  const uint8_t g[4] = {1, 2, 3, 4};
  uint8_t p[3];
  fetch_rgb(g, 2, 2, PixelFormat::bayer_rggb8, k601f, 0, 0, p); check_rgb(p, 1, 3, 4, "bayer 2x2 (0,0)");
  fetch_rgb(g, 2, 2, PixelFormat::bayer_rggb8, k601f, 1, 0, p); check_rgb(p, 1, 2, 4, "bayer 2x2 (1,0)");
  fetch_rgb(g, 2, 2, PixelFormat::bayer_rggb8, k601f, 0, 1, p); check_rgb(p, 1, 3, 4, "bayer 2x2 (0,1)");
  fetch_rgb(g, 2, 2, PixelFormat::bayer_rggb8, k601f, 1, 1, p); check_rgb(p, 1, 3, 4, "bayer 2x2 (1,1)");
  WV_CHECK_EQ(frame_bytes(PixelFormat::bayer_rggb8, 4, 4), size_t(16));
}

// ------------------------------------------------------------------ YUV extremes
void test_yuv_extremes() {
  struct Case { const YuvCoeffs* k; const char* name; int rgb[8][3]; };
  // Y, U, V each 0 or 255, in the order (Y, U, V) = 000, 00F, 0F0, 0FF, F00, F0F, FF0, FFF.
  const Case cases[] = {
      {&k601l, "bt601 limited", {{0, 135, 0}, {184, 0, 0}, {0, 36, 237}, {184, 0, 237},
                                 {74, 255, 20}, {255, 225, 20}, {74, 255, 255}, {255, 125, 255}}},
      {&k601f, "bt601 full", {{0, 136, 0}, {178, 0, 0}, {0, 48, 225}, {178, 0, 225},
                              {76, 255, 28}, {255, 208, 28}, {76, 255, 255}, {255, 121, 255}}},
      {&k709l, "bt709 limited", {{0, 77, 0}, {209, 0, 0}, {0, 22, 250}, {209, 0, 250},
                                 {49, 255, 8}, {255, 238, 8}, {49, 255, 255}, {255, 183, 255}}},
      {&k709f, "bt709 full", {{0, 84, 0}, {200, 0, 0}, {0, 36, 236}, {200, 0, 236},
                              {54, 255, 18}, {255, 219, 18}, {54, 255, 255}, {255, 172, 255}}},
  };
  for (const Case& c : cases)
    for (int m = 0; m < 8; ++m) {
      const int Y = (m & 4) ? 255 : 0, U = (m & 2) ? 255 : 0, V = (m & 1) ? 255 : 0;
      const std::string what = std::string(c.name) + " YUV (" + std::to_string(Y) + "," + std::to_string(U) + "," +
                               std::to_string(V) + ")";
      uint8_t p[3];
      yuv_to_rgb(Y, U, V, *c.k, p);
      check_rgb(p, c.rgb[m][0], c.rgb[m][1], c.rgb[m][2], what);
      // The same through whole frames and the sampler (both paths): constant 4 x 2 nv12 and yuyv frames.
      std::vector<uint8_t> nv12(12), yuyv(16);
      for (int i = 0; i < 8; ++i) nv12[size_t(i)] = uint8_t(Y);
      for (int i = 8; i < 12; i += 2) { nv12[size_t(i)] = uint8_t(U); nv12[size_t(i) + 1] = uint8_t(V); }
      for (size_t i = 0; i < 16; i += 4) {
        yuyv[i] = uint8_t(Y);
        yuyv[i + 1] = uint8_t(U);
        yuyv[i + 2] = uint8_t(Y);
        yuyv[i + 3] = uint8_t(V);
      }
      const SourceFrame cams[2] = {{nv12.data(), 4, 2, PixelFormat::nv12, *c.k},
                                   {yuyv.data(), 4, 2, PixelFormat::yuyv, *c.k}};
      std::vector<RemapEntry> table;
      for (int i = 0; i < 16; ++i)
        table.push_back(RemapEntry{int16_t(i / 8), uint16_t(i % 3), 0, uint8_t(i * 37), uint8_t(255 - i * 11)});
      int8_t lut_store[3][256];
      for (int ch = 0; ch < 3; ++ch)
        for (int v = 0; v < 256; ++v) lut_store[ch][v] = int8_t(v - 128);
      const int8_t* lut[3] = {lut_store[0], lut_store[1], lut_store[2]};
      const int8_t fill[3] = {0, 0, 0};
      std::vector<FusedSamplerFn> fns = {&fused_sample_scalar};
#if defined(WV_HAVE_AVX2_KERNELS)
      if (have_avx2()) fns.push_back(&fused_sample_avx2);
#endif
      for (FusedSamplerFn fn : fns) {
        std::vector<int8_t> out(3 * 16);
        std::vector<uint8_t> mask(16);
        int8_t* planes[3] = {out.data(), out.data() + 16, out.data() + 32};
        fn(table.data(), 16, cams, 2, lut, fill, planes, mask.data());
        for (int i = 0; i < 16; ++i) {
          WV_CHECK_EQ(int(mask[size_t(i)]), 1);
          for (int ch = 0; ch < 3; ++ch)
            WV_CHECK_MSG(out[size_t(ch * 16 + i)] + 128 == c.rgb[m][ch],
                         what + " through the sampler, pixel " + std::to_string(i));
        }
      }
    }
  // Limited range below black and above white clamps.
  uint8_t p[3];
  yuv_to_rgb(0, 128, 128, k601l, p); check_rgb(p, 0, 0, 0, "limited Y=0 grey");
  yuv_to_rgb(16, 128, 128, k601l, p); check_rgb(p, 0, 0, 0, "limited Y=16 grey");
  yuv_to_rgb(235, 128, 128, k601l, p); check_rgb(p, 255, 255, 255, "limited Y=235 grey");
  yuv_to_rgb(255, 128, 128, k709l, p); check_rgb(p, 255, 255, 255, "limited Y=255 grey");
  yuv_to_rgb(128, 128, 128, k709f, p); check_rgb(p, 128, 128, 128, "full Y=128 grey");
}

// ------------------------------------------------------------------ the sampler
// The definition of fused_sampler.hpp, entry by entry, written independently of fused_sample_scalar.
void reference_sample(const std::vector<RemapEntry>& table, const SourceFrame* cams, int count,
                      const int8_t lut[3][256], const int8_t fill[3], std::vector<int8_t>& out,
                      std::vector<uint8_t>& mask) {
  const size_t n = table.size();
  out.assign(3 * n, 0);
  mask.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const RemapEntry& e = table[i];
    bool ok = e.camera >= 0 && e.camera < count && cams[e.camera].data != nullptr;
    if (ok) ok = e.x0 + 1 < cams[e.camera].width && e.y0 + 1 < cams[e.camera].height;
    if (!ok) {
      for (int c = 0; c < 3; ++c) out[size_t(c) * n + i] = fill[c];
      continue;
    }
    const SourceFrame& s = cams[e.camera];
    uint8_t p[2][2][3];
    for (int dy = 0; dy < 2; ++dy)
      for (int dx = 0; dx < 2; ++dx)
        fetch_rgb(s.data, s.width, s.height, s.format, s.yuv, e.x0 + dx, e.y0 + dy, p[dy][dx]);
    const int64_t fx = e.fx, fy = e.fy;
    const int64_t w00 = (256 - fx) * (256 - fy), w01 = fx * (256 - fy), w10 = (256 - fx) * fy, w11 = fx * fy;
    for (int c = 0; c < 3; ++c) {
      const int64_t v = (w00 * p[0][0][c] + w01 * p[0][1][c] + w10 * p[1][0][c] + w11 * p[1][1][c] + 32768) >> 16;
      out[size_t(c) * n + i] = lut[c][v];
    }
    mask[i] = 1;
  }
}

void run_sampler(FusedSamplerFn fn, const std::vector<RemapEntry>& table, const SourceFrame* cams, int count,
                 const int8_t lut_store[3][256], const int8_t fill[3], std::vector<int8_t>& out,
                 std::vector<uint8_t>& mask) {
  const size_t n = table.size();
  out.assign(3 * n, int8_t(0x5A));  // poison: every element must be written
  mask.assign(n, 0xA5);
  const int8_t* lut[3] = {lut_store[0], lut_store[1], lut_store[2]};
  int8_t* planes[3] = {out.data(), out.data() + n, out.data() + 2 * n};
  fn(table.data(), int64_t(n), cams, count, lut, fill, planes, mask.data());
}

void test_missing_frames_and_bad_entries() {
  std::vector<uint8_t> rgb(4 * 4 * 3, 200);
  std::vector<uint8_t> nv12(4 * 4 * 3 / 2, 128);
  const SourceFrame cams[3] = {{rgb.data(), 4, 4, PixelFormat::rgb8, k601f},
                               {nullptr, 4, 4, PixelFormat::nv12, k601f},  // frame missing this cycle
                               {nv12.data(), 4, 4, PixelFormat::nv12, k601f}};
  int8_t lut[3][256];
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) lut[c][v] = int8_t(v / 2 - 60 + c);
  const int8_t fill[3] = {-7, 3, 11};
  // Groups of 16 so the vector path sees whole groups: NULL frame, camera -1, camera out of range,
  // x0 + 1 == W, y0 + 1 == H, then valid rgb8 and nv12.
  std::vector<RemapEntry> table;
  for (int i = 0; i < 16; ++i) table.push_back({1, 1, 1, 9, 9});
  for (int i = 0; i < 16; ++i) table.push_back({-1, 0, 0, 0, 0});
  for (int i = 0; i < 16; ++i) table.push_back({3, 0, 0, 0, 0});
  for (int i = 0; i < 16; ++i) table.push_back({0, 3, 0, 0, 0});
  for (int i = 0; i < 16; ++i) table.push_back({2, 0, 3, 0, 0});
  for (int i = 0; i < 16; ++i) table.push_back({0, 2, 2, 128, 128});
  for (int i = 0; i < 16; ++i) table.push_back({2, 2, 2, 128, 128});
  std::vector<FusedSamplerFn> fns = {&fused_sample_scalar};
#if defined(WV_HAVE_AVX2_KERNELS)
  if (have_avx2()) fns.push_back(&fused_sample_avx2);
#endif
  const size_t n = table.size();
  for (FusedSamplerFn fn : fns) {
    std::vector<int8_t> out;
    std::vector<uint8_t> mask;
    run_sampler(fn, table, cams, 3, lut, fill, out, mask);
    for (size_t i = 0; i < 80; ++i) {
      WV_CHECK_EQ(int(mask[i]), 0);
      for (int c = 0; c < 3; ++c) WV_CHECK_EQ(int(out[size_t(c) * n + i]), int(fill[c]));
    }
    for (size_t i = 80; i < n; ++i) {
      WV_CHECK_EQ(int(mask[i]), 1);
      const int v = i < 96 ? 200 : 128;  // rgb 200 everywhere; nv12 Y = U = V = 128 full range -> grey 128
      for (int c = 0; c < 3; ++c) WV_CHECK_EQ(int(out[size_t(c) * n + i]), int(lut[c][v]));
    }
  }
  // Every camera missing: all fill.
  const SourceFrame none[1] = {{nullptr, 4, 4, PixelFormat::rgb8, k601f}};
  std::vector<RemapEntry> t2(37, RemapEntry{0, 1, 1, 0, 0});
  for (FusedSamplerFn fn : fns) {
    std::vector<int8_t> out;
    std::vector<uint8_t> mask;
    run_sampler(fn, t2, none, 1, lut, fill, out, mask);
    for (size_t i = 0; i < t2.size(); ++i) {
      WV_CHECK_EQ(int(mask[i]), 0);
      for (int c = 0; c < 3; ++c) WV_CHECK_EQ(int(out[c * t2.size() + i]), int(fill[c]));
    }
  }
}

void test_blend_by_hand() {
  // 2 x 2 rgb8, channel R = 0, 100 / 200, 255: at (0.5, 0.5) (fx = fy = 128):
  // (16384 * (0 + 100 + 200 + 255) + 32768) >> 16 = 139 (138.75 rounded);
  // at fx = 64, fy = 0: (192*0 + 64*100)/256 = 25.
  const uint8_t f[12] = {0, 10, 255, 100, 10, 0, 200, 10, 0, 255, 10, 0};
  const SourceFrame cam = {f, 2, 2, PixelFormat::rgb8, k601f};
  int8_t lut[3][256];
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) lut[c][v] = int8_t(v - 128);
  const int8_t fill[3] = {0, 0, 0};
  const std::vector<RemapEntry> table = {{0, 0, 0, 128, 128}, {0, 0, 0, 64, 0}, {0, 0, 0, 255, 255}, {0, 0, 0, 0, 0}};
  std::vector<int8_t> out;
  std::vector<uint8_t> mask;
  run_sampler(&fused_sample_scalar, table, &cam, 1, lut, fill, out, mask);
  WV_CHECK_EQ(out[0] + 128, 139);
  WV_CHECK_EQ(out[1] + 128, 25);
  // fx = fy = 255: (1*0 + 255*100 + 255*200 + 65025*255 + 32768) >> 16 = 254
  WV_CHECK_EQ(out[2] + 128, 254);
  WV_CHECK_EQ(out[3] + 128, 0);
  WV_CHECK_EQ(out[4 + 0] + 128, 10);  // G constant 10
  WV_CHECK_EQ(out[8 + 0] + 128, 64);  // B: (16384 * 255 + 32768) >> 16 = 64 (63.75)
}

struct RandomCase {
  std::vector<std::unique_ptr<GuardedBuffer>> buffers;
  std::vector<SourceFrame> cams;
  std::vector<RemapEntry> table;
};

// Random frames of every format (several YUV matrices, one camera with no frame) and a table made of runs of one
// camera, as build_remap produces, plus scattered -1, out-of-range cameras, mixed groups and bad entries.
RandomCase make_random_case(std::mt19937& rng, int max_w, int max_h, size_t pixels, bool at_end) {
  RandomCase rc;
  struct Spec { PixelFormat f; YuvCoeffs k; bool present; };
  const Spec specs[] = {{PixelFormat::rgb8, k601f, true},  {PixelFormat::bgr8, k601f, true},
                        {PixelFormat::nv12, k601l, true},  {PixelFormat::nv12, k709f, true},
                        {PixelFormat::yuyv, k709l, true},  {PixelFormat::yuyv, k601f, true},
                        {PixelFormat::bayer_rggb8, k601f, true}, {PixelFormat::nv12, k601f, false},
                        {PixelFormat::rgb8, k709l, true}};
  for (const Spec& s : specs) {
    const int w = 2 * int(1 + rng() % unsigned(max_w / 2)), h = 2 * int(1 + rng() % unsigned(max_h / 2));
    const size_t bytes = frame_bytes(s.f, w, h);
    rc.buffers.push_back(std::make_unique<GuardedBuffer>(bytes, at_end));
    uint8_t* d = rc.buffers.back()->data();
    const int style = int(rng() % 4);  // random, extremes only, smooth ramp, constant
    for (size_t i = 0; i < bytes; ++i)
      d[i] = style == 0 ? uint8_t(rng()) : style == 1 ? uint8_t((rng() & 1) ? 255 : 0)
                                           : style == 2 ? uint8_t(i * 7 / 5) : uint8_t(77);
    rc.cams.push_back(SourceFrame{s.present ? d : nullptr, w, h, s.f, s.k});
  }
  const int count = int(rc.cams.size());
  while (rc.table.size() < pixels) {
    const int kind = int(rng() % 20);
    const size_t run = 1 + rng() % 40;
    const int cam = kind == 0 ? -1 : kind == 1 ? count + int(rng() % 3) : int(rng() % unsigned(count));
    for (size_t j = 0; j < run && rc.table.size() < pixels; ++j) {
      RemapEntry e{int16_t(cam), 0, 0, uint8_t(rng()), uint8_t(rng())};
      if (rng() % 8 == 0) e.fx = (rng() & 1) ? 255 : 0;
      if (rng() % 8 == 0) e.fy = (rng() & 1) ? 255 : 0;
      if (cam >= 0 && cam < count) {
        const SourceFrame& s = rc.cams[size_t(cam)];
        e.x0 = uint16_t(rng() % unsigned(s.width - 1));
        e.y0 = uint16_t(rng() % unsigned(s.height - 1));
        if (rng() % 4 == 0) e.x0 = uint16_t(s.width - 2);  // last usable column / row
        if (rng() % 4 == 0) e.y0 = uint16_t(s.height - 2);
        if (rng() % 97 == 0) e.x0 = uint16_t(s.width - 1 + int(rng() % 3));  // out of bounds
        if (rng() % 97 == 0) e.y0 = uint16_t(rng() % 2 ? 65535 : s.height - 1);
      } else {
        e.x0 = uint16_t(rng());
        e.y0 = uint16_t(rng());
      }
      rc.table.push_back(e);
    }
  }
  return rc;
}

void test_random_against_reference_and_avx2() {
  std::mt19937 rng(12345);
  const bool avx2 = have_avx2();
  if (!avx2) std::printf("note: no AVX2 on this CPU/build: AVX2 == scalar comparisons skipped\n");
  int cases = 0;
  for (int iter = 0; iter < 300; ++iter) {
    const bool big = iter % 25 == 0;
    const size_t pixels = big ? 4096 + rng() % 64 : rng() % 300;
    RandomCase rc = make_random_case(rng, big ? 256 : (iter % 3 == 0 ? 4 : 40), big ? 160 : (iter % 3 == 0 ? 4 : 30),
                                     pixels, iter % 2 == 0);
    int8_t lut[3][256];
    for (int c = 0; c < 3; ++c)
      for (int v = 0; v < 256; ++v) lut[c][v] = int8_t(rng());
    const int8_t fill[3] = {int8_t(rng()), int8_t(rng()), int8_t(rng())};
    std::vector<int8_t> want, got;
    std::vector<uint8_t> want_mask, got_mask;
    reference_sample(rc.table, rc.cams.data(), int(rc.cams.size()), lut, fill, want, want_mask);
    run_sampler(&fused_sample_scalar, rc.table, rc.cams.data(), int(rc.cams.size()), lut, fill, got, got_mask);
    WV_CHECK_MSG(got == want && got_mask == want_mask, "scalar sampler != reference, case " + std::to_string(iter));
#if defined(WV_HAVE_AVX2_KERNELS)
    if (avx2) {
      std::vector<int8_t> vec;
      std::vector<uint8_t> vec_mask;
      run_sampler(&fused_sample_avx2, rc.table, rc.cams.data(), int(rc.cams.size()), lut, fill, vec, vec_mask);
      WV_CHECK_MSG(vec == got && vec_mask == got_mask, "AVX2 sampler != scalar, case " + std::to_string(iter));
    }
#endif
    ++cases;
  }
  // One format at a time with long runs (mostly vector groups), every format and odd/even x0 mixes.
  for (int f = 1; f <= 5; ++f)
    for (int rep = 0; rep < 8; ++rep) {
      const PixelFormat pf = PixelFormat(f);
      const int w = 2 * int(1 + rng() % 60), h = 2 * int(1 + rng() % 40);
      GuardedBuffer buf(frame_bytes(pf, w, h), rep % 2 == 0);
      for (size_t i = 0; i < buf.size(); ++i) buf.data()[i] = uint8_t(rng());
      const YuvCoeffs k = yuv_coeffs(rep % 4 < 2 ? ColorMatrix::bt601 : ColorMatrix::bt709, rep % 2 == 0);
      const SourceFrame cam = {buf.data(), w, h, pf, k};
      std::vector<RemapEntry> table(1000 + rng() % 16);
      for (RemapEntry& e : table)
        e = RemapEntry{0, uint16_t(rng() % unsigned(w - 1)), uint16_t(rng() % unsigned(h - 1)), uint8_t(rng()),
                       uint8_t(rng())};
      int8_t lut[3][256];
      for (int c = 0; c < 3; ++c)
        for (int v = 0; v < 256; ++v) lut[c][v] = int8_t(rng());
      const int8_t fill[3] = {1, 2, 3};
      std::vector<int8_t> want, got;
      std::vector<uint8_t> want_mask, got_mask;
      reference_sample(table, &cam, 1, lut, fill, want, want_mask);
      run_sampler(&fused_sample_scalar, table, &cam, 1, lut, fill, got, got_mask);
      WV_CHECK_MSG(got == want && got_mask == want_mask, "scalar != reference, format " + std::to_string(f));
#if defined(WV_HAVE_AVX2_KERNELS)
      if (avx2) {
        std::vector<int8_t> vec;
        std::vector<uint8_t> vec_mask;
        run_sampler(&fused_sample_avx2, table, &cam, 1, lut, fill, vec, vec_mask);
        WV_CHECK_MSG(vec == got && vec_mask == got_mask, "AVX2 != scalar, format " + std::to_string(f));
      }
#endif
      ++cases;
    }
  std::printf("random sampler cases: %d (AVX2 compared: %s)\n", cases, avx2 ? "yes" : "no");
}

void test_dispatch() {
  const FusedSamplerFn fn = select_fused_sampler();
  WV_CHECK(fn != nullptr);
#if defined(WV_HAVE_AVX2_KERNELS)
  if (have_avx2()) WV_CHECK(fn == &fused_sample_avx2);
  else WV_CHECK(fn == &fused_sample_scalar);
#else
  WV_CHECK(fn == &fused_sample_scalar);
#endif
}

// ------------------------------------------------------------------ throughput
// scale 6.1: the whole 1600-wide source onto 256 columns (a real front camera); scale 1: a 256 x 128 crop.
void bench_one(PixelFormat pf, const char* name, double scale) {
  const int W = 1600, H = 900, Wv = 256, Hv = 128;
  std::vector<uint8_t> frame(frame_bytes(pf, W, H));
  std::mt19937 rng(7);
  for (uint8_t& b : frame) b = uint8_t(rng());
  const SourceFrame cam = {frame.data(), W, H, pf, yuv_coeffs(ColorMatrix::bt601, false)};
  // A smooth, slightly rotated downscale of the source, fractional positions everywhere (as a real remap).
  std::vector<RemapEntry> table(size_t(Wv) * Hv);
  for (int i = 0; i < Hv; ++i)
    for (int j = 0; j < Wv; ++j) {
      const double u = 20.0 + j * scale + i * 0.06 * scale, v = 90.0 + i * scale * 1.03 - j * 0.035 * scale;
      const int x0 = int(u), y0 = int(v);
      table[size_t(i) * Wv + j] =
          RemapEntry{0, uint16_t(x0), uint16_t(y0), uint8_t((u - x0) * 256), uint8_t((v - y0) * 256)};
    }
  int8_t lut[3][256];
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) lut[c][v] = int8_t(v - 128);
  const int8_t fill[3] = {0, 0, 0};
  std::vector<std::pair<const char*, FusedSamplerFn>> fns = {{"scalar", &fused_sample_scalar}};
#if defined(WV_HAVE_AVX2_KERNELS)
  if (have_avx2()) fns.push_back({"avx2", &fused_sample_avx2});
#endif
  for (auto& [fname, fn] : fns) {
    std::vector<int8_t> out;
    std::vector<uint8_t> mask;
    run_sampler(fn, table, &cam, 1, lut, fill, out, mask);  // warm-up
    double best = 1e30;
    for (int rep = 0; rep < 7; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      const int inner = 20;
      for (int k = 0; k < inner; ++k) run_sampler(fn, table, &cam, 1, lut, fill, out, mask);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / inner;
      if (s < best) best = s;
    }
    std::printf("bench %-12s %-6s %dx%d from %dx%d, scale %.1f: %8.1f us/frame  %7.1f Mpixel/s\n", name, fname, Wv, Hv,
                W, H, scale, best * 1e6, double(Wv) * Hv / best / 1e6);
  }
}

}  // namespace

int main(int argc, char** argv) {
  test_fetch_rgb_rgb_bgr();
  test_fetch_rgb_nv12();
  test_fetch_rgb_yuyv();
  test_fetch_rgb_bayer();
  test_yuv_extremes();
  test_blend_by_hand();
  test_missing_frames_and_bad_entries();
  test_random_against_reference_and_avx2();
  test_dispatch();
  if (argc > 1 && std::strcmp(argv[1], "--bench") == 0) {
    for (double scale : {6.1, 1.0}) {
      bench_one(PixelFormat::nv12, "nv12", scale);
      bench_one(PixelFormat::rgb8, "rgb8", scale);
      bench_one(PixelFormat::bgr8, "bgr8", scale);
      bench_one(PixelFormat::yuyv, "yuyv", scale);
      bench_one(PixelFormat::bayer_rggb8, "bayer_rggb8", scale);
    }
  }
  return wv_test_exit_code();
}
