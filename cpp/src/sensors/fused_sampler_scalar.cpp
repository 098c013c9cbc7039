// Portable fused sampler (the reference the AVX2 path must match bit for bit) and its run-time dispatch.
#include <cstring>

#include "kernels/cpu/gemm.hpp"
#include "sensors/fused_sampler.hpp"

namespace wv::sensors {
namespace {

// The blend of fused_sampler.hpp for 4 neighbours of one channel, in the direct (4-weight) form.
inline int blend(int p00, int p01, int p10, int p11, int fx, int fy) {
  const int32_t w00 = (256 - fx) * (256 - fy), w01 = fx * (256 - fy), w10 = (256 - fx) * fy, w11 = fx * fy;
  return (w00 * p00 + w01 * p01 + w10 * p10 + w11 * p11 + 32768) >> 16;
}

// Blended RGB of one in-bounds entry; the format is a template argument so fetch_rgb's switch folds away.
template <PixelFormat F>
inline void sample_entry(const SourceFrame& s, const RemapEntry& e, uint8_t v[3]) {
  uint8_t p00[3], p01[3], p10[3], p11[3];
  const int x = e.x0, y = e.y0;
  fetch_rgb(s.data, s.width, s.height, F, s.yuv, x, y, p00);
  fetch_rgb(s.data, s.width, s.height, F, s.yuv, x + 1, y, p01);
  fetch_rgb(s.data, s.width, s.height, F, s.yuv, x, y + 1, p10);
  fetch_rgb(s.data, s.width, s.height, F, s.yuv, x + 1, y + 1, p11);
  for (int c = 0; c < 3; ++c) v[c] = uint8_t(blend(p00[c], p01[c], p10[c], p11[c], e.fx, e.fy));
}

}  // namespace

void fused_sample_scalar(const RemapEntry* table, int64_t pixels, const SourceFrame* cameras, int camera_count,
                         const int8_t* const lut[3], const int8_t fill[3], int8_t* out_planes[3], uint8_t* mask) {
  int8_t* const o0 = out_planes[0];
  int8_t* const o1 = out_planes[1];
  int8_t* const o2 = out_planes[2];
  for (int64_t i = 0; i < pixels; ++i) {
    const RemapEntry e = table[i];
    const SourceFrame* s = (e.camera >= 0 && e.camera < camera_count) ? &cameras[e.camera] : nullptr;
    if (s == nullptr || s->data == nullptr || int(e.x0) + 1 >= s->width || int(e.y0) + 1 >= s->height) {
      o0[i] = fill[0];
      o1[i] = fill[1];
      o2[i] = fill[2];
      mask[i] = 0;
      continue;
    }
    uint8_t v[3];
    switch (s->format) {
      case PixelFormat::rgb8: sample_entry<PixelFormat::rgb8>(*s, e, v); break;
      case PixelFormat::bgr8: sample_entry<PixelFormat::bgr8>(*s, e, v); break;
      case PixelFormat::nv12: sample_entry<PixelFormat::nv12>(*s, e, v); break;
      case PixelFormat::yuyv: sample_entry<PixelFormat::yuyv>(*s, e, v); break;
      case PixelFormat::bayer_rggb8: sample_entry<PixelFormat::bayer_rggb8>(*s, e, v); break;
      default: v[0] = v[1] = v[2] = 0; break;  // unknown format: fetch_rgb's (0, 0, 0)
    }
    o0[i] = lut[0][v[0]];
    o1[i] = lut[1][v[1]];
    o2[i] = lut[2][v[2]];
    mask[i] = 1;
  }
}

FusedSamplerFn select_fused_sampler() {
#if defined(WV_HAVE_AVX2_KERNELS)
  if (std::strcmp(wv::kernels::active_isa(), "avx2") == 0) return &fused_sample_avx2;
#endif
  return &fused_sample_scalar;
}

}  // namespace wv::sensors
