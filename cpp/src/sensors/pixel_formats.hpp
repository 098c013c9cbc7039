// Camera pixel formats of the built-in sensor adapter and their exact-integer decoding to 8-bit RGB.
// The scalar C++ path, the AVX2 path (fused_sampler_avx2.cpp) and the numpy reference
// (wayvert/sensors/pixel_formats.py) implement exactly these rules and agree bit for bit.
//
// Frame layouts (all uint8, rows tightly packed, no padding):
//   rgb8 / bgr8   [H][W][3]     (R,G,B) resp. (B,G,R) per pixel.
//   nv12          [H*3/2][W]    Y plane H x W, then the interleaved chroma plane H/2 x W holding (U,V) pairs:
//                               U of chroma sample (cx, cy) at Y-plane-end + cy*W + 2*cx, V right after it.
//                               W and H must be even.
//   yuyv          [H][2W]       Y0 U Y1 V for each horizontal pixel pair (pixels 2k, 2k+1 share U, V). W even.
//   bayer_rggb8   [H][W]        R at (even row, even col), B at (odd row, odd col), G elsewhere.
// Every format needs W >= 2 and H >= 2 (bilinear sampling reads a 2x2 neighbourhood).
//
// fetch_rgb(frame, x, y) -> (R, G, B) at integer pixel (x, y):
//   rgb8 / bgr8: the stored bytes (bgr8 swapped).
//   nv12: Y = Y[y][x], (U, V) of chroma sample (x>>1, y>>1), then YUV -> RGB below.
//   yuyv: Y of pixel x (byte 2x of the row), (U, V) of pair x>>1, then YUV -> RGB below.
//   bayer_rggb8: bilinear demosaic at (x, y). The native channel is the stored value; a missing channel is the
//     mean of the 2 same-colour neighbours in the row or column ((a+b+1)>>1: the other colour at a G site) or
//     of the 4 same-colour neighbours ((a+b+c+d+2)>>2: G from the 4-neighbours cross, and R/B from the 4
//     diagonals, at R and B sites). Indices outside the image are mirrored without repeating the edge
//     ("reflect-101": -1 -> 1, W -> W-2, same for rows), which keeps the colour of every site.
//
// YUV -> RGB in integers (8-bit fixed point, arithmetic right shift):
//   C = Y - y_off, D = U - 128, E = V - 128
//   R = clamp((cy*C + crv*E + 128) >> 8)
//   G = clamp((cy*C - cgu*D - cgv*E + 128) >> 8)
//   B = clamp((cy*C + cbu*D + 128) >> 8)          clamp to [0, 255]
// The coefficients are the standard YCbCr -> RGB matrices times 256, rounded to integers:
//                      cy   crv  cgu  cgv  cbu  y_off
//   bt601 limited     298  409  100  208  516   16   (1.164, 1.596, 0.391, 0.813, 2.018 ; Y in 16..235)
//   bt601 full        256  359   88  183  454    0   (1.0,   1.402, 0.344, 0.714, 1.772)
//   bt709 limited     298  459   55  136  541   16   (1.164, 1.793, 0.213, 0.533, 2.112 ; Y in 16..235)
//   bt709 full        256  403   48  120  475    0   (1.0,   1.575, 0.187, 0.468, 1.856)
// "limited" is video range (Y 16..235, chroma 16..240), "full" is JPEG range (0..255).
// Every intermediate fits easily in int32 (|cy*C + ...| < 2^18). The >> of a negative value is arithmetic on
// every compiler and ISA the project supports (GCC/Clang; guaranteed from C++20 on).
#pragma once
#include <cstddef>
#include <cstdint>

