// Geometry of the sensor adapter, computed once at open(): for every pixel of every canonical virtual camera,
// which source camera sees that direction and where (a RemapEntry), and the per-channel LUT that turns an
// 8-bit RGB value into the engine's int8 input. Virtual and source cameras are taken to share the vehicle's
// position: only rotations and lens models enter (exact for distant scene points).
#pragma once
#include <cstdint>
#include <vector>

#include "core/status.hpp"
#include "sensors/camera_model.hpp"
#include "sensors/fused_sampler.hpp"
#include "wayvert/sensor_plugin.h"

namespace wv::sensors {

struct CameraGeometry {
  CameraModel model;
  double R_vehicle_from_optical[9];  // row-major
  int width = 0, height = 0;
};

// Lens model and rotation of a rig camera; errors name the camera.
Result<CameraGeometry> camera_geometry(const wv_sp_camera& camera);

// R = Rz(yaw) Ry(pitch) Rx(roll) (body) times the fixed body-from-optical axes swap.
void rotation_vehicle_from_optical(const double rpy[3], double R[9]);

// Fill `out` (virt.width * virt.height entries, row-major) for one virtual camera. Among the sources that see a
// pixel's direction with both bilinear neighbours inside the image, the one seeing it closest to its optical
// axis wins; camera = -1 where none does.
void build_remap(const CameraGeometry& virt, const std::vector<CameraGeometry>& sources, RemapEntry* out);

// lut[c][v] = clamp(round_half_away(((v / 255) - mean[c]) / std[c] / scale) + zero_point), in double precision.
Status build_input_lut(const wv_sp_canonical& canonical, int8_t lut[3][256]);

}  // namespace wv::sensors
