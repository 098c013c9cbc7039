// AVX2 fused sampler: 8 table entries at a time when all 8 read the same camera's frame and are in bounds (the
// common case: a source camera covers large connected regions of a virtual camera). Every format is vectorised
// (bayer_rggb8 away from the image border only); any other group of 8 (mixed cameras, no source, a missing
// frame, bayer border entries) and the tail go through fused_sample_scalar. Bit-identical to the scalar path:
// the same integer formulas (fused_sampler.hpp, pixel_formats.hpp), evaluated exactly in 32-bit lanes.
// Every gather reads inside [0, frame_bytes) of its frame (the tests put frames against guard pages).
// Built with -mavx2 -mfma for this file only and reached through select_fused_sampler(). Like gemm_avx2.cpp it
// calls no inline or template function from a shared header (fetch_rgb, yuv_to_rgb, std::...): a copy compiled
// with AVX2 here could be the one the linker keeps for non-AVX2 callers.
#if defined(WV_HAVE_AVX2_KERNELS)

#if !defined(__AVX2__)
#error "fused_sampler_avx2.cpp must be compiled with -mavx2"
#endif

#include <immintrin.h>

#include <cstdint>

#include "sensors/fused_sampler.hpp"

namespace wv::sensors {
namespace {

// 32-bit gather indices: frames of up to this many bytes take the vector path.
constexpr int64_t kMaxGatherBytes = int64_t(1) << 30;

// The 8 decoded entries: 32-bit lanes.
struct Entries8 {
  __m256i x0, y0, fx, fy;
};

inline Entries8 unpack_entries(__m256i a, __m256i b) {
  const __m256i perm = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  const __m256i ap = _mm256_permutevar8x32_epi32(a, perm);  // lo dwords of entries 0..3 | hi dwords
  const __m256i bp = _mm256_permutevar8x32_epi32(b, perm);  // entries 4..7
  const __m256i lo = _mm256_permute2x128_si256(ap, bp, 0x20);  // camera | x0 << 16
  const __m256i hi = _mm256_permute2x128_si256(ap, bp, 0x31);  // y0 | fx << 16 | fy << 24
  Entries8 e;
  e.x0 = _mm256_srli_epi32(lo, 16);
  e.y0 = _mm256_and_si256(hi, _mm256_set1_epi32(0xFFFF));
  e.fx = _mm256_and_si256(_mm256_srli_epi32(hi, 16), _mm256_set1_epi32(0xFF));
  e.fy = _mm256_srli_epi32(hi, 24);
  return e;
}

// pair[c][r]: 32-bit lanes holding channel c of neighbour (r, 0) in the low 16 bits and of (r, 1) in the high 16.
struct Pairs {
  __m256i v[3][2];
};

// Blend, LUT, pack and store 8 outputs from the neighbour pairs.
inline void blend_lut_store(const Pairs& p, const Entries8& e, const int32_t (*lut32)[256], int8_t* o0, int8_t* o1,
                            int8_t* o2, uint8_t* mask) {
  const __m256i wx = _mm256_or_si256(_mm256_sub_epi32(_mm256_set1_epi32(256), e.fx), _mm256_slli_epi32(e.fx, 16));
  const __m256i half = _mm256_set1_epi32(32768);
  __m256i q[3];
  for (int c = 0; c < 3; ++c) {
    const __m256i top = _mm256_madd_epi16(p.v[c][0], wx);  // (256-fx) p00 + fx p01, exact
    const __m256i bot = _mm256_madd_epi16(p.v[c][1], wx);
    // (256-fy) top + fy bot == 256 top + fy (bot - top): the 4-weight sum of fused_sampler.hpp, exactly.
    const __m256i sum =
        _mm256_add_epi32(_mm256_slli_epi32(top, 8), _mm256_mullo_epi32(e.fy, _mm256_sub_epi32(bot, top)));
    const __m256i v = _mm256_srli_epi32(_mm256_add_epi32(sum, half), 16);  // 0..255
    q[c] = _mm256_i32gather_epi32(lut32[c], v, 4);                          // -128..127
  }
  const __m256i rg = _mm256_packs_epi32(q[0], q[1]);  // r0-3 g0-3 | r4-7 g4-7 (int16)
  const __m256i bb = _mm256_packs_epi32(q[2], q[2]);  // b0-3 b0-3 | b4-7 b4-7
  const __m256i bytes = _mm256_packs_epi16(rg, bb);   // r0-3 g0-3 b0-3 b0-3 | r4-7 g4-7 b4-7 b4-7
  const __m256i ordered = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  const __m128i lo = _mm256_castsi256_si128(ordered);       // r0-7 g0-7
  const __m128i hi = _mm256_extracti128_si256(ordered, 1);  // b0-7 b0-7
  _mm_storel_epi64(reinterpret_cast<__m128i*>(o0), lo);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(o1), _mm_unpackhi_epi64(lo, lo));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(o2), hi);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(mask), _mm_set1_epi8(1));
}

