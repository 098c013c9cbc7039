// The verifier through its C API: a clean trajectory passes, a bad one fails with the right bit, the fallback
// is built when nothing passes, NaN is a verdict not a crash, and check() allocates nothing.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "alloc_counter.hpp"
#include "check.hpp"
#include "wayvert/wayvert.h"

namespace {

// Straight line at constant speed, 0.1 s spacing.
std::vector<float> straight(int points, float speed) {
  std::vector<float> t(size_t(points) * 5);
  for (int i = 0; i < points; ++i) {
    float* p = &t[size_t(i) * 5];
    p[0] = 0.1f * float(i);
    p[1] = speed * p[0];
    p[2] = 0.f;
    p[3] = 0.f;
    p[4] = speed;
  }
  return t;
}

// One lane (3.5 m) to the right at constant speed, 0.1 s spacing: a 4 s minimum-jerk lateral profile, the heading
// along the path (central differences).
std::vector<float> lane_change_right(int points, float speed) {
  std::vector<float> t = straight(points, speed);
  for (int i = 0; i < points; ++i) {
    const float u = std::min(1.f, 0.1f * float(i) / 4.f);
    t[size_t(i) * 5 + 2] = -3.5f * u * u * u * (10.f - 15.f * u + 6.f * u * u);
  }
  for (int i = 0; i < points; ++i) {
    const int a = i > 0 ? i - 1 : 0, b = i + 1 < points ? i + 1 : points - 1;
    t[size_t(i) * 5 + 3] =
        std::atan2(t[size_t(b) * 5 + 2] - t[size_t(a) * 5 + 2], t[size_t(b) * 5 + 1] - t[size_t(a) * 5 + 1]);
  }
  return t;
}

wv_verifier* make() {
  wv_verifier* v = nullptr;
  WV_CHECK(wv_verifier_create(nullptr, nullptr, 8, 64, 16, 64, &v) == WV_OK);
  return v;
}

void test_straight_passes_and_check_allocates_nothing() {
  wv_verifier* v = make();
  std::vector<float> traj = straight(40, 10.f);
  float score = 1.f;
  wv_verifier_input in{};
  in.trajectories = traj.data();
  in.modes = 1;
  in.points = 40;
  in.scores = &score;
  in.ego = {10.f, 0.f, 0.f, 0.f};
  wv_verdict out{};
  WV_CHECK(wv_verifier_check(v, &in, &out) == WV_OK);
  WV_CHECK_EQ(out.chosen, 0);
  WV_CHECK_EQ(int(out.reasons[0]), 0);
  const long before = g_allocations.load();
  for (int i = 0; i < 10; ++i) WV_CHECK(wv_verifier_check(v, &in, &out) == WV_OK);
  in.ego.speed_mps = 20.f;  // continuity failure -> fallback path, still no allocation
  WV_CHECK(wv_verifier_check(v, &in, &out) == WV_OK);
  WV_CHECK_EQ(long(g_allocations.load() - before), 0L);
  WV_CHECK(out.fallback_used == 1 && out.chosen == -1);
  WV_CHECK(out.reasons[0] & (1u << 1));  // continuity
  wv_verifier_release(v);
}

void test_fallback_brakes_to_a_stop_within_limits() {
  wv_verifier* v = make();
  std::vector<float> traj = straight(64, 15.f);
  traj[7] = NAN;
  float score = 1.f;
  wv_verifier_input in{};
  in.trajectories = traj.data();
  in.modes = 1;
  in.points = 64;
  in.scores = &score;
  in.ego = {15.f, 0.5f, 0.f, 0.f};
  wv_verdict out{};
  WV_CHECK(wv_verifier_check(v, &in, &out) == WV_OK);
  WV_CHECK_EQ(int(out.reasons[0]), 1);  // invalid only
  WV_CHECK(out.fallback_used == 1);
  WV_CHECK_EQ(int(out.fallback_self_reasons), 0);
  WV_CHECK(out.trajectory[63 * 5 + 4] == 0.f);  // stopped within 6.3 s from 15 m/s
  for (int i = 1; i < 64; ++i) WV_CHECK(out.trajectory[i * 5 + 4] <= out.trajectory[(i - 1) * 5 + 4]);
  wv_verifier_release(v);
}

void test_capacity_and_null_errors() {
  wv_verifier* v = make();
  std::vector<float> traj = straight(65, 10.f);
  float score = 1.f;
  wv_verifier_input in{};
  in.trajectories = traj.data();
  in.modes = 1;
  in.points = 65;
  in.scores = &score;
  wv_verdict out{};
  WV_CHECK_EQ(int(wv_verifier_check(v, &in, &out)), int(WV_ERR_INPUT));
  WV_CHECK(std::strstr(wv_last_error(), "points") != nullptr);
  in.points = 40;
  in.scores = nullptr;
  WV_CHECK_EQ(int(wv_verifier_check(v, &in, &out)), int(WV_ERR_INVALID_ARGUMENT));
  wv_verifier_limits lim;
  wv_verifier_limits_default(&lim);
  lim.fallback_decel_mps2 = lim.max_decel_mps2 + 1.f;
  wv_verifier* bad = nullptr;
  WV_CHECK_EQ(int(wv_verifier_create(nullptr, &lim, 4, 40, 4, 4, &bad)), int(WV_ERR_INVALID_ARGUMENT));
  WV_CHECK(bad == nullptr);
  WV_CHECK(std::strcmp(wv_verifier_check_name(0), "invalid") == 0);
  WV_CHECK(wv_verifier_check_name(WV_CHECK_COUNT) == nullptr);
  wv_verifier_release(v);
}

// One check's input: `modes` trajectories of `points` points at 10 m/s now, objects, and both road edges.
wv_verifier_input road_input(const std::vector<float>& traj, int modes, int points, const float* scores,
                             const float* objects, int object_count, const std::vector<float>& left,
                             const std::vector<float>& right) {
  wv_verifier_input in{};
  in.trajectories = traj.data();
  in.modes = modes;
  in.points = points;
  in.scores = scores;
  in.ego = {10.f, 0.f, 0.f, 0.f};
  in.objects = objects;
  in.object_count = object_count;
  in.left_boundary = left.data();
  in.left_count = int(left.size() / 2);
  in.right_boundary = right.data();
  in.right_count = int(right.size() / 2);
  return in;
}

// Objects along a road given by its edges, a follower closing in from behind, a car ahead in the next lane and
// a stopped car beyond the polyline's end: judged without allocating, and the plan in its lane passes.
void test_objects_along_the_road_allocate_nothing_and_pass_a_plan_in_its_lane() {
  wv_verifier* v = make();
  std::vector<float> traj = straight(40, 10.f);
  std::vector<float> left, right;
  for (int i = 0; i < 60; ++i) {
    left.insert(left.end(), {-10.f + 1.f * float(i), 1.75f});
    right.insert(right.end(), {-10.f + 1.f * float(i), -5.25f});
  }
  const float objects[3][7] = {{-8.f, 0.f, 0.f, 14.f, 4.5f, 1.8f, 0.f},     // behind, faster: the follower's to resolve
                               {8.f, -3.5f, 0.02f, 12.f, 4.5f, 1.8f, 0.f},  // next lane, along the road
                               {80.f, -3.5f, 0.f, 0.f, 4.5f, 1.8f, 0.f}};   // past the polyline's end
  float score = 1.f;
  const wv_verifier_input in = road_input(traj, 1, 40, &score, &objects[0][0], 3, left, right);
  wv_verdict out{};
  WV_CHECK(wv_verifier_check(v, &in, &out) == WV_OK);
  const long before = g_allocations.load();
  for (int i = 0; i < 5; ++i) WV_CHECK(wv_verifier_check(v, &in, &out) == WV_OK);
  WV_CHECK_EQ(long(g_allocations.load() - before), 0L);
  WV_CHECK_EQ(int(out.reasons[0]), 0);
  WV_CHECK_EQ(out.chosen, 0);
  wv_verifier_release(v);
}

}  // namespace

