// The built-in sensor adapter: pinhole / Kannala-Brandt / f-theta cameras delivering rgb8, bgr8, nv12, yuyv or
// bayer_rggb8, mapped onto the canonical rig in one fused pass. It is exposed through the plugin ABI itself,
// so the runtime treats it exactly like an out-of-tree plugin.
#pragma once
#include "wayvert/sensor_plugin.h"

namespace wv::sensors {

const wv_sensor_plugin* builtin_sensor_plugin();

}  // namespace wv::sensors
