// Drivable area: every corner of the ego footprint stays right of the left boundary and left of the right
// boundary (polylines ordered along the road) by at least boundary_margin_m. Corners whose projection falls
// beyond either end of a polyline are not judged against that polyline.
#pragma once
#include "safety/verifier_types.hpp"

namespace wv::safety {

// margins[kDrivableArea] = boundary_margin / smallest clearance (inf once a corner is on or past a boundary).
void drivable_area_margin(const float* pts, int points, const VerifierInput& in, const VehicleProfile& vehicle,
                          const Limits& limits, float* margins);

}  // namespace wv::safety
