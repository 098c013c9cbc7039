#include "sensors/remap_table.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace wv::sensors {

void rotation_vehicle_from_optical(const double rpy[3], double R[9]) {
  const double cr = std::cos(rpy[0]), sr = std::sin(rpy[0]), cp = std::cos(rpy[1]), sp = std::sin(rpy[1]),
               cy = std::cos(rpy[2]), sy = std::sin(rpy[2]);
  // Body rotation Rz(yaw) Ry(pitch) Rx(roll).
  const double B[9] = {cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr,
                       sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr,
                       -sp,     cp * sr,                cp * cr};
  // Body from optical: optical z -> body x, optical x -> body -y, optical y -> body -z.
  const double O[9] = {0, 0, 1, -1, 0, 0, 0, -1, 0};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      R[i * 3 + j] = B[i * 3 + 0] * O[0 * 3 + j] + B[i * 3 + 1] * O[1 * 3 + j] + B[i * 3 + 2] * O[2 * 3 + j];
}

Result<CameraGeometry> camera_geometry(const wv_sp_camera& cam) {
  const std::string who = std::string("camera '") + (cam.name ? cam.name : "?") + "'";
  if (cam.width < 2 || cam.height < 2 || cam.width > 65535 || cam.height > 65535)
    return Status(Code::invalid_argument, who + ": width and height must be in 2..65535");
  if (cam.model < WV_SP_MODEL_PINHOLE || cam.model > WV_SP_MODEL_FTHETA)
    return Status(Code::invalid_argument, who + ": unknown camera model " + std::to_string(cam.model));
  CameraModelParams p{};
  p.type = static_cast<ModelType>(cam.model);
  p.fx = cam.fx;
  p.fy = cam.fy;
  p.cx = cam.cx;
  p.cy = cam.cy;
  for (int i = 0; i < 5; ++i) p.coeffs[i] = cam.coeffs[i];
  p.fov_deg = cam.fov_deg;
  auto model = CameraModel::create(p);
  if (!model.ok()) return Status(model.status().code(), who + ": " + model.status().message());
  CameraGeometry g{model.take(), {}, cam.width, cam.height};
  rotation_vehicle_from_optical(cam.rotation_rpy_rad, g.R_vehicle_from_optical);
  return g;
}

void build_remap(const CameraGeometry& virt, const std::vector<CameraGeometry>& sources, RemapEntry* out) {
  const double* Rv = virt.R_vehicle_from_optical;
  for (int i = 0; i < virt.height; ++i)
    for (int j = 0; j < virt.width; ++j) {
      RemapEntry e{-1, 0, 0, 0, 0};
      double ray[3];
      if (virt.model.unproject(double(j), double(i), ray)) {
        const double vr[3] = {Rv[0] * ray[0] + Rv[1] * ray[1] + Rv[2] * ray[2],
                              Rv[3] * ray[0] + Rv[4] * ray[1] + Rv[5] * ray[2],
                              Rv[6] * ray[0] + Rv[7] * ray[1] + Rv[8] * ray[2]};
        double best_cos = -2.0;
        for (size_t s = 0; s < sources.size(); ++s) {
          const double* R = sources[s].R_vehicle_from_optical;  // R^T maps vehicle -> source optical
          const double sr[3] = {R[0] * vr[0] + R[3] * vr[1] + R[6] * vr[2], R[1] * vr[0] + R[4] * vr[1] + R[7] * vr[2],
                                R[2] * vr[0] + R[5] * vr[1] + R[8] * vr[2]};
          const double norm = std::sqrt(sr[0] * sr[0] + sr[1] * sr[1] + sr[2] * sr[2]);
          const double cos_axis = sr[2] / norm;
          if (cos_axis <= best_cos) continue;
          double u, v;
          // Rounding can put an exact edge pixel a hair outside (u = -1e-13): snap anything within 1e-6 px.
          if (!sources[s].model.project(sr, &u, &v) || !(u >= -1e-6) || !(v >= -1e-6)) continue;
          u = std::max(u, 0.0);
          v = std::max(v, 0.0);
          double x0 = std::floor(u), y0 = std::floor(v);
          int fx = int(std::lround((u - x0) * 256.0)), fy = int(std::lround((v - y0) * 256.0));
          if (fx == 256) { x0 += 1; fx = 0; }
          if (fy == 256) { y0 += 1; fy = 0; }
          if (x0 + 1 > sources[s].width - 1 || y0 + 1 > sources[s].height - 1) continue;  // both neighbours inside
          best_cos = cos_axis;
          e = RemapEntry{int16_t(s), uint16_t(x0), uint16_t(y0), uint8_t(fx), uint8_t(fy)};
        }
      }
      out[size_t(i) * size_t(virt.width) + size_t(j)] = e;
    }
}

Status build_input_lut(const wv_sp_canonical& c, int8_t lut[3][256]) {
  if (!(c.scale > 0.f) || !std::isfinite(c.scale) || c.zero_point < -128 || c.zero_point > 127)
    return Status(Code::invalid_argument, "canonical input needs a finite scale > 0 and a zero point in -128..127");
  for (int ch = 0; ch < 3; ++ch) {
    if (!(c.std[ch] > 0.f) || !std::isfinite(c.std[ch]) || !std::isfinite(c.mean[ch]))
      return Status(Code::invalid_argument, "normalization std must be > 0 and mean finite (channel " + std::to_string(ch) + ")");
    for (int v = 0; v < 256; ++v) {
      const double x = ((double(v) / 255.0) - double(c.mean[ch])) / double(c.std[ch]) / double(c.scale);
      const double r = std::round(x) + double(c.zero_point);  // std::round: half away from zero
      lut[ch][v] = int8_t(r < -128.0 ? -128.0 : (r > 127.0 ? 127.0 : r));
    }
  }
  return Status::Ok();
}

}  // namespace wv::sensors