namespace wv::sensors {

enum class PixelFormat { rgb8 = 1, bgr8, nv12, yuyv, bayer_rggb8 };
enum class ColorMatrix { bt601 = 1, bt709 };

// YUV -> RGB coefficients in 8-bit fixed point (see the table above).
struct YuvCoeffs {
  int32_t cy, crv, cgu, cgv, cbu, y_off;
};

// Coefficients for a matrix and range (any value other than bt709 is taken as bt601).
YuvCoeffs yuv_coeffs(ColorMatrix matrix, bool full_range);

// Bytes of one w x h frame in `format`; 0 when that geometry cannot exist in the format (w or h < 2, odd w or h
// for nv12, odd w for yuyv) or the format is unknown.
size_t frame_bytes(PixelFormat format, int w, int h);

// One pixel from Y, U, V by the integer rule above.
inline void yuv_to_rgb(int y, int u, int v, const YuvCoeffs& k, uint8_t rgb[3]) {
  const int32_t c = k.cy * (y - k.y_off), d = u - 128, e = v - 128;
  int32_t r = (c + k.crv * e + 128) >> 8;
  int32_t g = (c - k.cgu * d - k.cgv * e + 128) >> 8;
  int32_t b = (c + k.cbu * d + 128) >> 8;
  r = r < 0 ? 0 : (r > 255 ? 255 : r);
  g = g < 0 ? 0 : (g > 255 ? 255 : g);
  b = b < 0 ? 0 : (b > 255 ? 255 : b);
  rgb[0] = uint8_t(r);
  rgb[1] = uint8_t(g);
  rgb[2] = uint8_t(b);
}

// Reflect-101 index into [0, n): -1 -> 1, n -> n-2 (one step outside at most; n >= 2).
inline int mirror101(int i, int n) { return i < 0 ? -i : (i >= n ? 2 * n - 2 - i : i); }

// Bilinear RGGB demosaic at (x, y) as described above.
inline void bayer_rggb_at(const uint8_t* f, int w, int h, int x, int y, uint8_t rgb[3]) {
  const int xl = mirror101(x - 1, w), xr = mirror101(x + 1, w);
  const uint8_t* row = f + size_t(y) * size_t(w);
  const uint8_t* up = f + size_t(mirror101(y - 1, h)) * size_t(w);
  const uint8_t* dn = f + size_t(mirror101(y + 1, h)) * size_t(w);
  const int own = row[x];
  const bool odd_row = (y & 1) != 0, odd_col = (x & 1) != 0;
  if (odd_row == odd_col) {  // R site (even, even) or B site (odd, odd)
    const int cross = (row[xl] + row[xr] + up[x] + dn[x] + 2) >> 2;
    const int diag = (up[xl] + up[xr] + dn[xl] + dn[xr] + 2) >> 2;
    rgb[0] = uint8_t(odd_row ? diag : own);
    rgb[1] = uint8_t(cross);
    rgb[2] = uint8_t(odd_row ? own : diag);
  } else {  // G site: the row neighbours are R on an R row (even), B on a B row (odd); the column ones the other
    const int horiz = (row[xl] + row[xr] + 1) >> 1;
    const int vert = (up[x] + dn[x] + 1) >> 1;
    rgb[0] = uint8_t(odd_row ? vert : horiz);
    rgb[1] = uint8_t(own);
    rgb[2] = uint8_t(odd_row ? horiz : vert);
  }
}

// (R, G, B) of integer pixel (x, y), 0 <= x < width, 0 <= y < height, of a frame holding
// frame_bytes(format, width, height) bytes. An unknown format gives (0, 0, 0).
inline void fetch_rgb(const uint8_t* frame, int width, int height, PixelFormat format, const YuvCoeffs& yuv, int x,
                      int y, uint8_t rgb[3]) {
  const size_t W = size_t(width), H = size_t(height);
  switch (format) {
    case PixelFormat::rgb8: {
      const uint8_t* p = frame + (size_t(y) * W + size_t(x)) * 3;
      rgb[0] = p[0]; rgb[1] = p[1]; rgb[2] = p[2];
      return;
    }
    case PixelFormat::bgr8: {
      const uint8_t* p = frame + (size_t(y) * W + size_t(x)) * 3;
      rgb[0] = p[2]; rgb[1] = p[1]; rgb[2] = p[0];
      return;
    }
    case PixelFormat::nv12: {
      const uint8_t* uv = frame + W * H + size_t(y >> 1) * W + size_t(x >> 1) * 2;
      yuv_to_rgb(frame[size_t(y) * W + size_t(x)], uv[0], uv[1], yuv, rgb);
      return;
    }
    case PixelFormat::yuyv: {
      const uint8_t* row = frame + size_t(y) * W * 2;
      const uint8_t* pair = row + size_t(x >> 1) * 4;
      yuv_to_rgb(row[size_t(x) * 2], pair[1], pair[3], yuv, rgb);
      return;
    }
    case PixelFormat::bayer_rggb8:
      bayer_rggb_at(frame, width, height, x, y, rgb);
      return;
  }
  rgb[0] = rgb[1] = rgb[2] = 0;
}

}  // namespace wv::sensors