// rgb8 / bgr8: byte offset o = 3 (y0 W + x0); p00 = bytes o..o+2, p01 = o+3..o+5, the bottom row 3W further.
// The right neighbour is gathered from o+2 (4 bytes o+2..o+5) so no gather reads past the frame's last byte.
template <bool kBgr>
inline Pairs rgb_pairs(const uint8_t* base, int width, const Entries8& e) {
  const __m256i w = _mm256_set1_epi32(width);
  const __m256i pix = _mm256_add_epi32(_mm256_mullo_epi32(e.y0, w), e.x0);
  const __m256i o00 = _mm256_add_epi32(pix, _mm256_add_epi32(pix, pix));
  const __m256i o10 = _mm256_add_epi32(o00, _mm256_set1_epi32(3 * width));
  const __m256i two = _mm256_set1_epi32(2);
  const int* b = reinterpret_cast<const int*>(base);
  const __m256i g00 = _mm256_i32gather_epi32(b, o00, 1);                        // c0 c1 c2 x
  const __m256i g01 = _mm256_i32gather_epi32(b, _mm256_add_epi32(o00, two), 1);  // x  c0 c1 c2
  const __m256i g10 = _mm256_i32gather_epi32(b, o10, 1);
  const __m256i g11 = _mm256_i32gather_epi32(b, _mm256_add_epi32(o10, two), 1);
  Pairs p;
  const char z = char(0x80);
  for (int c = 0; c < 3; ++c) {
    const char s = char(kBgr ? 2 - c : c);  // stored byte of output channel c
    // Left neighbour's byte s -> byte 0 of the dword; right neighbour's byte s+1 -> byte 2; others zero.
    const __m256i sl = _mm256_setr_epi8(s, z, z, z, char(4 + s), z, z, z, char(8 + s), z, z, z, char(12 + s), z, z, z,
                                        s, z, z, z, char(4 + s), z, z, z, char(8 + s), z, z, z, char(12 + s), z, z, z);
    const char t = char(s + 1);
    const __m256i sr = _mm256_setr_epi8(z, z, t, z, z, z, char(4 + t), z, z, z, char(8 + t), z, z, z, char(12 + t), z,
                                        z, z, t, z, z, z, char(4 + t), z, z, z, char(8 + t), z, z, z, char(12 + t), z);
    p.v[c][0] = _mm256_or_si256(_mm256_shuffle_epi8(g00, sl), _mm256_shuffle_epi8(g01, sr));
    p.v[c][1] = _mm256_or_si256(_mm256_shuffle_epi8(g10, sl), _mm256_shuffle_epi8(g11, sr));
  }
  return p;
}

// YUV -> RGB constants of one camera as int16 word pairs for madd: ky (cy, 0), kr (0, crv), kg (cgu, cgv),
// kb (cbu, 0); yoff in 32-bit lanes.
struct YuvK {
  __m256i ky, kr, kg, kb, yoff;
};

// YUV -> RGB of 8 pixels, clamped to 0..255: y the luma in 32-bit lanes, uvw (U, V) as the two 16-bit words of
// each dword.
inline void yuv8(__m256i y, __m256i uvw, const YuvK& k, __m256i rgb[3]) {
  const __m256i de = _mm256_sub_epi16(uvw, _mm256_set1_epi16(128));  // (D, E) words
  // cy C + 128 (C = y - y_off as int32; madd with (cy, 0) ignores the high word).
  const __m256i yc = _mm256_add_epi32(_mm256_madd_epi16(_mm256_sub_epi32(y, k.yoff), k.ky), _mm256_set1_epi32(128));
  const __m256i r = _mm256_add_epi32(yc, _mm256_madd_epi16(de, k.kr));  // + crv E
  const __m256i g = _mm256_sub_epi32(yc, _mm256_madd_epi16(de, k.kg));  // - (cgu D + cgv E)
  const __m256i b = _mm256_add_epi32(yc, _mm256_madd_epi16(de, k.kb));  // + cbu D
  const __m256i zero = _mm256_setzero_si256(), top = _mm256_set1_epi32(255);
  rgb[0] = _mm256_min_epi32(_mm256_max_epi32(_mm256_srai_epi32(r, 8), zero), top);
  rgb[1] = _mm256_min_epi32(_mm256_max_epi32(_mm256_srai_epi32(g, 8), zero), top);
  rgb[2] = _mm256_min_epi32(_mm256_max_epi32(_mm256_srai_epi32(b, 8), zero), top);
}

