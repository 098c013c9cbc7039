// Camera models (cpp/src/sensors/camera_model.hpp): round trips over every pixel of realistic cameras, rays over
// the whole field of view, the valid domain (field of view, where the distortion folds back) against closed
// forms, invalid input, refused parameters, no allocation, determinism.
#include "sensors/camera_model.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "check.hpp"

using wv::sensors::CameraModel;
using wv::sensors::CameraModelParams;
using wv::sensors::ModelType;

namespace {

constexpr double kPi = 3.14159265358979323846;

CameraModelParams make(ModelType t, double fx, double fy, double cx, double cy, std::vector<double> c, double fov) {
  CameraModelParams p{};
  p.type = t;
  p.fx = fx;
  p.fy = fy;
  p.cx = cx;
  p.cy = cy;
  for (size_t i = 0; i < 5; ++i) p.coeffs[i] = i < c.size() ? c[i] : 0.0;
  p.fov_deg = fov;
  return p;
}

// The three cameras of the brief.
CameraModelParams pinhole_params() {
  return make(ModelType::pinhole, 1260.0, 1258.5, 799.5, 449.5, {-0.05, 0.01, 0.0005, -0.0003, -0.001}, 0.0);
}
CameraModelParams fisheye_params() {
  return make(ModelType::kannala_brandt, 350.0, 349.6, 639.5, 359.5, {0.05, -0.01, 0.002, -0.0003}, 190.0);
}
CameraModelParams ftheta_params() {
  return make(ModelType::ftheta, 0.0, 0.0, 959.5, 603.5, {1000.0, 15.0, -25.0, 6.0, -0.8}, 120.0);
}

CameraModel must_create(const CameraModelParams& p) {
  auto r = CameraModel::create(p);
  if (!r.ok()) {
    std::fprintf(stderr, "create failed: %s\n", r.status().message().c_str());
    std::abort();
  }
  return r.take();
}

// Independent closed forms of the radial polynomials (test side).
double kb_theta_d(const double* k, double t) {
  const double t2 = t * t;
  return t * (1 + k[0] * t2 + k[1] * t2 * t2 + k[2] * t2 * t2 * t2 + k[3] * t2 * t2 * t2 * t2);
}
double ftheta_r(const double* a, double t) {
  return a[0] * t + a[1] * t * t + a[2] * t * t * t + a[3] * t * t * t * t + a[4] * t * t * t * t * t;
}

double angle_between(const double a[3], const double b[3]) {
  const double cx = a[1] * b[2] - a[2] * b[1], cy = a[2] * b[0] - a[0] * b[2], cz = a[0] * b[1] - a[1] * b[0];
  return std::atan2(std::sqrt(cx * cx + cy * cy + cz * cz), a[0] * b[0] + a[1] * b[1] + a[2] * b[2]);
}

// Expected validity of a pixel: +1 valid, -1 invalid, 0 too close to the boundary to say.
using Expect = int (*)(const CameraModel&, double u, double v);

int expect_pinhole_all(const CameraModel&, double, double) { return 1; }

int expect_kb(const CameraModel& m, double u, double v) {
  const auto& p = m.params();
  const double td = std::hypot((u - p.cx) / p.fx, (v - p.cy) / p.fy);
  const double edge = kb_theta_d(p.coeffs, m.domain_limit());
  if (td < edge * (1 - 1e-9)) return 1;
  if (td > edge * (1 + 1e-9)) return -1;
  return 0;
}

int expect_ftheta(const CameraModel& m, double u, double v) {
  const auto& p = m.params();
  const double r = std::hypot(u - p.cx, v - p.cy);
  const double edge = ftheta_r(p.coeffs, m.domain_limit());
  if (r < edge * (1 - 1e-9)) return 1;
  if (r > edge * (1 + 1e-9)) return -1;
  return 0;
}

struct PixelStats {
  long valid = 0, invalid = 0;
  double max_err_px = 0.0;
};

// unproject then project: every pixel centre of a W x H image, plus sub-pixel positions on every 7th pixel.
PixelStats pixel_round_trips(const char* name, const CameraModel& m, int W, int H, Expect expect) {
  PixelStats st;
  auto one = [&](double u, double v) {
    double ray[3];
    const bool ok = m.unproject(u, v, ray);
    const int e = expect(m, u, v);
    if (e != 0)
      WV_CHECK_MSG(ok == (e > 0), std::string(name) + ": pixel (" + std::to_string(u) + ", " + std::to_string(v) +
                                      ") validity " + (ok ? "true" : "false") + " against the closed form");
    if (!ok) {
      ++st.invalid;
      WV_CHECK(std::isnan(ray[0]) && std::isnan(ray[1]) && std::isnan(ray[2]));
      return;
    }
    ++st.valid;
    const double n = std::sqrt(ray[0] * ray[0] + ray[1] * ray[1] + ray[2] * ray[2]);
    WV_CHECK_MSG(std::fabs(n - 1.0) <= 1e-12, std::string(name) + ": ray not unit");
    double pu, pv;
    const bool pok = m.project(ray, &pu, &pv);
    WV_CHECK_MSG(pok, std::string(name) + ": unprojected ray of (" + std::to_string(u) + ", " + std::to_string(v) +
                          ") does not project");
    if (!pok) return;
    const double err = std::fmax(std::fabs(pu - u), std::fabs(pv - v));
    if (err > st.max_err_px) st.max_err_px = err;
    WV_CHECK_MSG(err <= 1e-6, std::string(name) + ": round trip error " + std::to_string(err) + " px at (" +
                                  std::to_string(u) + ", " + std::to_string(v) + ")");
  };
  for (int i = 0; i < H; ++i)
    for (int j = 0; j < W; ++j) one(double(j), double(i));
  for (int i = 0; i < H; i += 7)
    for (int j = 0; j < W; j += 7) one(j + 0.37, i + 0.61);
  // Far outside the image: never valid for these cameras.
  double ray[3];
  WV_CHECK(!m.unproject(-1e6, 0.5 * H, ray));
  WV_CHECK(!m.unproject(0.5 * W, 1e7, ray));
  return st;
}

// project then unproject: rays on a (theta, phi) grid up to the edge of the valid domain, with non-unit lengths.
// Within 1e-9 rad everywhere but on the rim itself: where the domain ends at a fold (the image radius stops
// growing) pixel -> ray is ill-conditioned (error ~ sqrt(rounding)); there 1e-7 rad.
double ray_round_trips(const char* name, const CameraModel& m) {
  const double tmax = m.max_angle_rad();
  const int NT = 400, NP = 360;
  double max_err = 0.0;
  for (int a = 0; a <= NT + 1; ++a) {
    const double t = a == NT + 1 ? tmax * (1 - 1e-6) : tmax * a / NT;
    const double tol = a == NT ? 1e-7 : 1e-9;
    for (int b = 0; b < NP; ++b) {
      const double phi = 2 * kPi * b / NP + 0.001;
      const double len = 0.25 + 3.0 * ((a * 7 + b * 13) % 11) / 10.0;
      const double r[3] = {len * std::sin(t) * std::cos(phi), len * std::sin(t) * std::sin(phi), len * std::cos(t)};
      double u, v, back[3];
      if (!m.project(r, &u, &v)) {
        WV_CHECK_MSG(false, std::string(name) + ": ray at theta " + std::to_string(t) + " does not project");
        continue;
      }
      if (!m.unproject(u, v, back)) {
        WV_CHECK_MSG(false, std::string(name) + ": projection of theta " + std::to_string(t) + " does not unproject");
        continue;
      }
      const double err = angle_between(r, back);
      if (err > max_err) max_err = err;
      WV_CHECK_MSG(err <= tol, std::string(name) + ": ray round trip " + std::to_string(err) + " rad at theta " +
                                    std::to_string(t));
    }
  }
  return max_err;
}

// Rays just past the valid angle do not project (u, v NaN).
void rays_beyond(const char* name, const CameraModel& m) {
  const double tmax = m.max_angle_rad();
  for (double extra : {1e-8, 1e-4, 0.05}) {
    const double t = tmax + extra;
    if (t >= kPi) continue;
    for (int b = 0; b < 16; ++b) {
      const double phi = 2 * kPi * b / 16;
      const double r[3] = {std::sin(t) * std::cos(phi), std::sin(t) * std::sin(phi), std::cos(t)};
      double u = 0, v = 0;
      WV_CHECK_MSG(!m.project(r, &u, &v), std::string(name) + ": ray beyond the domain projects");
      WV_CHECK(std::isnan(u) && std::isnan(v));
    }
  }
  const double zero[3] = {0, 0, 0}, nan_ray[3] = {NAN, 0, 1}, inf_ray[3] = {0, INFINITY, 1};
  double u, v, ray[3];
  WV_CHECK(!m.project(zero, &u, &v));
  WV_CHECK(!m.project(nan_ray, &u, &v));
  WV_CHECK(!m.project(inf_ray, &u, &v));
  WV_CHECK(!m.unproject(NAN, 10.0, ray));
  WV_CHECK(!m.unproject(10.0, INFINITY, ray));
  const double back[3] = {0, 0, -1};  // straight behind: outside every model here
  WV_CHECK(!m.project(back, &u, &v));
  // The optical axis maps to the principal point and back.
  const double axis[3] = {0, 0, 2.5};
  WV_CHECK(m.project(axis, &u, &v));
  WV_CHECK(u == m.params().cx && v == m.params().cy);
  WV_CHECK(m.unproject(m.params().cx, m.params().cy, ray));
  WV_CHECK(ray[0] == 0.0 && ray[1] == 0.0 && ray[2] == 1.0);
}

void test_realistic_cameras() {
  {
    const CameraModel m = must_create(pinhole_params());
    // The image corner's normalized radius is ~0.73; the distortion folds back far beyond it.
    WV_CHECK(m.domain_limit() > 2.0);
    const PixelStats st = pixel_round_trips("pinhole", m, 1600, 900, expect_pinhole_all);
    WV_CHECK_EQ(st.invalid, 0L);
    const double ray_err = ray_round_trips("pinhole", m);
    rays_beyond("pinhole", m);
    const double behind[3] = {0.1, 0.1, 0.0}, behind2[3] = {0.1, 0.1, -1.0};
    double u, v;
    WV_CHECK(!m.project(behind, &u, &v));
    WV_CHECK(!m.project(behind2, &u, &v));
    std::printf("pinhole 1600x900: %ld valid pixels, max pixel round trip %.3g px, max ray round trip %.3g rad\n",
                st.valid, st.max_err_px, ray_err);
  }
  {
    const CameraModel m = must_create(fisheye_params());
    WV_CHECK(std::fabs(m.max_angle_rad() - 95.0 * kPi / 180.0) < 1e-15);
    const PixelStats st = pixel_round_trips("kannala_brandt", m, 1280, 720, expect_kb);
    WV_CHECK(st.invalid > 0 && st.valid > 800000);  // the 190 deg circle (radius ~630 px) cuts the corners
    const double ray_err = ray_round_trips("kannala_brandt", m);
    rays_beyond("kannala_brandt", m);
    // Beyond 90 deg (Z < 0) is inside a 190 deg fisheye.
    const double t = 93.0 * kPi / 180.0;
    const double r[3] = {std::sin(t), 0.0, std::cos(t)};
    double u, v, back[3];
    WV_CHECK(m.project(r, &u, &v));
    WV_CHECK(std::fabs(u - (639.5 + 350.0 * kb_theta_d(m.params().coeffs, t))) < 1e-9 && std::fabs(v - 359.5) < 1e-12);
    WV_CHECK(m.unproject(u, v, back) && back[2] < 0.0 && angle_between(r, back) < 1e-12);
    std::printf("kannala_brandt 1280x720: %ld valid / %ld invalid pixels, max pixel round trip %.3g px, "
                "max ray round trip %.3g rad\n", st.valid, st.invalid, st.max_err_px, ray_err);
  }
  {
    const CameraModel m = must_create(ftheta_params());
    WV_CHECK(std::fabs(m.max_angle_rad() - 60.0 * kPi / 180.0) < 1e-15);
    const PixelStats st = pixel_round_trips("ftheta", m, 1920, 1208, expect_ftheta);
    WV_CHECK(st.invalid > 0 && st.valid > 2000000);
    const double ray_err = ray_round_trips("ftheta", m);
    rays_beyond("ftheta", m);
    // f-theta ignores fx and fy.
    CameraModelParams p2 = ftheta_params();
    p2.fx = 123.0;
    p2.fy = -5.0;
    const CameraModel m2 = must_create(p2);
    const double r[3] = {0.3, -0.2, 0.9};
    double u1, v1, u2, v2;
    WV_CHECK(m.project(r, &u1, &v1) && m2.project(r, &u2, &v2) && u1 == u2 && v1 == v2);
    // Closed form: pixel radius a1 t + ... along the ray's azimuth.
    const double rho = std::hypot(0.3, -0.2), t = std::atan2(rho, 0.9), pr = ftheta_r(m.params().coeffs, t);
    WV_CHECK(std::fabs(u1 - (959.5 + pr * 0.3 / rho)) < 1e-9 && std::fabs(v1 - (603.5 - pr * 0.2 / rho)) < 1e-9);
    std::printf("ftheta 1920x1208: %ld valid / %ld invalid pixels, max pixel round trip %.3g px, "
                "max ray round trip %.3g rad\n", st.valid, st.invalid, st.max_err_px, ray_err);
  }
}

// No distortion: the closed form u = fx X / Z + cx, exactly.
void test_pinhole_identity() {
  const CameraModel m = must_create(make(ModelType::pinhole, 1000.0, 990.0, 640.0, 360.0, {}, 0.0));
  WV_CHECK(std::fabs(m.domain_limit() - std::tan(89.0 * kPi / 180.0)) < 1e-12);  // only the cap
  for (int a = -20; a <= 20; ++a)
    for (int b = -20; b <= 20; ++b) {
      const double r[3] = {0.037 * a, 0.029 * b, 1.3};
      double u, v;
      WV_CHECK(m.project(r, &u, &v));
      WV_CHECK_EQ(u, 1000.0 * (r[0] / r[2]) + 640.0);
      WV_CHECK_EQ(v, 990.0 * (r[1] / r[2]) + 360.0);
      double ray[3];
      const double pu = 640.0 + 31.0 * a, pv = 360.0 + 17.0 * b;
      WV_CHECK(m.unproject(pu, pv, ray));
      const double x = (pu - 640.0) / 1000.0, y = (pv - 360.0) / 990.0, n = std::sqrt(x * x + y * y + 1.0);
      WV_CHECK(std::fabs(ray[0] - x / n) < 1e-15 && std::fabs(ray[1] - y / n) < 1e-15 &&
               std::fabs(ray[2] - 1 / n) < 1e-15);
    }
}

// The valid domain ends where the distortion stops being monotonic: closed-form limits, and pixels beyond the
// fold are invalid.
void test_fold_limits() {
  {  // d(r(1 - 0.2 r^2))/dr = 1 - 0.6 r^2
    const CameraModel m = must_create(make(ModelType::pinhole, 500, 500, 320, 240, {-0.2}, 0));
    const double rmax = std::sqrt(1.0 / 0.6);
    WV_CHECK(std::fabs(m.domain_limit() - rmax) < 1e-12);
    const double rd_max = rmax * (1 - 0.2 * rmax * rmax);  // 0.8607
    double ray[3], u, v;
    WV_CHECK(m.unproject(320 + 500 * rd_max * 0.999, 240, ray));
    WV_CHECK(m.project(ray, &u, &v) && std::fabs(u - (320 + 500 * rd_max * 0.999)) < 1e-6);
    WV_CHECK(!m.unproject(320 + 500 * rd_max * 1.001, 240, ray));
    WV_CHECK(!m.unproject(320, 240 + 500 * rd_max * 1.001, ray));
    const double in[3] = {rmax * 0.999, 0, 1}, out[3] = {rmax * 1.001, 0, 1};
    WV_CHECK(m.project(in, &u, &v));
    WV_CHECK(!m.project(out, &u, &v));
    ray_round_trips("pinhole fold", m);
  }
  {  // 1 - 0.9 s + 0.1 s^2 (k1 = -0.3, k2 = 0.02): first root s = (0.9 - sqrt(0.41)) / 0.2
    const CameraModel m = must_create(make(ModelType::pinhole, 500, 500, 320, 240, {-0.3, 0.02}, 0));
    WV_CHECK(std::fabs(m.domain_limit() - std::sqrt((0.9 - std::sqrt(0.41)) / 0.2)) < 1e-12);
  }
  {  // tangential only: radius capped, pixels still round trip
    const CameraModel m = must_create(make(ModelType::pinhole, 800, 800, 400, 300, {0, 0, 0.002, -0.001}, 0));
    WV_CHECK(pixel_round_trips("pinhole tangential", m, 800, 600, expect_pinhole_all).invalid == 0);
  }
  {  // theta_d' = 1 - 0.3 theta^2 vanishes at 1.8257 rad < 220 deg / 2
    const CameraModel m = must_create(make(ModelType::kannala_brandt, 300, 300, 640, 480, {-0.1}, 220));
    WV_CHECK(std::fabs(m.domain_limit() - std::sqrt(1.0 / 0.3)) < 1e-12);
    ray_round_trips("kannala_brandt fold", m);
    rays_beyond("kannala_brandt fold", m);
    pixel_round_trips("kannala_brandt fold", m, 1280, 960, expect_kb);
  }
  {  // r' = 1000 - 800 theta vanishes at 1.25 rad < 90 deg
    const CameraModel m = must_create(make(ModelType::ftheta, 0, 0, 960, 640, {1000, -400}, 180));
    WV_CHECK(std::fabs(m.domain_limit() - 1.25) < 1e-12);
    ray_round_trips("ftheta fold", m);
    rays_beyond("ftheta fold", m);
    pixel_round_trips("ftheta fold", m, 1920, 1280, expect_ftheta);
  }
}

void expect_refused(const CameraModelParams& p, const char* needle) {
  auto r = CameraModel::create(p);
  WV_CHECK_MSG(!r.ok(), std::string("accepted, expected an error naming '") + needle + "'");
  if (r.ok()) return;
  WV_CHECK(r.status().code() == wv::Code::invalid_argument);
  WV_CHECK_MSG(r.status().message().find(needle) != std::string::npos,
               "message '" + r.status().message() + "' does not name '" + needle + "'");
}

void test_bad_parameters() {
  CameraModelParams p = pinhole_params();
  p.fx = 0.0; expect_refused(p, "fx");
  p.fx = -1260.0; expect_refused(p, "fx");
  p.fx = NAN; expect_refused(p, "fx");
  p = pinhole_params(); p.fy = 0.0; expect_refused(p, "fy");
  p = pinhole_params(); p.fy = INFINITY; expect_refused(p, "fy");
  p = pinhole_params(); p.cx = NAN; expect_refused(p, "cx");
  p = pinhole_params(); p.cy = -INFINITY; expect_refused(p, "cy");
  p = pinhole_params(); p.coeffs[2] = NAN; expect_refused(p, "coeffs[2]");
  p = pinhole_params(); p.type = static_cast<ModelType>(7); expect_refused(p, "type");
  p = pinhole_params(); p.type = static_cast<ModelType>(0); expect_refused(p, "type");

  p = fisheye_params(); p.fov_deg = 0.0; expect_refused(p, "fov_deg");
  p = fisheye_params(); p.fov_deg = -10.0; expect_refused(p, "fov_deg");
  p = fisheye_params(); p.fov_deg = 360.0; expect_refused(p, "fov_deg");
  p = fisheye_params(); p.fov_deg = NAN; expect_refused(p, "fov_deg");
  p = fisheye_params(); p.fx = 0.0; expect_refused(p, "fx");
  p = fisheye_params(); p.coeffs[4] = 0.1; expect_refused(p, "coeffs[4]");
  p = fisheye_params(); p.coeffs[1] = INFINITY; expect_refused(p, "coeffs[1]");

  p = ftheta_params(); p.coeffs[0] = 0.0; expect_refused(p, "increasing at 0");
  p = ftheta_params(); p.coeffs[0] = -1000.0; expect_refused(p, "a1");
  p = ftheta_params(); p.fov_deg = 400.0; expect_refused(p, "fov_deg");
  p = ftheta_params(); p.cx = NAN; expect_refused(p, "cx");

  // Pinhole ignores fov_deg; fisheye and f-theta accept up to just under 360.
  p = pinhole_params(); p.fov_deg = NAN; WV_CHECK(CameraModel::create(p).ok());
  p = fisheye_params(); p.fov_deg = 359.0; WV_CHECK(CameraModel::create(p).ok());
}

void test_no_allocation_and_determinism() {
  const CameraModel models[3] = {must_create(pinhole_params()), must_create(fisheye_params()),
                                 must_create(ftheta_params())};
  const CameraModel again[3] = {must_create(pinhole_params()), must_create(fisheye_params()),
                                must_create(ftheta_params())};
  const long before = g_allocations.load();
  double sum = 0.0;
  bool same = true;
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 200; ++i) {
      const double u = 13.7 * i, v = 5.3 * i;
      double r1[3], r2[3], u1, v1, u2, v2;
      const bool a = models[k].unproject(u, v, r1), b = again[k].unproject(u, v, r2);
      same = same && a == b && std::memcmp(r1, r2, sizeof r1) == 0;
      if (a) {
        const bool c = models[k].project(r1, &u1, &v1), d = again[k].project(r1, &u2, &v2);
        same = same && c == d && std::memcmp(&u1, &u2, sizeof u1) == 0 && std::memcmp(&v1, &v2, sizeof v1) == 0;
        sum += u1 + v1;
      }
    }
  WV_CHECK_EQ(g_allocations.load() - before, 0L);
  WV_CHECK(same);
  WV_CHECK(std::isfinite(sum));
  // Copies behave like the original.
  const CameraModel copy = models[1];
  double r[3];
  WV_CHECK(copy.unproject(700.0, 400.0, r));
}

}  // namespace

int main() {
  test_realistic_cameras();
  test_pinhole_identity();
  test_fold_limits();
  test_bad_parameters();
  test_no_allocation_and_determinism();
  return wv_test_exit_code();
}
