// Drivable area: every corner of the ego footprint stays right of the left boundary and left of the right
// boundary (polylines ordered along the road) by at least boundary_margin_m. A corner is measured against the
// nearest segment it projects onto; projections before the first vertex (on the first segment) or after the
// last (on the last segment) do not count, so a corner beyond a 2-point polyline's ends is not judged.
#pragma once
#include "safety/verifier_types.hpp"

namespace wv::safety {

// margins[kDrivableArea] = max of required / clearance over samples and corners (inf once a corner is on or past
// a boundary). required is boundary_margin_m; when the ego footprint's clearance now, c, is smaller but positive,
// it is c at the plan's last sample and c / 2 before it (a plan may not end closer than the car is now); when the
// car is already on or past the boundary (c <= 0), c + margin / 2 at the last sample and c - margin / 2 before it
// (a plan must head back in), both measured with clearance and requirement shifted by margin - c.
void drivable_area_margin(const float* pts, int points, const VerifierInput& in, const VehicleProfile& vehicle,
                          const Limits& limits, float* margins);

}  // namespace wv::safety
