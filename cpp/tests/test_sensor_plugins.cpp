// Sensor adapters through the C API: the built-in adapter maps an identical camera onto itself, the example
// plugin loads from its .so and converts, broken plugins are refused with messages, convert() allocates nothing.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "check.hpp"
#include "wayvert/wayvert.h"

namespace {

wv_sp_camera pinhole(const char* name, const char* format, int w, int h, double yaw) {
  wv_sp_camera c{};
  c.name = name;
  c.pixel_format = format;
  c.width = w;
  c.height = h;
  c.color_matrix = WV_SP_COLOR_BT601;
  c.full_range = 1;
  c.fps = 10;
  c.model = WV_SP_MODEL_PINHOLE;
  c.fx = c.fy = 0.8 * w;
  c.cx = (w - 1) / 2.0;
  c.cy = (h - 1) / 2.0;
  c.rotation_rpy_rad[2] = yaw;
  c.translation_m[0] = 1.5;
  c.translation_m[2] = 1.5;
  return c;
}

wv_sp_canonical canonical_of(const wv_sp_rig* rig) {
  wv_sp_canonical c{};
  c.rig = rig;
  for (int i = 0; i < 3; ++i) {
    c.mean[i] = 0.f;
    c.std[i] = 1.f;
  }
  c.scale = 1.f / 255.f;  // q = v - 128 after the zero point: every 8-bit value stays distinct
  c.zero_point = -128;
  return c;
}

void test_builtin_maps_an_identical_camera_onto_itself_without_allocating() {
  wv_sp_camera src = pinhole("front", "rgb8", 64, 32, 0.0);
  wv_sp_camera virt = pinhole("v_front", "rgb8", 64, 32, 0.0);
  wv_sp_rig source{"src", 1, &src}, vrig{"canon", 1, &virt};
  wv_sp_canonical canon = canonical_of(&vrig);
  wv_sensor_adapter* a = nullptr;
  WV_CHECK_MSG(wv_sensor_adapter_open_builtin(&source, &canon, &a) == WV_OK, wv_last_error());
  if (!a) return;
  std::vector<uint8_t> img(64 * 32 * 3);
  for (size_t i = 0; i < img.size(); ++i) img[i] = uint8_t((i * 37) % 256);
  wv_sp_frame f{"front", img.data(), img.size(), 0};
  std::vector<int8_t> tensor(3 * 64 * 32);
  std::vector<uint8_t> mask(64 * 32);
  wv_sp_output out{tensor.data(), tensor.size(), mask.data(), mask.size()};
  WV_CHECK(wv_sensor_adapter_convert(a, &f, 1, &out) == WV_OK);
  const long before = g_allocations.load();
  WV_CHECK(wv_sensor_adapter_convert(a, &f, 1, &out) == WV_OK);
  WV_CHECK_EQ(long(g_allocations.load() - before), 0L);
  int checked = 0;
  for (int y = 0; y < 31; ++y)
    for (int x = 0; x < 63; ++x) {
      WV_CHECK(mask[size_t(y) * 64 + size_t(x)] == 1);
      for (int c = 0; c < 3; ++c) {
        const int want = int(img[(size_t(y) * 64 + size_t(x)) * 3 + size_t(c)]) - 128;
        if (int(tensor[size_t(c) * 64 * 32 + size_t(y) * 64 + size_t(x)]) == want) ++checked;
      }
    }
  WV_CHECK_EQ(checked, 3 * 63 * 31);
  // A missing camera: every pixel unmasked and at the zero point.
  wv_sp_frame missing{"front", nullptr, 0, 0};
  WV_CHECK(wv_sensor_adapter_convert(a, &missing, 1, &out) == WV_OK);
  WV_CHECK(mask[100] == 0 && tensor[100] == -128);
  // Wrong size and unknown camera: input errors naming the camera.
  wv_sp_frame small{"front", img.data(), img.size() - 3, 0};
  WV_CHECK_EQ(int(wv_sensor_adapter_convert(a, &small, 1, &out)), int(WV_ERR_INPUT));
  WV_CHECK(std::strstr(wv_last_error(), "front") != nullptr);
  wv_sp_frame stranger{"rear", img.data(), img.size(), 0};
  WV_CHECK_EQ(int(wv_sensor_adapter_convert(a, &stranger, 1, &out)), int(WV_ERR_INPUT));
  WV_CHECK(std::strstr(wv_last_error(), "rear") != nullptr);
  wv_sensor_adapter_release(a);
}

void test_example_plugin_loads_and_converts_raw12() {
  wv_sp_camera src = pinhole("front", "bayer_rggb12p", 64, 32, 0.0);
  wv_sp_camera virt = pinhole("v_front", "rgb8", 32, 16, 0.0);
  wv_sp_rig source{"src", 1, &src}, vrig{"canon", 1, &virt};
  wv_sp_canonical canon = canonical_of(&vrig);
  wv_sensor_adapter* a = nullptr;
  WV_CHECK_MSG(wv_sensor_adapter_open_plugin(WV_EXAMPLE_PLUGIN, &source, &canon, &a) == WV_OK, wv_last_error());
  if (!a) return;
  WV_CHECK(std::strcmp(wv_sensor_adapter_name(a), "example.bayer12_packed") == 0);
  std::vector<uint8_t> raw(size_t(64) * 3 / 2 * 32, 0xFF);  // every 12-bit sample 4095 -> 255
  wv_sp_frame f{"front", raw.data(), raw.size(), 0};
  std::vector<int8_t> tensor(3 * 32 * 16);
  std::vector<uint8_t> mask(32 * 16);
  wv_sp_output out{tensor.data(), tensor.size(), mask.data(), mask.size()};
  WV_CHECK_MSG(wv_sensor_adapter_convert(a, &f, 1, &out) == WV_OK, wv_last_error());
  WV_CHECK(mask[8 * 32 + 16] == 1);
  WV_CHECK_EQ(int(tensor[8 * 32 + 16]), 127);  // white: 255 - 128
  wv_sensor_adapter_release(a);
}

void test_broken_plugins_are_refused_with_messages() {
  wv_sp_camera src = pinhole("front", "rgb8", 64, 32, 0.0);
  wv_sp_rig source{"src", 1, &src};
  wv_sp_canonical canon = canonical_of(&source);
  wv_sensor_adapter* a = nullptr;
  WV_CHECK_EQ(int(wv_sensor_adapter_open_plugin(WV_BAD_PLUGIN_ABI, &source, &canon, &a)), int(WV_ERR_UNSUPPORTED));
  WV_CHECK(std::strstr(wv_last_error(), "ABI 2.") != nullptr);
  WV_CHECK_EQ(int(wv_sensor_adapter_open_plugin(WV_BAD_PLUGIN_NO_ENTRY, &source, &canon, &a)), int(WV_ERR_UNSUPPORTED));
  WV_CHECK(std::strstr(wv_last_error(), "wv_sensor_plugin_entry") != nullptr);
  WV_CHECK_EQ(int(wv_sensor_adapter_open_plugin(WV_BAD_PLUGIN_FAILING, &source, &canon, &a)), int(WV_ERR_INPUT));
  WV_CHECK(std::strstr(wv_last_error(), "on fire") != nullptr);
  WV_CHECK_EQ(int(wv_sensor_adapter_open_plugin("/nonexistent/plugin.so", &source, &canon, &a)), int(WV_ERR_IO));
  WV_CHECK(a == nullptr);
  // The built-in adapter refuses a format it cannot read, naming the camera and the format.
  wv_sp_camera odd = pinhole("side", "bayer_rggb12p", 64, 32, 0.0);
  wv_sp_rig odd_rig{"src", 1, &odd};
  WV_CHECK_EQ(int(wv_sensor_adapter_open_builtin(&odd_rig, &canon, &a)), int(WV_ERR_UNSUPPORTED));
  WV_CHECK(std::strstr(wv_last_error(), "side") != nullptr && std::strstr(wv_last_error(), "bayer_rggb12p") != nullptr);
}

}  // namespace

int main() {
  test_builtin_maps_an_identical_camera_onto_itself_without_allocating();
  test_example_plugin_loads_and_converts_raw12();
  test_broken_plugins_are_refused_with_messages();
  return wv_test_exit_code();
}
