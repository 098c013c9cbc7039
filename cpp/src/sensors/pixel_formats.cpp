#include "sensors/pixel_formats.hpp"

namespace wv::sensors {

YuvCoeffs yuv_coeffs(ColorMatrix matrix, bool full_range) {
  //                                  cy   crv  cgu  cgv  cbu  y_off
  static constexpr YuvCoeffs k601_limited{298, 409, 100, 208, 516, 16};
  static constexpr YuvCoeffs k601_full{256, 359, 88, 183, 454, 0};
  static constexpr YuvCoeffs k709_limited{298, 459, 55, 136, 541, 16};
  static constexpr YuvCoeffs k709_full{256, 403, 48, 120, 475, 0};
  if (matrix == ColorMatrix::bt709) return full_range ? k709_full : k709_limited;
  return full_range ? k601_full : k601_limited;
}

size_t frame_bytes(PixelFormat format, int w, int h) {
  if (w < 2 || h < 2) return 0;
  const size_t W = size_t(w), H = size_t(h);
  switch (format) {
    case PixelFormat::rgb8:
    case PixelFormat::bgr8: return W * H * 3;
    case PixelFormat::nv12: return (w % 2 != 0 || h % 2 != 0) ? 0 : W * H + W * (H / 2);
    case PixelFormat::yuyv: return (w % 2 != 0) ? 0 : W * H * 2;
    case PixelFormat::bayer_rggb8: return W * H;
  }
  return 0;
}

}  // namespace wv::sensors
