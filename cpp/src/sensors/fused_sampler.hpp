// The fused inner pass of the sensor adapter: for every pixel of one virtual camera, bilinear remap from a
// source camera frame (any PixelFormat, decoded by fetch_rgb), then per-channel LUT to the engine's int8 input,
// written as planar CHW plus a validity mask. Exact integer arithmetic: the scalar path, the AVX2 path and the
// numpy reference (wayvert/sensors/pixel_formats.py, fused_sample) agree bit for bit.
//
// Remap entry (8 bytes, no padding; numpy: numpy_dtype_of_remap_entry()):
//   offset 0 int16 camera   source camera index, -1: no source
//   offset 2 uint16 x0      \ source position (x0 + fx/256, y0 + fy/256); a usable entry has
//   offset 4 uint16 y0      / x0 + 1 < W and y0 + 1 < H of that camera
//   offset 6 uint8 fx
//   offset 7 uint8 fy
// Bilinear blend, per RGB channel of the 4 neighbours p00 = (x0, y0), p01 = (x0+1, y0), p10 = (x0, y0+1),
// p11 = (x0+1, y0+1):
//   w00 = (256-fx)(256-fy), w01 = fx(256-fy), w10 = (256-fx)fy, w11 = fx fy   (sum 65536)
//   value = (w00 p00 + w01 p01 + w10 p10 + w11 p11 + 32768) >> 16             (0..255)
// (Implementations may evaluate it separably, 256*top + fy*(bottom - top) with top = (256-fx)p00 + fx p01 and
// bottom = (256-fx)p10 + fx p11: the same integer, exactly.)
// Output: out_planes[c][i] = lut[c][value_c], mask[i] = 1.
// No source: mask[i] = 0 and out_planes[c][i] = fill[c], when camera < 0, camera >= camera_count, the camera's
// frame pointer is NULL (frame missing this cycle), or the entry is out of bounds (x0 + 1 >= W or
// y0 + 1 >= H: never produced by build_remap, checked anyway so a bad table cannot read outside a frame).
#pragma once
#include <cstddef>
#include <cstdint>

#include "sensors/pixel_formats.hpp"

namespace wv::sensors {

// One source camera's current frame (data == nullptr: no frame this cycle) and its fixed geometry.
struct SourceFrame {
  const uint8_t* data;
  int width, height;
  PixelFormat format;
  YuvCoeffs yuv;
};

struct RemapEntry {
  int16_t camera;  // -1: no source
  uint16_t x0, y0;
  uint8_t fx, fy;
};
static_assert(sizeof(RemapEntry) == 8, "RemapEntry must be 8 bytes (numpy_dtype_of_remap_entry mirrors it)");
static_assert(offsetof(RemapEntry, x0) == 2 && offsetof(RemapEntry, y0) == 4 && offsetof(RemapEntry, fx) == 6 &&
                  offsetof(RemapEntry, fy) == 7,
              "RemapEntry layout is int16 camera, uint16 x0, uint16 y0, uint8 fx, uint8 fy");

// One virtual camera: `pixels` table entries (Hv*Wv, row-major), out_planes[c] its channel plane c (pixels bytes
// each), mask `pixels` bytes. lut[c] has 256 entries. Thread-safe; no allocation.
using FusedSamplerFn = void (*)(const RemapEntry* table, int64_t pixels, const SourceFrame* cameras, int camera_count,
                                const int8_t* const lut[3], const int8_t fill[3], int8_t* out_planes[3],
                                uint8_t* mask);

// Portable reference.
void fused_sample_scalar(const RemapEntry* table, int64_t pixels, const SourceFrame* cameras, int camera_count,
                         const int8_t* const lut[3], const int8_t fill[3], int8_t* out_planes[3], uint8_t* mask);

#if defined(WV_HAVE_AVX2_KERNELS)
// AVX2 variant (8 entries at a time when they share one camera; every format, bayer_rggb8 away from the image
// border; everything else through fused_sample_scalar); call only when wv::kernels::active_isa() is "avx2".
void fused_sample_avx2(const RemapEntry* table, int64_t pixels, const SourceFrame* cameras, int camera_count,
                       const int8_t* const lut[3], const int8_t fill[3], int8_t* out_planes[3], uint8_t* mask);
#endif

// Best variant for this CPU (follows wv::kernels::active_isa(), so WAYVERT_ISA=scalar forces the reference).
FusedSamplerFn select_fused_sampler();

}  // namespace wv::sensors