// Byte shuffle putting bytes i and j of every dword into its two 16-bit words (zero-extended).
inline __m256i spread_bytes(int i, int j) {
  const char z = char(0x80);
  const char a = char(i), b = char(j);
  return _mm256_setr_epi8(a, z, b, z, char(4 + a), z, char(4 + b), z, char(8 + a), z, char(8 + b), z, char(12 + a), z,
                          char(12 + b), z, a, z, b, z, char(4 + a), z, char(4 + b), z, char(8 + a), z, char(8 + b), z,
                          char(12 + a), z, char(12 + b), z);
}

inline Pairs pairs_of(const __m256i n00[3], const __m256i n01[3], const __m256i n10[3], const __m256i n11[3]) {
  Pairs p;
  for (int c = 0; c < 3; ++c) {
    p.v[c][0] = _mm256_or_si256(n00[c], _mm256_slli_epi32(n01[c], 16));
    p.v[c][1] = _mm256_or_si256(n10[c], _mm256_slli_epi32(n11[c], 16));
  }
  return p;
}

// Every dword = (lo, hi) as two int16 words.
inline __m256i pack_words(int lo, int hi) {
  return _mm256_set1_epi32(int32_t(uint32_t(uint16_t(lo)) | (uint32_t(uint16_t(hi)) << 16)));
}

// nv12: luma gathered 4 bytes at a time from Y[y][x0] (bytes 0, 1 = left, right; the read stays inside the frame
// because the chroma plane follows the luma plane). Chroma gathered from the pair-aligned offset
// ((x0 + 1) & ~1) - 2 of the chroma row: bytes 2, 3 are always the right pixel's (U, V), and the left pixel's
// are bytes 0, 1 when x0 is odd, else 2, 3 as well. Reads stay in [0, frame_bytes).
inline Pairs nv12_pairs(const uint8_t* base, int width, int height, const YuvK& k, const Entries8& e) {
  const __m256i w = _mm256_set1_epi32(width);
  const __m256i one = _mm256_set1_epi32(1);
  const int* b = reinterpret_cast<const int*>(base);
  const __m256i yo0 = _mm256_add_epi32(_mm256_mullo_epi32(e.y0, w), e.x0);
  const __m256i yl0 = _mm256_i32gather_epi32(b, yo0, 1);
  const __m256i yl1 = _mm256_i32gather_epi32(b, _mm256_add_epi32(yo0, w), 1);
  const __m256i plane = _mm256_set1_epi32(width * height);
  const __m256i cx = _mm256_sub_epi32(_mm256_andnot_si256(one, _mm256_add_epi32(e.x0, one)), _mm256_set1_epi32(2));
  const __m256i pcx = _mm256_add_epi32(plane, cx);
  const __m256i co0 = _mm256_add_epi32(pcx, _mm256_mullo_epi32(_mm256_srli_epi32(e.y0, 1), w));
  const __m256i co1 = _mm256_add_epi32(pcx, _mm256_mullo_epi32(_mm256_srli_epi32(_mm256_add_epi32(e.y0, one), 1), w));
  const __m256i c0 = _mm256_i32gather_epi32(b, co0, 1);
  const __m256i c1 = _mm256_i32gather_epi32(b, co1, 1);
  // Left chroma: shift by 16 when x0 is even.
  const __m256i lsh = _mm256_slli_epi32(_mm256_andnot_si256(e.x0, one), 4);
  const __m256i byte = _mm256_set1_epi32(0xFF);
  const __m256i s01 = spread_bytes(0, 1), s23 = spread_bytes(2, 3);
  __m256i n00[3], n01[3], n10[3], n11[3];
  yuv8(_mm256_and_si256(yl0, byte), _mm256_shuffle_epi8(_mm256_srlv_epi32(c0, lsh), s01), k, n00);
  yuv8(_mm256_and_si256(_mm256_srli_epi32(yl0, 8), byte), _mm256_shuffle_epi8(c0, s23), k, n01);
  yuv8(_mm256_and_si256(yl1, byte), _mm256_shuffle_epi8(_mm256_srlv_epi32(c1, lsh), s01), k, n10);
  yuv8(_mm256_and_si256(_mm256_srli_epi32(yl1, 8), byte), _mm256_shuffle_epi8(c1, s23), k, n11);
  return pairs_of(n00, n01, n10, n11);
}

