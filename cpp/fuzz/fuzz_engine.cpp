// libFuzzer harness: arbitrary bytes as an engine file. Load from memory; when the loader accepts the bytes,
// create a session, feed every input (bytes from the end of the data, zero-padded), run, read every output and
// release. Every refusal must be a status with a message; nothing may crash, leak, hang or read out of bounds
// (built with ASan + UBSan). Seed corpus: cpp/fuzz/corpus/engine (the C++ tests' engines).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "wayvert/wayvert.h"

namespace {

size_t spec_bytes(const wv_tensor_spec& s) {
  size_t n = s.dtype == WV_F32 || s.dtype == WV_I32 ? 4 : 1;
  for (int d = 0; d < s.rank; ++d) n *= size_t(s.dims[d]);
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  wv_engine* engine = nullptr;
  if (wv_engine_load_from_memory(data, size, &engine) != WV_OK) {
    if (wv_last_error()[0] == '\0') __builtin_trap();  // a refusal must say why
    return 0;
  }
  const char* json = nullptr;
  size_t length = 0;
  (void)wv_engine_meta(engine, &json, &length);
  wv_session* session = nullptr;
  if (wv_session_create(engine, &session) == WV_OK) {
    const int32_t inputs = wv_engine_input_count(engine);
    for (int32_t i = 0; i < inputs; ++i) {
      wv_tensor_spec spec;
      if (wv_engine_input_spec(engine, i, &spec) != WV_OK) continue;
      std::vector<uint8_t> buf(spec_bytes(spec), 0);
      // float inputs stay finite: NaN/inf are refused by set_input, which is tested elsewhere
      if (spec.dtype != WV_F32) std::memcpy(buf.data(), data, buf.size() < size ? buf.size() : size);
      (void)wv_session_set_input(session, i, buf.data(), buf.size());
    }
    if (wv_session_run(session) == WV_OK) {
      const int32_t outputs = wv_engine_output_count(engine);
      for (int32_t i = 0; i < outputs; ++i) {
        const void* out = nullptr;
        size_t bytes = 0;
        if (wv_session_output(session, i, &out, &bytes) == WV_OK && bytes) {
          volatile uint8_t sink = static_cast<const uint8_t*>(out)[bytes - 1];
          (void)sink;
        }
      }
    }
    wv_session_release(session);
  }
  wv_engine_release(engine);
  return 0;
}
