// libFuzzer harness: the plugin ABI's rig structs and the built-in adapter with arbitrary frames. The first bytes
// describe a source rig of one or two cameras (size, pixel format, camera model, intrinsics, pose: any values,
// NaN and inf included) and a canonical rig of one small pinhole camera; when the adapter accepts them, the rest
// of the bytes are the frames, with sizes that are sometimes wrong and camera names that are sometimes unknown.
// Every refusal must be a status with a message.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "wayvert/wayvert.h"

namespace {

struct Reader {
  const uint8_t* p;
  size_t n;
  uint8_t byte() { return n ? (--n, *p++) : 0; }
  double f64() {
    float v = 0.f;  // floats: bit patterns cover NaN, inf and denormals without making every value huge
    if (n >= 4) { std::memcpy(&v, p, 4); p += 4; n -= 4; }
    return double(v);
  }
};

const char* const kFormats[] = {"rgb8", "bgr8", "nv12", "yuyv", "bayer_rggb8", "unknown_format", ""};
const char* const kNames[] = {"front", "rear"};

void camera(Reader& r, wv_sp_camera& c, int index) {
  std::memset(&c, 0, sizeof c);
  c.name = kNames[index];
  c.width = int32_t(r.byte() % 40) - 2;
  c.height = int32_t(r.byte() % 40) - 2;
  c.pixel_format = kFormats[r.byte() % 7];
  c.color_matrix = int32_t(r.byte() % 4) - 1;
  c.full_range = r.byte() % 3;
  c.fps = r.f64();
  c.model = int32_t(r.byte() % 5) - 1;
  c.fx = r.f64(); c.fy = r.f64(); c.cx = r.f64(); c.cy = r.f64();
  for (double& k : c.coeffs) k = r.f64();
  c.fov_deg = r.f64();
  for (double& t : c.translation_m) t = r.f64();
  for (double& a : c.rotation_rpy_rad) a = r.f64();
}

size_t frame_bytes(const wv_sp_camera& c) {
  const size_t px = size_t(c.width > 0 ? c.width : 0) * size_t(c.height > 0 ? c.height : 0);
  const char* f = c.pixel_format;
  if (!std::strcmp(f, "rgb8") || !std::strcmp(f, "bgr8")) return 3 * px;
  if (!std::strcmp(f, "nv12")) return px + px / 2;
  if (!std::strcmp(f, "yuyv")) return 2 * px;
  return px;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r{data, size};
  wv_sp_camera cams[2];
  const int count = 1 + r.byte() % 2;
  for (int i = 0; i < count; ++i) camera(r, cams[i], i);
  wv_sp_rig source{"fuzz", count, cams};
  wv_sp_camera canon_cam;
  std::memset(&canon_cam, 0, sizeof canon_cam);
  canon_cam.name = "front";
  canon_cam.width = 16; canon_cam.height = 8;
  canon_cam.pixel_format = "rgb8";
  canon_cam.model = WV_SP_MODEL_PINHOLE;
  canon_cam.fx = canon_cam.fy = 10.0; canon_cam.cx = 8.0; canon_cam.cy = 4.0;
  canon_cam.fps = 10.0;
  wv_sp_rig canon_rig{"canonical", 1, &canon_cam};
  wv_sp_canonical canonical{&canon_rig, {0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f}, 1.f / 64.f, 0};
  wv_sensor_adapter* adapter = nullptr;
  if (wv_sensor_adapter_open_builtin(&source, &canonical, &adapter) != WV_OK) {
    if (wv_last_error()[0] == '\0') __builtin_trap();
    return 0;
  }
  std::vector<std::vector<uint8_t>> pixels(static_cast<size_t>(count));
  std::vector<wv_sp_frame> frames(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    size_t want = frame_bytes(cams[i]);
    const uint8_t how = r.byte();
    if (how % 7 == 0) want += 1;  // wrong size now and then
    pixels[size_t(i)].assign(want, 0);
    const size_t take = want < r.n ? want : r.n;
    std::memcpy(pixels[size_t(i)].data(), r.p, take);
    frames[size_t(i)] = {how % 11 == 0 ? "nobody" : cams[i].name, pixels[size_t(i)].data(), want, int64_t(i)};
  }
  std::vector<int8_t> tensor(3 * 16 * 8);
  std::vector<uint8_t> mask(16 * 8);
  wv_sp_output out{tensor.data(), tensor.size(), mask.data(), mask.size()};
  if (wv_sensor_adapter_convert(adapter, frames.data(), count, &out) != WV_OK && wv_last_error()[0] == '\0')
    __builtin_trap();
  wv_sensor_adapter_release(adapter);
  return 0;
}
