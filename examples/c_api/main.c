/* wayvert_run: load an engine, feed it raw input files (one per engine input, in order), print every output.
 *
 *   wayvert_run ENGINE.wvrt INPUT0.bin [INPUT1.bin ...]
 *
 * Each input file holds the tensor's raw little-endian bytes (numpy: array.tobytes()).
 * Output lines: "<name> <dtype> [d0,d1,...]: v0 v1 ..." with every element. Exit status: 0 ok, 1 usage,
 * 2 the runtime refused (the message of wv_last_error() is printed on stderr).
 */
#include <stdio.h>
#include <stdlib.h>

#include "wayvert/wayvert.h"

static int fail(const char* what, wv_status st) {
  fprintf(stderr, "wayvert_run: %s: %s: %s\n", what, wv_status_name(st), wv_last_error());
  return 2;
}

static void* read_file(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  void* buf = malloc(n > 0 ? (size_t)n : 1);
  *size = buf ? fread(buf, 1, (size_t)n, f) : 0;
  fclose(f);
  return buf;
}

static void print_output(const wv_tensor_spec* spec, const void* data) {
  size_t count = 1;
  printf("%s %s [", spec->name, spec->dtype == WV_F32 ? "float32" : spec->dtype == WV_I8 ? "int8" : spec->dtype == WV_I32 ? "int32" : "uint8");
  for (int d = 0; d < spec->rank; ++d) {
    printf(d ? ",%lld" : "%lld", (long long)spec->dims[d]);
    count *= (size_t)spec->dims[d];
  }
  printf("]:");
  for (size_t i = 0; i < count; ++i) {
    switch (spec->dtype) {
      case WV_F32: printf(" %.9g", ((const float*)data)[i]); break;
      case WV_I8: printf(" %d", ((const int8_t*)data)[i]); break;
      case WV_I32: printf(" %d", ((const int32_t*)data)[i]); break;
      case WV_U8: printf(" %u", ((const uint8_t*)data)[i]); break;
    }
  }
  printf("\n");
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s ENGINE.wvrt INPUT0.bin [INPUT1.bin ...]\n", argv[0]);
    return 1;
  }
  wv_engine* engine = NULL;
  wv_status st = wv_engine_load(argv[1], &engine);
  if (st != WV_OK) return fail("load", st);
  int32_t n_in = wv_engine_input_count(engine);
  if (argc - 2 != n_in) {
    fprintf(stderr, "wayvert_run: the engine takes %d input(s), %d file(s) given\n", n_in, argc - 2);
    wv_engine_release(engine);
    return 1;
  }
  wv_session* session = NULL;
  if ((st = wv_session_create(engine, &session)) != WV_OK) return fail("session", st);
  for (int32_t i = 0; i < n_in; ++i) {
    size_t size = 0;
    void* data = read_file(argv[2 + i], &size);
    if (!data) {
      fprintf(stderr, "wayvert_run: cannot read %s\n", argv[2 + i]);
      return 1;
    }
    st = wv_session_set_input(session, i, data, size);
    free(data);
    if (st != WV_OK) return fail("input", st);
  }
  if ((st = wv_session_run(session)) != WV_OK) return fail("run", st);
  for (int32_t i = 0; i < wv_engine_output_count(engine); ++i) {
    wv_tensor_spec spec;
    const void* data = NULL;
    if ((st = wv_engine_output_spec(engine, i, &spec)) != WV_OK) return fail("output spec", st);
    if ((st = wv_session_output(session, i, &data, NULL)) != WV_OK) return fail("output", st);
    print_output(&spec, data);
  }
  wv_session_release(session);
  wv_engine_release(engine);
  return 0;
}
