/* wayvert sensor-adapter plugin ABI: the ONLY header a plugin includes.
 *
 * A plugin is a shared library exporting one C symbol, WV_SENSOR_PLUGIN_ENTRY, of type wv_sensor_plugin_entry_fn.
 * It returns a static table: the ABI version the plugin was built for, its name, and function pointers.
 * The runtime refuses a plugin whose abi_major differs from WV_SENSOR_PLUGIN_ABI_MAJOR; a newer abi_minor on
 * either side only adds fields at the end of structs, so a plugin reads only the fields of its own minor.
 *
 * Rules for every function: plain C, no exceptions or longjmp across it, return WV_SP_OK (0) or an error code,
 * and on error make last_error(handle) describe it (handle NULL: errors of open). convert() must not allocate
 * (build tables in open) and must be safe to call repeatedly; the same handle is never used by two threads at once.
 *
 * Frames (see docs/rig-file.md): vehicle frame x forward, y left, z up, origin at the rear-axle centre on the
 * ground; camera optical frame x right, y down, z forward; pixel (row i, col j) has its centre at (u=j, v=i).
 */
#ifndef WAYVERT_SENSOR_PLUGIN_H
#define WAYVERT_SENSOR_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WV_SENSOR_PLUGIN_ABI_MAJOR 1
#define WV_SENSOR_PLUGIN_ABI_MINOR 0
#define WV_SENSOR_PLUGIN_ENTRY "wv_sensor_plugin_entry"

/* Return codes (the same numbers as wv_status in wayvert.h). */
enum { WV_SP_OK = 0, WV_SP_ERR_INVALID_ARGUMENT = 1, WV_SP_ERR_UNSUPPORTED = 4, WV_SP_ERR_INPUT = 5, WV_SP_ERR_INTERNAL = 7 };

/* Camera models and colour matrices, as in rig files. */
enum { WV_SP_MODEL_PINHOLE = 1, WV_SP_MODEL_KANNALA_BRANDT = 2, WV_SP_MODEL_FTHETA = 3 };
enum { WV_SP_COLOR_BT601 = 1, WV_SP_COLOR_BT709 = 2 };

/* One camera of a rig. Strings stay valid while the plugin handle lives. */
typedef struct wv_sp_camera {
  const char* name;
  int32_t width, height;       /* pixels */
  const char* pixel_format;    /* "rgb8", "bgr8", "nv12", "yuyv", "bayer_rggb8" or a plugin's own name */
  int32_t color_matrix;        /* WV_SP_COLOR_* */
  int32_t full_range;          /* 1: full-range YUV, 0: limited (video) range */
  double fps;
  int32_t model;               /* WV_SP_MODEL_* */
  double fx, fy, cx, cy;       /* pixels (f-theta: fx, fy unused) */
  double coeffs[5];            /* pinhole: k1 k2 p1 p2 k3; Kannala-Brandt: k1..k4; f-theta: a1..a5 */
  double fov_deg;              /* fisheye and f-theta: full field of view */
  double translation_m[3];     /* camera centre in the vehicle frame */
  double rotation_rpy_rad[3];  /* body frame (x optical axis, y left, z up): R = Rz(yaw) Ry(pitch) Rx(roll) */
} wv_sp_camera;

typedef struct wv_sp_rig {
  const char* name;
  int32_t camera_count;
  const wv_sp_camera* cameras;
} wv_sp_rig;

/* What the engine wants: virtual cameras (a rig of pinholes), and how RGB in [0, 1] becomes its int8 input:
 * q = clamp(round_half_away(((rgb / 255) - mean) / std / scale) + zero_point, -128, 127). */
typedef struct wv_sp_canonical {
  const wv_sp_rig* rig;
  float mean[3], std[3];
  float scale;
  int32_t zero_point;
} wv_sp_canonical;

/* One camera's frame for one convert() call. data NULL (or the camera absent from the list): camera missing. */
typedef struct wv_sp_frame {
  const char* camera;   /* a camera name of the source rig */
  const void* data;
  size_t bytes;         /* must equal the pixel format's frame size */
  int64_t timestamp_us;
} wv_sp_frame;

/* Where convert() writes: tensor [V][3][H][W] int8 and mask [V][H][W] (1: pixel has a source, 0: none). */
typedef struct wv_sp_output {
  int8_t* tensor;
  size_t tensor_bytes;
  uint8_t* mask;
  size_t mask_bytes;
} wv_sp_output;

typedef struct wv_sensor_plugin {
  uint32_t abi_major, abi_minor;
  const char* name;
  /* Capabilities as UTF-8 JSON, e.g. {"pixel_formats": ["bayer_rggb12p"], "camera_models": ["pinhole"]}. */
  const char* (*describe)(void);
  /* Build remap tables for source rig -> canonical rig; *handle receives the adapter. */
  int32_t (*open)(const wv_sp_rig* source, const wv_sp_canonical* canonical, void** handle);
  /* Convert one set of frames (any subset of the source cameras, any order). */
  int32_t (*convert)(void* handle, const wv_sp_frame* frames, int32_t frame_count, wv_sp_output* out);
  void (*close)(void* handle);
  /* Message of the last error on `handle` (NULL handle: the last failed open on this thread). */
  const char* (*last_error)(void* handle);
} wv_sensor_plugin;

typedef const wv_sensor_plugin* (*wv_sensor_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif /* WAYVERT_SENSOR_PLUGIN_H */