// Frame deadlines through the C API: a plan advanced in time, its expiry, the fallback, and the argument errors.
void test_frame_deadline_helpers() {
  float traj[7 * 5];
  for (int i = 0; i < 7; ++i) {
    const float t = 0.5f * float(i);
    const float row[5] = {t, 10.f * t, 0.f, 0.f, 10.f};
    for (int k = 0; k < 5; ++k) traj[i * 5 + k] = row[k];
  }
  float out[8 * 5];
  int32_t n = -1;
  WV_CHECK(wv_advance_trajectory(traj, 7, 0.25f, 2.5f, 0.f, 0.f, 1.f, out, &n) == WV_OK);
  WV_CHECK_EQ(n, 7);  // the point at 0.25 s interpolated, then 0.5 .. 3.0 s
  WV_CHECK(std::fabs(out[0]) < 1e-6f && std::fabs(out[1]) < 1e-5f && std::fabs(out[5] - 0.25f) < 1e-6f);
  WV_CHECK(wv_advance_trajectory(traj, 7, 2.5f, 0.f, 0.f, 0.f, 1.f, out, &n) == WV_OK);
  WV_CHECK_EQ(n, 0);  // 0.5 s left: expired
  WV_CHECK(wv_advance_trajectory(nullptr, 7, 0.f, 0.f, 0.f, 0.f, 1.f, out, &n) == WV_ERR_INVALID_ARGUMENT);
  WV_CHECK(wv_advance_trajectory(traj, 1, 0.f, 0.f, 0.f, 0.f, 1.f, out, &n) == WV_ERR_INVALID_ARGUMENT);
  WV_CHECK(wv_advance_trajectory(traj, 7, -1.f, 0.f, 0.f, 0.f, 1.f, out, &n) == WV_ERR_INVALID_ARGUMENT);
  wv_verifier* v = nullptr;
  WV_CHECK(wv_verifier_create(nullptr, nullptr, 4, 32, 4, 4, &v) == WV_OK);
  wv_ego_state ego{12.f, 0.f, 0.f, 0.f};
  float fb[30 * 5];
  WV_CHECK(wv_verifier_fallback(v, &ego, 30, fb) == WV_OK);
  WV_CHECK(std::fabs(fb[4] - 12.f) < 1e-4f && fb[29 * 5 + 4] < 12.f);  // starts at the ego speed, brakes
  WV_CHECK(wv_verifier_fallback(v, &ego, 1, fb) == WV_ERR_INVALID_ARGUMENT);
  WV_CHECK(wv_verifier_fallback(v, nullptr, 30, fb) == WV_ERR_INVALID_ARGUMENT);
  wv_verifier_release(v);
}

