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
  WV_ERR_INTERNAL = 7
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
/* Instruction set the CPU kernels dispatched to: "avx2", "neon" or "scalar". */
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
/* Number of operators in the execution plan, and the name of operator `index`. */
WV_API int32_t wv_engine_op_count(const wv_engine* engine);
WV_API const char* wv_engine_op_name(const wv_engine* engine, int32_t index);

/* Create an execution context: its own arena and recurrent state. All memory is taken here. */
WV_API wv_status wv_session_create(wv_engine* engine, wv_session** out);
WV_API void wv_session_release(wv_session* session);
/* Copy one input in; `bytes` must equal the spec's size. */
WV_API wv_status wv_session_set_input(wv_session* session, int32_t index, const void* data, size_t bytes);
/* Execute the plan once. Allocates nothing; checks float inputs for NaN/inf first. */
WV_API wv_status wv_session_run(wv_session* session);
/* Borrow an output of the last run; the pointer stays valid until the next run or release. */
WV_API wv_status wv_session_output(const wv_session* session, int32_t index, const void** data, size_t* bytes);
/* Zero the session's recurrent state (as when it was created). */
WV_API wv_status wv_session_reset(wv_session* session);

/* Number of CUDA devices usable by this build (0 when built without CUDA or none is present). */
WV_API int32_t wv_cuda_device_count(void);

#ifdef __cplusplus
}
#endif
#endif /* WAYVERT_WAYVERT_H */