// yuyv: per row, the 4-byte group (Y0 U Y1 V) of x0's pair and of (x0+1)'s pair (the same group when x0 is even):
// the left luma is byte 0 (x0 even) or 2, the right luma byte 2 or 0, (U, V) bytes 1, 3 of each group.
// Every read is a whole group inside its row.
inline Pairs yuyv_pairs(const uint8_t* base, int width, const YuvK& k, const Entries8& e) {
  const __m256i one = _mm256_set1_epi32(1);
  const int* b = reinterpret_cast<const int*>(base);
  const __m256i row0 = _mm256_mullo_epi32(e.y0, _mm256_set1_epi32(2 * width));
  const __m256i row1 = _mm256_add_epi32(row0, _mm256_set1_epi32(2 * width));
  const __m256i gl = _mm256_slli_epi32(_mm256_srli_epi32(e.x0, 1), 2);                          // 4 (x0 >> 1)
  const __m256i gr = _mm256_slli_epi32(_mm256_srli_epi32(_mm256_add_epi32(e.x0, one), 1), 2);  // 4 ((x0+1) >> 1)
  const __m256i l0 = _mm256_i32gather_epi32(b, _mm256_add_epi32(row0, gl), 1);
  const __m256i r0 = _mm256_i32gather_epi32(b, _mm256_add_epi32(row0, gr), 1);
  const __m256i l1 = _mm256_i32gather_epi32(b, _mm256_add_epi32(row1, gl), 1);
  const __m256i r1 = _mm256_i32gather_epi32(b, _mm256_add_epi32(row1, gr), 1);
  const __m256i odd = _mm256_and_si256(e.x0, one);
  const __m256i lsh = _mm256_slli_epi32(odd, 4);                     // 16 when x0 is odd
  const __m256i rsh = _mm256_slli_epi32(_mm256_xor_si256(odd, one), 4);  // 16 when x0 + 1 is odd
  const __m256i byte = _mm256_set1_epi32(0xFF);
  const __m256i s13 = spread_bytes(1, 3);
  __m256i n00[3], n01[3], n10[3], n11[3];
  yuv8(_mm256_and_si256(_mm256_srlv_epi32(l0, lsh), byte), _mm256_shuffle_epi8(l0, s13), k, n00);
  yuv8(_mm256_and_si256(_mm256_srlv_epi32(r0, rsh), byte), _mm256_shuffle_epi8(r0, s13), k, n01);
  yuv8(_mm256_and_si256(_mm256_srlv_epi32(l1, lsh), byte), _mm256_shuffle_epi8(l1, s13), k, n10);
  yuv8(_mm256_and_si256(_mm256_srlv_epi32(r1, rsh), byte), _mm256_shuffle_epi8(r1, s13), k, n11);
  return pairs_of(n00, n01, n10, n11);
}

