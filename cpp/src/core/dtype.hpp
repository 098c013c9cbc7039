// Element types shared by the engine format, the plan and the kernels (numbers match wv_dtype).
#pragma once
#include <cstddef>
#include <cstdint>

namespace wv {

enum class DType : uint8_t { f32 = 1, i8 = 2, i32 = 3, u8 = 4 };

inline bool dtype_known(uint8_t v) { return v >= 1 && v <= 4; }

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::i32: return 4;
    case DType::i8: return 1;
    case DType::u8: return 1;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "float32";
    case DType::i32: return "int32";
    case DType::i8: return "int8";
    case DType::u8: return "uint8";
  }
  return "?";
}

}  // namespace wv