// The same road: a car 12 m behind in the lane to the right, 5 m/s faster. Keeping the lane passes; moving into
// its lane in front of it (a 4 s minimum-jerk lane change) fails following_distance: the lane-change rule
// (docs/verifier.md 6.8), not the rear car's responsibility as it would be in the ego's own lane.
void test_a_lane_change_in_front_of_a_faster_car_from_behind_fails() {
  wv_verifier* v = make();
  const int points = 50;
  std::vector<float> modes = straight(points, 10.f);
  const std::vector<float> change = lane_change_right(points, 10.f);
  modes.insert(modes.end(), change.begin(), change.end());
  std::vector<float> left, right;
  for (int i = 0; i < 60; ++i) {  // the verifier's capacity: 64 points per boundary
    left.insert(left.end(), {-40.f + 4.f * float(i), 1.75f});
    right.insert(right.end(), {-40.f + 4.f * float(i), -5.25f});
  }
  const float behind_right[7] = {-12.f - 3.79f, -3.5f, 0.f, 15.f, 4.5f, 1.8f, 0.f};
  const float scores[2] = {0.5f, 1.f};
  const wv_verifier_input in = road_input(modes, 2, points, scores, behind_right, 1, left, right);
  wv_verdict out{};
  WV_CHECK(wv_verifier_check(v, &in, &out) == WV_OK);
  WV_CHECK_EQ(int(out.reasons[0]), 0);
  int following = -1;
  for (int c = 0; c < WV_CHECK_COUNT; ++c)
    if (std::strcmp(wv_verifier_check_name(c), "following_distance") == 0) following = c;
  WV_CHECK(following >= 0);
  WV_CHECK((out.reasons[1] & (1u << following)) != 0);
  WV_CHECK_EQ(out.chosen, 0);
  wv_verifier_release(v);
}

// A car 45 m behind in the lane to the right, 3 m/s faster, and road edges known from 20 m behind (what a
// perception stack reports): the car lies beyond the known road, so it is predicted along its heading, and the
// same 4 s lane change in front of it leaves about 28 m, more than the lane-change rule's 12.7 m. Clamping it onto
// the edges' second vertex (as the verifier did) placed it 28 m closer and failed the plan.
void test_a_car_behind_the_known_road_is_not_moved_onto_it() {
  wv_verifier* v = make();
  const int points = 41;
  const std::vector<float> change = lane_change_right(points, 10.f);
  std::vector<float> left, right;
  for (int i = 0; i < 60; ++i) {
    left.insert(left.end(), {-20.f + 3.f * float(i), 1.75f});
    right.insert(right.end(), {-20.f + 3.f * float(i), -5.25f});
  }
  const float far_behind[7] = {-45.f, -3.5f, 0.f, 13.f, 4.5f, 1.8f, 0.f};
  const float score = 1.f;
  const wv_verifier_input in = road_input(change, 1, points, &score, far_behind, 1, left, right);
  wv_verdict out{};
  WV_CHECK(wv_verifier_check(v, &in, &out) == WV_OK);
  WV_CHECK_EQ(int(out.reasons[0]), 0);
  WV_CHECK_EQ(out.chosen, 0);
  wv_verifier_release(v);
}

int main() {
  test_a_car_behind_the_known_road_is_not_moved_onto_it();
  test_frame_deadline_helpers();
  test_objects_along_the_road_allocate_nothing_and_pass_a_plan_in_its_lane();
  test_a_lane_change_in_front_of_a_faster_car_from_behind_fails();
  test_straight_passes_and_check_allocates_nothing();
  test_fallback_brakes_to_a_stop_within_limits();
  test_capacity_and_null_errors();
  return wv_test_exit_code();
}