// bayer_rggb8, interior entries only (1 <= x0 <= W-3, 1 <= y0 <= H-3, so no neighbour needs mirroring): the
// 4 x 4 block of columns x0-1 .. x0+2, rows y0-1 .. y0+2 is gathered one dword per row. For the neighbour in
// column x0+dx of row y0+dy the sums of bayer_rggb_at are:
//   horizontal pair  block[1+dy][dx] + block[1+dy][dx+2]      vertical pair  block[dy][1+dx] + block[dy+2][1+dx]
//   diagonals        the horizontal pairs of rows dy and dy+2
// and the site (R, B or one of the two G) follows from the parities of x0+dx and y0+dy.
inline Pairs bayer_pairs(const uint8_t* base, int width, const Entries8& e) {
  const __m256i w = _mm256_set1_epi32(width);
  const __m256i one = _mm256_set1_epi32(1);
  const int* b = reinterpret_cast<const int*>(base);
  __m256i off = _mm256_sub_epi32(_mm256_add_epi32(_mm256_mullo_epi32(_mm256_sub_epi32(e.y0, one), w), e.x0), one);
  const __m256i lo8 = _mm256_set1_epi32(0x00FF00FF), ones16 = _mm256_set1_epi16(1), byte = _mm256_set1_epi32(0xFF);
  __m256i c1[4], c2[4], h0[4], h1[4];  // per block row: column x0, column x0+1, pair sums (x0-1, x0+1), (x0, x0+2)
  for (int j = 0; j < 4; ++j) {
    const __m256i row = _mm256_i32gather_epi32(b, off, 1);
    off = _mm256_add_epi32(off, w);
    const __m256i ev = _mm256_and_si256(row, lo8);                         // words: col x0-1, col x0+1
    const __m256i od = _mm256_and_si256(_mm256_srli_epi32(row, 8), lo8);  // words: col x0, col x0+2
    c1[j] = _mm256_and_si256(od, byte);
    c2[j] = _mm256_srli_epi32(ev, 16);
    h0[j] = _mm256_madd_epi16(ev, ones16);
    h1[j] = _mm256_madd_epi16(od, ones16);
  }
  const __m256i xo = _mm256_cmpeq_epi32(_mm256_and_si256(e.x0, one), one);  // all ones where x0 is odd
  const __m256i yo = _mm256_cmpeq_epi32(_mm256_and_si256(e.y0, one), one);
  const __m256i all = _mm256_set1_epi32(-1), two = _mm256_set1_epi32(2);
  __m256i n[2][2][3];
  for (int dy = 0; dy < 2; ++dy)
    for (int dx = 0; dx < 2; ++dx) {
      const int r = 1 + dy;
      const __m256i own = dx == 0 ? c1[r] : c2[r];
      const __m256i hsum = dx == 0 ? h0[r] : h1[r];
      const __m256i vsum = dx == 0 ? _mm256_add_epi32(c1[r - 1], c1[r + 1]) : _mm256_add_epi32(c2[r - 1], c2[r + 1]);
      const __m256i dsum = dx == 0 ? _mm256_add_epi32(h0[r - 1], h0[r + 1]) : _mm256_add_epi32(h1[r - 1], h1[r + 1]);
      const __m256i cross = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(hsum, vsum), two), 2);
      const __m256i diag = _mm256_srli_epi32(_mm256_add_epi32(dsum, two), 2);
      const __m256i horiz = _mm256_srli_epi32(_mm256_add_epi32(hsum, one), 1);
      const __m256i vert = _mm256_srli_epi32(_mm256_add_epi32(vsum, one), 1);
      const __m256i xodd = dx == 0 ? xo : _mm256_xor_si256(xo, all);
      const __m256i yodd = dy == 0 ? yo : _mm256_xor_si256(yo, all);
      const __m256i gsite = _mm256_xor_si256(xodd, yodd);  // all ones at G sites
      // R / B sites: R = own (even row) or diag, B = diag or own, G = cross.
      // G sites: R = horiz (even row) or vert, B = vert or horiz, G = own.
      const __m256i rb_r = _mm256_blendv_epi8(own, diag, yodd), rb_b = _mm256_blendv_epi8(diag, own, yodd);
      const __m256i g_r = _mm256_blendv_epi8(horiz, vert, yodd), g_b = _mm256_blendv_epi8(vert, horiz, yodd);
      n[dy][dx][0] = _mm256_blendv_epi8(rb_r, g_r, gsite);
      n[dy][dx][1] = _mm256_blendv_epi8(cross, own, gsite);
      n[dy][dx][2] = _mm256_blendv_epi8(rb_b, g_b, gsite);
    }
  return pairs_of(n[0][0], n[0][1], n[1][0], n[1][1]);
}

}  // namespace

