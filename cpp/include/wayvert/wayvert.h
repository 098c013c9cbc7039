/* wayvert C API: load a .wvrt engine, run it, read its outputs.
 *
 * Rules that hold for every function here:
 *  - Nothing throws or aborts across this boundary. Each call returns a wv_status; on failure
 *    wv_last_error() holds a message for the calling thread until its next failing call.
 *  - Handles are opaque. An engine is immutable and may be shared by threads; a session is used
 *    by one thread at a time. A session keeps its engine alive, so releasing the engine first is safe.
 *  - Sizes are in bytes unless a name says otherwise.
 */
#ifndef WAYVERT_WAYVERT_H
#define WAYVERT_WAYVERT_H

#include <stddef.h>
#include <stdint.h>

#include "wayvert/sensor_plugin.h"

#if defined(_WIN32)
#define WV_API __declspec(dllexport)
#else
#define WV_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. Stable numbers: bindings map each to an error class. */
typedef enum wv_status {
  WV_OK = 0,
  WV_ERR_INVALID_ARGUMENT = 1, /* NULL handle or pointer, index out of range, wrong byte count */
  WV_ERR_IO = 2,               /* the file cannot be opened, read or mapped */
  WV_ERR_ENGINE_FORMAT = 3,    /* malformed engine: bad magic, bounds, checksum, graph or shapes */
  WV_ERR_UNSUPPORTED = 4,      /* well-formed but not runnable here: unknown major version or op */
  WV_ERR_INPUT = 5,            /* an input's name, size or values (NaN/inf) are not acceptable */
  WV_ERR_OUT_OF_MEMORY = 6,
  WV_ERR_INTERNAL = 7,
  WV_ERR_DEVICE = 8            /* the requested device is missing or failed: no CUDA driver or device, device memory
                                  exhausted, a kernel launch or copy failed (the message names CUDA) */
} wv_status;

/* Element types of tensors. */
typedef enum wv_dtype { WV_F32 = 1, WV_I8 = 2, WV_I32 = 3, WV_U8 = 4 } wv_dtype;

#define WV_MAX_RANK 6

/* Description of one engine input or output. `name` lives as long as the engine. */
typedef struct wv_tensor_spec {
  const char* name;
  wv_dtype dtype;
  int32_t rank;
  int64_t dims[WV_MAX_RANK];
  float scale;        /* quantization scale (int8 tensors), 0 for float tensors */
  int32_t zero_point; /* quantization zero point (int8 tensors) */
  size_t bytes;       /* element count x element size */
} wv_tensor_spec;

typedef struct wv_engine wv_engine;
typedef struct wv_session wv_session;

/* Library version, "MAJOR.MINOR.PATCH". */
WV_API const char* wv_version(void);
/* Newest engine format this library reads, as major and minor. */
WV_API void wv_engine_format_version(uint32_t* major, uint32_t* minor);
/* Message of the calling thread's last failed call ("" if none). */
WV_API const char* wv_last_error(void);
/* Symbolic name of a status code, e.g. "WV_ERR_ENGINE_FORMAT". */
WV_API const char* wv_status_name(wv_status status);
/* Instruction set of the int8 micro-kernels this process dispatched to: "avx512vnni", "avx2", "i8mm", "neondot",
 * "neon" or "scalar" (WAYVERT_ISA=<name> forces one the CPU supports, e.g. "scalar" for the reference). */
WV_API const char* wv_cpu_isa(void);

/* Map and validate an engine file; weights stay in the mapping (zero copy). */
WV_API wv_status wv_engine_load(const char* path, wv_engine** out);
/* Validate an engine held in memory; the bytes are copied into an aligned buffer the engine owns. */
WV_API wv_status wv_engine_load_from_memory(const void* data, size_t size, wv_engine** out);
/* Drop the caller's reference; sessions created from it keep it alive. NULL is ignored. */
WV_API void wv_engine_release(wv_engine* engine);

