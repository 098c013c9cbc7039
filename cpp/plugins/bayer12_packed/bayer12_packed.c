/* Example out-of-tree sensor plugin, built only against wayvert/sensor_plugin.h.
 *
 * Cameras: undistorted pinholes delivering "bayer_rggb12p": 12-bit Bayer RGGB, MIPI RAW12 packing (two pixels in
 * three bytes: high 8 bits of pixel 0, high 8 bits of pixel 1, then low nibbles: pixel 0 in bits 0-3, pixel 1 in
 * bits 4-7). Row stride = width * 3 / 2 bytes. Each canonical pixel takes the nearest source pixel of the camera
 * that sees it closest to its optical axis; colour comes from the 2x2 RGGB quad containing that pixel (R, mean of
 * the two G, B), reduced to 8 bits (>> 4), then normalised and quantised like the built-in adapter.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wayvert/sensor_plugin.h"

typedef struct {
  int camera; /* -1: none */
  int x, y;   /* even-aligned quad origin */
} entry;

typedef struct {
  int n_src, n_virt, vw, vh;
  char (*names)[64];
  int* width;
  int* height;
  entry* table; /* [n_virt][vh][vw] */
  signed char lut[3][256];
  signed char fill;
  char error[256];
} adapter;

static _Thread_local char g_open_error[256];

static const char* describe(void) { return "{\"pixel_formats\": [\"bayer_rggb12p\"], \"camera_models\": [\"pinhole\"]}"; }

static int32_t open_fail(const char* m) {
  strncpy(g_open_error, m, sizeof g_open_error - 1);
  return WV_SP_ERR_UNSUPPORTED;
}

/* R_vehicle_from_optical for roll/pitch/yaw of the camera body (x optical axis, y left, z up). */
static void rotation(const double rpy[3], double R[9]) {
  const double cr = cos(rpy[0]), sr = sin(rpy[0]), cp = cos(rpy[1]), sp = sin(rpy[1]), cy = cos(rpy[2]), sy = sin(rpy[2]);
  const double B[9] = {cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr, sy * cp, sy * sp * sr + cy * cr,
                       sy * sp * cr - cy * sr, -sp, cp * sr, cp * cr};
  /* optical x -> body -y, optical y -> body -z, optical z -> body x */
  for (int i = 0; i < 3; ++i) {
    R[i * 3 + 0] = -B[i * 3 + 1];
    R[i * 3 + 1] = -B[i * 3 + 2];
    R[i * 3 + 2] = B[i * 3 + 0];
  }
}

static int32_t plugin_open(const wv_sp_rig* source, const wv_sp_canonical* canonical, void** handle) {
  if (!source || !canonical || !canonical->rig || !handle) return open_fail("missing rig, canonical spec or handle");
  const wv_sp_rig* virt = canonical->rig;
  for (int i = 0; i < source->camera_count; ++i) {
    const wv_sp_camera* c = &source->cameras[i];
    if (strcmp(c->pixel_format, "bayer_rggb12p") != 0) return open_fail("this plugin only reads bayer_rggb12p cameras");
    if (c->model != WV_SP_MODEL_PINHOLE) return open_fail("this plugin only models undistorted pinhole cameras");
    for (int k = 0; k < 5; ++k)
      if (c->coeffs[k] != 0.0) return open_fail("this plugin only models undistorted pinhole cameras");
    if (c->width % 2 || c->height % 2) return open_fail("Bayer cameras need even width and height");
  }
  adapter* a = calloc(1, sizeof *a);
  if (!a) return open_fail("out of memory");
  a->n_src = source->camera_count;
  a->n_virt = virt->camera_count;
  a->vw = virt->cameras[0].width;
  a->vh = virt->cameras[0].height;
  a->names = calloc((size_t)a->n_src, sizeof *a->names);
  a->width = calloc((size_t)a->n_src, sizeof(int));
  a->height = calloc((size_t)a->n_src, sizeof(int));
  a->table = calloc((size_t)a->n_virt * (size_t)a->vw * (size_t)a->vh, sizeof(entry));
  if (!a->names || !a->width || !a->height || !a->table) {
    free(a->names); free(a->width); free(a->height); free(a->table); free(a);
    return open_fail("out of memory");
  }
  double Rs[64][9];
  for (int s = 0; s < a->n_src && s < 64; ++s) {
    strncpy(a->names[s], source->cameras[s].name, 63);
    a->width[s] = source->cameras[s].width;
    a->height[s] = source->cameras[s].height;
    rotation(source->cameras[s].rotation_rpy_rad, Rs[s]);
  }
  for (int v = 0; v < a->n_virt; ++v) {
    const wv_sp_camera* vc = &virt->cameras[v];
    double Rv[9];
    rotation(vc->rotation_rpy_rad, Rv);
    for (int i = 0; i < a->vh; ++i)
      for (int j = 0; j < a->vw; ++j) {
        const double o[3] = {(j - vc->cx) / vc->fx, (i - vc->cy) / vc->fy, 1.0};
        double d[3];
        for (int r = 0; r < 3; ++r) d[r] = Rv[r * 3] * o[0] + Rv[r * 3 + 1] * o[1] + Rv[r * 3 + 2] * o[2];
        entry e = {-1, 0, 0};
        double best = -2.0;
        for (int s = 0; s < a->n_src && s < 64; ++s) {
          const double* R = Rs[s];
          const double q[3] = {R[0] * d[0] + R[3] * d[1] + R[6] * d[2], R[1] * d[0] + R[4] * d[1] + R[7] * d[2],
                               R[2] * d[0] + R[5] * d[1] + R[8] * d[2]};
          if (q[2] <= 0) continue;
          const double c = q[2] / sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]);
          const wv_sp_camera* sc = &source->cameras[s];
          const long x = lround(sc->fx * q[0] / q[2] + sc->cx), y = lround(sc->fy * q[1] / q[2] + sc->cy);
          if (c <= best || x < 0 || y < 0 || x >= sc->width || y >= sc->height) continue;
          best = c;
          e.camera = s;
          e.x = (int)(x & ~1L);
          e.y = (int)(y & ~1L);
        }
        a->table[((size_t)v * a->vh + i) * a->vw + j] = e;
      }
  }
  for (int ch = 0; ch < 3; ++ch)
    for (int val = 0; val < 256; ++val) {
      double x = ((val / 255.0) - canonical->mean[ch]) / canonical->std[ch] / canonical->scale;
      double r = round(x) + canonical->zero_point;
      a->lut[ch][val] = (signed char)(r < -128 ? -128 : (r > 127 ? 127 : r));
    }
  a->fill = (signed char)canonical->zero_point;
  *handle = a;
  return WV_SP_OK;
}

