// C API of sensor adapters: the built-in one and plugins, behind one handle; plugin failures become statuses.
#include <memory>
#include <string>

#include "capi/last_error.hpp"
#include "sensors/builtin_adapter.hpp"
#include "sensors/plugin_loader.hpp"
#include "wayvert/wayvert.h"

struct wv_sensor_adapter {
  std::shared_ptr<wv::sensors::LoadedPlugin> library;  // null for the built-in adapter
  const wv_sensor_plugin* plugin = nullptr;
  void* handle = nullptr;
  ~wv_sensor_adapter() {
    if (plugin && handle) plugin->close(handle);
  }
};

namespace {

using wv::capi::fail;
using wv::capi::guarded;

wv_status from_plugin(int32_t code) {
  switch (code) {
    case WV_SP_OK: return WV_OK;
    case WV_SP_ERR_INVALID_ARGUMENT: return WV_ERR_INVALID_ARGUMENT;
    case WV_SP_ERR_UNSUPPORTED: return WV_ERR_UNSUPPORTED;
    case WV_SP_ERR_INPUT: return WV_ERR_INPUT;
    default: return WV_ERR_INTERNAL;
  }
}

std::string message_of(const wv_sensor_plugin* p, void* handle) {
  const char* m = p->last_error(handle);
  return std::string(p->name ? p->name : "plugin") + ": " + (m && *m ? m : "failed without a message");
}

wv_status open_with(std::shared_ptr<wv::sensors::LoadedPlugin> lib, const wv_sensor_plugin* p, const wv_sp_rig* source,
                    const wv_sp_canonical* canonical, wv_sensor_adapter** out) {
  auto a = std::make_unique<wv_sensor_adapter>();
  a->library = std::move(lib);
  a->plugin = p;
  const int32_t code = p->open(source, canonical, &a->handle);
  if (code != WV_SP_OK) {
    a->handle = nullptr;
    return fail(from_plugin(code), message_of(p, nullptr));
  }
  *out = a.release();
  return WV_OK;
}

}  // namespace

extern "C" {

wv_status wv_sensor_adapter_open_builtin(const wv_sp_rig* source, const wv_sp_canonical* canonical, wv_sensor_adapter** out) {
  return guarded([&] {
    if (out == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "out pointer is NULL");
    *out = nullptr;
    return open_with(nullptr, wv::sensors::builtin_sensor_plugin(), source, canonical, out);
  });
}

wv_status wv_sensor_adapter_open_plugin(const char* path, const wv_sp_rig* source, const wv_sp_canonical* canonical,
                                        wv_sensor_adapter** out) {
  return guarded([&] {
    if (out == nullptr || path == nullptr) return fail(WV_ERR_INVALID_ARGUMENT, "path or out pointer is NULL");
    *out = nullptr;
    auto lib = wv::sensors::LoadedPlugin::load(path);
    if (!lib.ok()) return fail(lib.status());
    const wv_sensor_plugin* p = lib.value()->table();
    return open_with(lib.take(), p, source, canonical, out);
  });
}

wv_status wv_sensor_adapter_convert(wv_sensor_adapter* a, const wv_sp_frame* frames, int32_t frame_count, wv_sp_output* out) {
  return guarded([&] {
    if (a == nullptr || out == nullptr || (frame_count > 0 && frames == nullptr))
      return fail(WV_ERR_INVALID_ARGUMENT, "adapter, frames or output pointer is NULL");
    const int32_t code = a->plugin->convert(a->handle, frames, frame_count, out);
    return code == WV_SP_OK ? WV_OK : fail(from_plugin(code), message_of(a->plugin, a->handle));
  });
}

const char* wv_sensor_adapter_name(const wv_sensor_adapter* a) { return a && a->plugin->name ? a->plugin->name : ""; }
const char* wv_sensor_adapter_describe(const wv_sensor_adapter* a) { return a ? a->plugin->describe() : ""; }
void wv_sensor_adapter_release(wv_sensor_adapter* a) { delete a; }

}  // extern "C"