/* The engine's `meta` section (UTF-8 JSON, not NUL-terminated); valid while the engine lives. */
WV_API wv_status wv_engine_meta(const wv_engine* engine, const char** json, size_t* length);
WV_API int32_t wv_engine_input_count(const wv_engine* engine);
WV_API int32_t wv_engine_output_count(const wv_engine* engine);
WV_API wv_status wv_engine_input_spec(const wv_engine* engine, int32_t index, wv_tensor_spec* out);
WV_API wv_status wv_engine_output_spec(const wv_engine* engine, int32_t index, wv_tensor_spec* out);
/* Index of the input or output with this name; WV_ERR_INPUT naming it if there is none. */
WV_API wv_status wv_engine_find_input(const wv_engine* engine, const char* name, int32_t* index);
WV_API wv_status wv_engine_find_output(const wv_engine* engine, const char* name, int32_t* index);
/* Bytes of one session's arena as planned (lifetimes shared) and as if every value had its own buffer. */
WV_API wv_status wv_engine_arena_bytes(const wv_engine* engine, size_t* planned, size_t* naive);
/* Bytes of weights repacked at load for the CPU micro-kernels; held once per engine, shared by its sessions. */
WV_API wv_status wv_engine_packed_weight_bytes(const wv_engine* engine, size_t* bytes);
/* Number of operators in the execution plan, and the name of operator `index`. */
WV_API int32_t wv_engine_op_count(const wv_engine* engine);
WV_API const char* wv_engine_op_name(const wv_engine* engine, int32_t index);

#define WV_DEVICE_CPU 0
#define WV_DEVICE_CUDA 1
#define WV_MAX_THREADS 64

/* How a session runs. Start from wv_session_options_default() and change fields; struct_size lets later
 * versions add fields without breaking callers built against this one. */
typedef struct wv_session_options {
  uint32_t struct_size; /* sizeof(wv_session_options) */
  int32_t threads;      /* intra-op threads including the caller's, 1..WV_MAX_THREADS. Default 1: the run stays
                           on the calling thread, which is what a vehicle loop with its own scheduling expects;
                           more threads lower one run's latency (docs/threads.md). */
  int32_t device;       /* WV_DEVICE_CPU, or WV_DEVICE_CUDA: the whole plan on an NVIDIA GPU, replayed as one CUDA
                           Graph per run (docs/cuda.md); `threads` is then ignored. A build or machine without CUDA
                           answers WV_ERR_DEVICE, an engine with ops the CUDA executor lacks WV_ERR_UNSUPPORTED. */
  int32_t device_index; /* CUDA device ordinal for WV_DEVICE_CUDA (default 0) */
} wv_session_options;

WV_API wv_session_options wv_session_options_default(void);
/* Create an execution context: its own arena, recurrent state and threads. All memory is taken here. */
WV_API wv_status wv_session_create(wv_engine* engine, wv_session** out);
/* The same with options (NULL: the defaults); bad options give WV_ERR_INVALID_ARGUMENT or WV_ERR_UNSUPPORTED. */
WV_API wv_status wv_session_create_with_options(wv_engine* engine, const wv_session_options* options,
                                                wv_session** out);
/* Intra-op threads of the session (including the caller's), 0 for NULL. */
WV_API int32_t wv_session_threads(const wv_session* session);
/* Per-op timing of the runs that follow (enabled != 0), or none (0, the default); either clears the totals.
 * Costs two clock reads per op; allocates nothing. */
WV_API wv_status wv_session_set_profiling(wv_session* session, int32_t enabled);
/* Wall time operator `index` (0..wv_engine_op_count-1) took over the profiled runs, in nanoseconds, and their count. */
WV_API wv_status wv_session_op_time(const wv_session* session, int32_t index, uint64_t* nanoseconds, int64_t* runs);
WV_API void wv_session_release(wv_session* session);
/* Copy one input in; `bytes` must equal the spec's size. */
WV_API wv_status wv_session_set_input(wv_session* session, int32_t index, const void* data, size_t bytes);
/* Execute the plan once. Allocates nothing; checks float inputs for NaN/inf first. */
WV_API wv_status wv_session_run(wv_session* session);
/* Borrow an output of the last run; the pointer stays valid until the next run or release. */
WV_API wv_status wv_session_output(const wv_session* session, int32_t index, const void** data, size_t* bytes);
/* Zero the session's recurrent state (as when it was created). */
WV_API wv_status wv_session_reset(wv_session* session);

