#include "sensors/builtin_adapter.hpp"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "sensors/remap_table.hpp"

namespace wv::sensors {
namespace {

thread_local std::string g_open_error;

struct Adapter {
  std::vector<std::string> names;         // source camera names
  std::vector<SourceFrame> frames;        // reused by every convert(): data pointers only change
  std::vector<size_t> frame_bytes_of;     // expected bytes per source camera
  std::vector<std::vector<RemapEntry>> tables;  // one per virtual camera
  int virt_w = 0, virt_h = 0;
  int8_t lut[3][256];
  int8_t fill[3];
  FusedSamplerFn sampler = nullptr;
  std::string error;
};

bool parse_format(const char* name, PixelFormat* f) {
  static const struct { const char* n; PixelFormat f; } known[] = {{"rgb8", PixelFormat::rgb8}, {"bgr8", PixelFormat::bgr8},
      {"nv12", PixelFormat::nv12}, {"yuyv", PixelFormat::yuyv}, {"bayer_rggb8", PixelFormat::bayer_rggb8}};
  for (const auto& k : known)
    if (name && std::strcmp(name, k.n) == 0) { *f = k.f; return true; }
  return false;
}

const char* describe() {
  return R"({"pixel_formats": ["rgb8", "bgr8", "nv12", "yuyv", "bayer_rggb8"], )"
         R"("camera_models": ["pinhole", "kannala_brandt", "ftheta"]})";
}

int32_t fail_open(const std::string& m, int32_t code = WV_SP_ERR_INVALID_ARGUMENT) {
  g_open_error = m;
  return code;
}

int32_t open(const wv_sp_rig* source, const wv_sp_canonical* canonical, void** handle) {
  try {
    if (!source || !canonical || !canonical->rig || !handle) return fail_open("source rig, canonical spec and handle are required");
    *handle = nullptr;
    if (source->camera_count < 1 || source->camera_count > 32767) return fail_open("the source rig needs 1..32767 cameras");
    const wv_sp_rig& virt = *canonical->rig;
    if (virt.camera_count < 1) return fail_open("the canonical rig has no cameras");
    auto a = std::make_unique<Adapter>();
    std::vector<CameraGeometry> sources;
    for (int i = 0; i < source->camera_count; ++i) {
      const wv_sp_camera& c = source->cameras[i];
      PixelFormat f;
      if (!parse_format(c.pixel_format, &f))
        return fail_open(std::string("camera '") + (c.name ? c.name : "?") + "': pixel format '" +
                         (c.pixel_format ? c.pixel_format : "") + "' needs a plugin (built-in: rgb8, bgr8, nv12, yuyv, bayer_rggb8)",
                         WV_SP_ERR_UNSUPPORTED);
      const bool even_w = c.width % 2 == 0, even_h = c.height % 2 == 0;
      if ((f == PixelFormat::nv12 && (!even_w || !even_h)) || (f == PixelFormat::yuyv && !even_w) ||
          (f == PixelFormat::bayer_rggb8 && (!even_w || !even_h)))
        return fail_open(std::string("camera '") + c.name + "': " + c.pixel_format + " needs even dimensions");
      auto g = camera_geometry(c);
      if (!g.ok()) return fail_open(g.status().message());
      sources.push_back(g.take());
      for (const std::string& n : a->names)
        if (n == c.name) return fail_open(std::string("duplicate camera name '") + c.name + "'");
      a->names.emplace_back(c.name ? c.name : "");
      a->frames.push_back(SourceFrame{nullptr, c.width, c.height, f,
                                      yuv_coeffs(c.color_matrix == WV_SP_COLOR_BT709 ? ColorMatrix::bt709 : ColorMatrix::bt601, c.full_range != 0)});
      a->frame_bytes_of.push_back(frame_bytes(f, c.width, c.height));
    }
    a->virt_w = virt.cameras[0].width;
    a->virt_h = virt.cameras[0].height;
    for (int v = 0; v < virt.camera_count; ++v) {
      const wv_sp_camera& c = virt.cameras[v];
      if (c.width != a->virt_w || c.height != a->virt_h) return fail_open("all canonical virtual cameras must share one size");
      auto g = camera_geometry(c);
      if (!g.ok()) return fail_open(g.status().message());
      a->tables.emplace_back(size_t(a->virt_w) * size_t(a->virt_h));
      build_remap(g.value(), sources, a->tables.back().data());
    }
    Status st = build_input_lut(*canonical, a->lut);
    if (!st.ok()) return fail_open(st.message());
    for (int c = 0; c < 3; ++c) a->fill[c] = int8_t(canonical->zero_point);  // no source: the input zero point (real 0)
    a->sampler = select_fused_sampler();
    *handle = a.release();
    return WV_SP_OK;
  } catch (const std::exception& e) {
    return fail_open(std::string("internal error: ") + e.what(), WV_SP_ERR_INTERNAL);
  }
}

int32_t convert(void* handle, const wv_sp_frame* frames, int32_t frame_count, wv_sp_output* out) {
  Adapter* a = static_cast<Adapter*>(handle);
  if (!a) return WV_SP_ERR_INVALID_ARGUMENT;
  const size_t V = a->tables.size(), plane = size_t(a->virt_w) * size_t(a->virt_h);
  if (!out || !out->tensor || !out->mask || out->tensor_bytes != V * 3 * plane || out->mask_bytes != V * plane) {
    a->error = "output buffers must be " + std::to_string(V * 3 * plane) + " (tensor) and " + std::to_string(V * plane) + " (mask) bytes";
    return WV_SP_ERR_INVALID_ARGUMENT;
  }
  for (SourceFrame& f : a->frames) f.data = nullptr;
  for (int32_t k = 0; k < frame_count; ++k) {
    const wv_sp_frame& f = frames[k];
    size_t idx = a->names.size();
    for (size_t i = 0; i < a->names.size(); ++i)
      if (f.camera && a->names[i] == f.camera) idx = i;
    if (idx == a->names.size()) {
      a->error = std::string("frame for unknown camera '") + (f.camera ? f.camera : "(null)") + "'";
      return WV_SP_ERR_INPUT;
    }
    if (f.data == nullptr) continue;  // camera missing this frame: reported through the mask
    if (f.bytes != a->frame_bytes_of[idx]) {
      a->error = "camera '" + a->names[idx] + "': frame has " + std::to_string(f.bytes) + " bytes, its format needs " +
                 std::to_string(a->frame_bytes_of[idx]);
      return WV_SP_ERR_INPUT;
    }
    a->frames[idx].data = static_cast<const uint8_t*>(f.data);
  }
  const int8_t* lut[3] = {a->lut[0], a->lut[1], a->lut[2]};
  for (size_t v = 0; v < V; ++v) {
    int8_t* planes[3] = {out->tensor + (v * 3 + 0) * plane, out->tensor + (v * 3 + 1) * plane, out->tensor + (v * 3 + 2) * plane};
    a->sampler(a->tables[v].data(), int64_t(plane), a->frames.data(), int(a->frames.size()), lut, a->fill, planes,
               out->mask + v * plane);
  }
  return WV_SP_OK;
}

void close(void* handle) { delete static_cast<Adapter*>(handle); }

const char* last_error(void* handle) {
  return handle ? static_cast<Adapter*>(handle)->error.c_str() : g_open_error.c_str();
}

const wv_sensor_plugin kPlugin = {WV_SENSOR_PLUGIN_ABI_MAJOR, WV_SENSOR_PLUGIN_ABI_MINOR, "wayvert.builtin", &describe,
                                  &open, &convert, &close, &last_error};

}  // namespace

const wv_sensor_plugin* builtin_sensor_plugin() { return &kPlugin; }

}  // namespace wv::sensors