void fused_sample_avx2(const RemapEntry* table, int64_t pixels, const SourceFrame* cameras, int camera_count,
                       const int8_t* const lut[3], const int8_t fill[3], int8_t* out_planes[3], uint8_t* mask) {
  if (pixels <= 0) return;
  // The LUTs widened to int32 for 32-bit gathers (cheap next to any real virtual camera).
  alignas(32) int32_t lut32[3][256];
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) lut32[c][v] = lut[c][v];

  int8_t* const o0 = out_planes[0];
  int8_t* const o1 = out_planes[1];
  int8_t* const o2 = out_planes[2];
  int cached_cam = -2;  // per-camera setup, redone when the camera changes
  bool cam_vector = false;
  YuvK k{};
  int64_t i = 0;
  for (; i + 8 <= pixels; i += 8) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(table + i));
    const __m256i bv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(table + i + 4));
    const int cam = table[i].camera;
    // All 8 camera fields (bytes 0, 1 of each 8-byte entry) equal to the first?
    const __m256i cv = _mm256_set1_epi16(int16_t(cam));
    const unsigned ma = unsigned(_mm256_movemask_epi8(_mm256_cmpeq_epi16(a, cv)));
    const unsigned mb = unsigned(_mm256_movemask_epi8(_mm256_cmpeq_epi16(bv, cv)));
    const unsigned cam_bits = 0x03030303u;
    if (cam != cached_cam) {
      cached_cam = cam;
      cam_vector = false;
      if (cam >= 0 && cam < camera_count) {
        const SourceFrame& s = cameras[cam];
        const int64_t bytes = int64_t(s.width) * int64_t(s.height) * 3;
        const bool fmt_ok = s.format == PixelFormat::rgb8 || s.format == PixelFormat::bgr8 ||
                            (s.format == PixelFormat::nv12 && s.width % 2 == 0 && s.height % 2 == 0) ||
                            (s.format == PixelFormat::yuyv && s.width % 2 == 0) || s.format == PixelFormat::bayer_rggb8;
        cam_vector = s.data != nullptr && fmt_ok && s.width >= 2 && s.height >= 2 && bytes <= kMaxGatherBytes;
        if (s.format == PixelFormat::nv12 || s.format == PixelFormat::yuyv) {
          const YuvCoeffs& y = s.yuv;
          k.ky = pack_words(y.cy, 0);
          k.kr = pack_words(0, y.crv);
          k.kg = pack_words(y.cgu, y.cgv);
          k.kb = pack_words(y.cbu, 0);
          k.yoff = _mm256_set1_epi32(y.y_off);
        }
      }
    }
    if (!cam_vector || (ma & cam_bits) != cam_bits || (mb & cam_bits) != cam_bits) {
      int8_t* planes[3] = {o0 + i, o1 + i, o2 + i};
      fused_sample_scalar(table + i, 8, cameras, camera_count, lut, fill, planes, mask + i);
      continue;
    }
    const SourceFrame& s = cameras[cam];
    const Entries8 e = unpack_entries(a, bv);
    // In bounds: x0 + 1 < W, y0 + 1 < H; bayer also needs the interior (x0 in 1..W-3, y0 in 1..H-3), the
    // border entries take the scalar path with its mirroring.
    const bool bayer = s.format == PixelFormat::bayer_rggb8;
    const __m256i zero = _mm256_setzero_si256();
    const int margin = bayer ? 2 : 1;
    __m256i inside = _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(s.width - margin), e.x0),
                                      _mm256_cmpgt_epi32(_mm256_set1_epi32(s.height - margin), e.y0));
    if (bayer)
      inside = _mm256_and_si256(
          inside, _mm256_and_si256(_mm256_cmpgt_epi32(e.x0, zero), _mm256_cmpgt_epi32(e.y0, zero)));
    if (_mm256_movemask_epi8(inside) != -1) {
      int8_t* planes[3] = {o0 + i, o1 + i, o2 + i};
      fused_sample_scalar(table + i, 8, cameras, camera_count, lut, fill, planes, mask + i);
      continue;
    }
    Pairs p;
    switch (s.format) {
      case PixelFormat::rgb8: p = rgb_pairs<false>(s.data, s.width, e); break;
      case PixelFormat::bgr8: p = rgb_pairs<true>(s.data, s.width, e); break;
      case PixelFormat::nv12: p = nv12_pairs(s.data, s.width, s.height, k, e); break;
      case PixelFormat::yuyv: p = yuyv_pairs(s.data, s.width, k, e); break;
      default: p = bayer_pairs(s.data, s.width, e); break;
    }
    blend_lut_store(p, e, lut32, o0 + i, o1 + i, o2 + i, mask + i);
  }
  if (i < pixels) {
    int8_t* planes[3] = {o0 + i, o1 + i, o2 + i};
    fused_sample_scalar(table + i, pixels - i, cameras, camera_count, lut, fill, planes, mask + i);
  }
}

}  // namespace wv::sensors

#endif  // WV_HAVE_AVX2_KERNELS