/* ---- trajectory safety verifier (docs/verifier.md) ------------------------------------------------------
 * Frames: ego frame at the rear-axle centre now, x forward, y left (metres), heading rad, speed m/s, t s.
 * Trajectory point: [t, x, y, heading, speed]. Object: [x, y, heading, speed, length, width, class], box centre. */

#define WV_CHECK_COUNT 14 /* bits of a verdict's reasons, named by wv_verifier_check_name() */

/* The vehicle the trajectories are for (wv_vehicle_profile_default: a mid-size passenger car). */
typedef struct wv_vehicle_profile {
  float wheelbase_m, width_m, length_m;
  float rear_axle_to_rear_m;   /* rear overhang behind the reference point */
  float max_steering_rad;      /* road-wheel angle */
  float max_steering_rate_rps; /* road-wheel angle rate */
} wv_vehicle_profile;

/* Limits of every check (wv_verifier_limits_default: the documented defaults). */
typedef struct wv_verifier_limits {
  float max_curvature_per_m, max_lateral_accel_mps2, max_lateral_jerk_mps3;
  float max_long_accel_mps2, max_decel_mps2, max_long_jerk_mps3, max_yaw_rate_rps;
  float max_position_jump_m, max_heading_jump_rad, max_speed_jump_mps;
  float min_ttc_s;
  float rss_response_time_s, rss_ego_accel_during_response_mps2, rss_ego_min_brake_mps2, rss_lead_max_brake_mps2;
  float time_gap_dry_s, wet_time_gap_factor;
  float boundary_margin_m;
  float fallback_decel_mps2, fallback_jerk_mps3, fallback_dt_s;
} wv_verifier_limits;

typedef struct wv_ego_state {
  float speed_mps, accel_mps2, yaw_rate_rps, steering_rad;
} wv_ego_state;

/* One call's inputs; every array is row-major float and borrowed for the call only. */
typedef struct wv_verifier_input {
  const float* trajectories; /* [modes][points][5] */
  int32_t modes, points;
  const float* scores;       /* [modes]: rank passing modes only; never make a mode pass */
  wv_ego_state ego;
  const float* objects;      /* [object_count][7], may be NULL when object_count is 0 */
  int32_t object_count;
  const float* left_boundary;  /* [left_count][2], ordered along the road, may be NULL */
  int32_t left_count;
  const float* right_boundary; /* [right_count][2] */
  int32_t right_count;
  int32_t wet;               /* non-zero: wet road, the time-gap rule is multiplied by wet_time_gap_factor */
} wv_verifier_input;

/* A verdict; its arrays belong to the verifier and stay valid until its next check. */
typedef struct wv_verdict {
  int32_t chosen;                 /* mode to execute, or -1 when the fallback is used */
  int32_t fallback_used;
  uint32_t fallback_reasons;      /* fallback used: OR of every mode's reasons */
  uint32_t fallback_self_reasons; /* the fallback's own check (kinematic bits clear whenever the ego state is within the limits) */
  const float* trajectory;        /* [points][5]: the chosen mode or the fallback */
  int32_t points;
  int32_t modes;
  const uint8_t* passed;          /* [modes] */
  const uint32_t* reasons;        /* [modes]: bit i set = check i failed */
  const float* margins;           /* [modes][WV_CHECK_COUNT]: value / limit, > 1 means violated (NaN: not evaluated) */
} wv_verdict;

typedef struct wv_verifier wv_verifier;

WV_API void wv_vehicle_profile_default(wv_vehicle_profile* out);
WV_API void wv_verifier_limits_default(wv_verifier_limits* out);
/* Create a verifier; capacities bound every later input and all memory is taken here. */
WV_API wv_status wv_verifier_create(const wv_vehicle_profile* vehicle, const wv_verifier_limits* limits,
                                    int32_t max_modes, int32_t max_points, int32_t max_objects,
                                    int32_t max_boundary_points, wv_verifier** out);
