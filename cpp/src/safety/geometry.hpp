// Planar geometry for the verifier: oriented boxes (footprints) and their overlap test.
#pragma once
#include <cmath>

#include "safety/verifier_types.hpp"

namespace wv::safety {

struct Box {
  float cx, cy, heading, half_length, half_width;
};

inline float wrap_angle(float a) { return std::remainder(a, 6.28318530717958647692f); }

// The ego footprint when its reference point (rear-axle centre) is at (x, y, heading).
inline Box ego_footprint(const VehicleProfile& v, float x, float y, float heading) {
  const float c = 0.5f * v.length_m - v.rear_axle_to_rear_m;  // reference point to box centre, along heading
  return {x + c * std::cos(heading), y + c * std::sin(heading), heading, 0.5f * v.length_m, 0.5f * v.width_m};
}

// The four corners of a box, counter-clockwise from front-left.
inline void corners(const Box& b, float xs[4], float ys[4]) {
  const float c = std::cos(b.heading), s = std::sin(b.heading);
  const float lx[4] = {b.half_length, -b.half_length, -b.half_length, b.half_length};
  const float ly[4] = {b.half_width, b.half_width, -b.half_width, -b.half_width};
  for (int i = 0; i < 4; ++i) {
    xs[i] = b.cx + c * lx[i] - s * ly[i];
    ys[i] = b.cy + s * lx[i] + c * ly[i];
  }
}

// Separating-axis test for two oriented rectangles (touching counts as overlap).
inline bool overlap(const Box& a, const Box& b) {
  const float dx = b.cx - a.cx, dy = b.cy - a.cy;
  const float axes[4][2] = {{std::cos(a.heading), std::sin(a.heading)},
                            {-std::sin(a.heading), std::cos(a.heading)},
                            {std::cos(b.heading), std::sin(b.heading)},
                            {-std::sin(b.heading), std::cos(b.heading)}};
  for (const auto& ax : axes) {
    const float dist = std::fabs(dx * ax[0] + dy * ax[1]);
    auto radius = [&](const Box& r) {
      const float c = std::cos(r.heading), s = std::sin(r.heading);
      return r.half_length * std::fabs(c * ax[0] + s * ax[1]) + r.half_width * std::fabs(-s * ax[0] + c * ax[1]);
    };
    if (dist > radius(a) + radius(b)) return false;
  }
  return true;
}

}  // namespace wv::safety