/* 12-bit value of pixel (x, y) of a RAW12 frame, reduced to 8 bits. */
static int raw12(const unsigned char* f, int width, int x, int y) {
  const unsigned char* p = f + (size_t)y * (size_t)(width * 3 / 2) + (size_t)(x / 2) * 3;
  const int v = (x & 1) ? ((p[1] << 4) | (p[2] >> 4)) : ((p[0] << 4) | (p[2] & 0x0F));
  return v >> 4;
}

static int32_t plugin_convert(void* handle, const wv_sp_frame* frames, int32_t n, wv_sp_output* out) {
  adapter* a = handle;
  const size_t plane = (size_t)a->vw * (size_t)a->vh;
  if (!out || out->tensor_bytes != (size_t)a->n_virt * 3 * plane || out->mask_bytes != (size_t)a->n_virt * plane) {
    strcpy(a->error, "output buffers have the wrong size");
    return WV_SP_ERR_INVALID_ARGUMENT;
  }
  const unsigned char* data[64] = {0};
  for (int k = 0; k < n; ++k) {
    int s = -1;
    for (int i = 0; i < a->n_src; ++i)
      if (frames[k].camera && strcmp(frames[k].camera, a->names[i]) == 0) s = i;
    if (s < 0) {
      strcpy(a->error, "frame for an unknown camera");
      return WV_SP_ERR_INPUT;
    }
    if (frames[k].data && frames[k].bytes != (size_t)a->width[s] * 3 / 2 * (size_t)a->height[s]) {
      strcpy(a->error, "frame size does not match bayer_rggb12p at the camera's resolution");
      return WV_SP_ERR_INPUT;
    }
    if (s < 64) data[s] = frames[k].data;
  }
  for (int v = 0; v < a->n_virt; ++v)
    for (size_t p = 0; p < plane; ++p) {
      const entry e = a->table[(size_t)v * plane + p];
      const unsigned char* f = e.camera >= 0 ? data[e.camera] : NULL;
      int rgb[3] = {0, 0, 0};
      if (f) {
        const int w = a->width[e.camera];
        rgb[0] = raw12(f, w, e.x, e.y);
        rgb[1] = (raw12(f, w, e.x + 1, e.y) + raw12(f, w, e.x, e.y + 1) + 1) >> 1;
        rgb[2] = raw12(f, w, e.x + 1, e.y + 1);
      }
      for (int c = 0; c < 3; ++c) out->tensor[((size_t)v * 3 + (size_t)c) * plane + p] = f ? a->lut[c][rgb[c]] : a->fill;
      out->mask[(size_t)v * plane + p] = f ? 1 : 0;
    }
  return WV_SP_OK;
}

static void plugin_close(void* handle) {
  adapter* a = handle;
  if (!a) return;
  free(a->names); free(a->width); free(a->height); free(a->table); free(a);
}

static const char* plugin_last_error(void* handle) { return handle ? ((adapter*)handle)->error : g_open_error; }

static const wv_sensor_plugin kPlugin = {WV_SENSOR_PLUGIN_ABI_MAJOR, WV_SENSOR_PLUGIN_ABI_MINOR, "example.bayer12_packed",
                                         describe, plugin_open, plugin_convert, plugin_close, plugin_last_error};

__attribute__((visibility("default"))) const wv_sensor_plugin* wv_sensor_plugin_entry(void) { return &kPlugin; }