WV_API void wv_verifier_release(wv_verifier* verifier);
/* Check the modes and fill `out`. Allocates nothing. Bad values (NaN, inf, time not increasing) give a verdict
 * with the invalid bit, not an error; errors are for NULL arrays and inputs beyond the capacities. */
WV_API wv_status wv_verifier_check(wv_verifier* verifier, const wv_verifier_input* input, wv_verdict* out);
/* Name of check bit `index` ("invalid", "continuity", ...), NULL when out of range. */
WV_API const char* wv_verifier_check_name(int32_t index);

/* ---- frame deadlines (docs/verifier.md section 7.6) -----------------------------------------------------------
 * A frame whose adapter + engine + verifier time exceeds its budget gives the vehicle the previous verified
 * trajectory advanced in time while it stays valid, else the minimum-risk fallback:
 *   wv_advance_trajectory(prev, n, now - prev_time, dx, dy, dyaw, min_horizon_s, out, &m);
 *   if (m == 0) wv_verifier_fallback(verifier, &ego_now, points, out);
 * (dx, dy, dyaw): the ego pose now in the previous plan's ego frame (odometry). */
/* The minimum-risk manoeuvre from `ego` (the verifier's own fallback): `points` rows of [t, x, y, heading, speed]. */
WV_API wv_status wv_verifier_fallback(const wv_verifier* verifier, const wv_ego_state* ego, int32_t points, float* out);
/* `trajectory` [points][5] planned `elapsed_s` ago; writes into `out` (room for points + 1 rows) the part from now
 * on in the current ego frame, times from now, its first point interpolated at t = 0, and its row count into
 * *out_points; 0 when it covers less than `min_horizon_s` from now or holds a non-finite value (fall back then). */
WV_API wv_status wv_advance_trajectory(const float* trajectory, int32_t points, float elapsed_s, float dx_m, float dy_m,
                                       float dyaw_rad, float min_horizon_s, float* out, int32_t* out_points);

/* ---- sensor adapters (docs/plugin-abi.md, docs/rig-file.md) -------------------------------------------------
 * An adapter maps frames of a source rig onto the canonical rig's int8 input tensor in one pass. The built-in
 * one and out-of-tree plugins share the plugin ABI of sensor_plugin.h and this handle. */
typedef struct wv_sensor_adapter wv_sensor_adapter;

/* Open the built-in adapter (remap tables are built here). */
WV_API wv_status wv_sensor_adapter_open_builtin(const wv_sp_rig* source, const wv_sp_canonical* canonical,
                                                wv_sensor_adapter** out);
/* Load the plugin library at `path` (dlopen), check its ABI major, and open it. */
WV_API wv_status wv_sensor_adapter_open_plugin(const char* path, const wv_sp_rig* source,
                                               const wv_sp_canonical* canonical, wv_sensor_adapter** out);
/* Convert one set of frames; missing cameras are reported through out->mask. */
WV_API wv_status wv_sensor_adapter_convert(wv_sensor_adapter* adapter, const wv_sp_frame* frames,
                                           int32_t frame_count, wv_sp_output* out);
WV_API const char* wv_sensor_adapter_name(const wv_sensor_adapter* adapter);
WV_API const char* wv_sensor_adapter_describe(const wv_sensor_adapter* adapter);
WV_API void wv_sensor_adapter_release(wv_sensor_adapter* adapter);

/* Number of CUDA devices usable by this build (0 when built without CUDA or none is present). */
WV_API int32_t wv_cuda_device_count(void);
/* 1 when this build has the CUDA executor (compiled with nvcc), else 0. */
WV_API int32_t wv_cuda_built(void);
/* CUDA coverage, answered without a GPU: how many of the engine's ops the CUDA executor cannot run (0: the whole
 * plan runs on CUDA), and for the k-th of them its op index and the reason (valid while the engine lives). In a
 * build without CUDA every op is listed. */
WV_API wv_status wv_engine_cuda_gap_count(const wv_engine* engine, int32_t* count);
WV_API wv_status wv_engine_cuda_gap(const wv_engine* engine, int32_t k, int32_t* op_index, const char** reason);

#ifdef __cplusplus
}
#endif
#endif /* WAYVERT_WAYVERT_H */
