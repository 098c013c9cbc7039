// Little-endian loads from a byte span; callers check bounds with `fits` before every read.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace wv {

struct ByteSpan {
  const uint8_t* data = nullptr;
  size_t size = 0;

  // True when [offset, offset + length) lies inside the span (overflow-safe).
  bool fits(uint64_t offset, uint64_t length) const { return offset <= size && length <= size - offset; }
  ByteSpan sub(size_t offset, size_t length) const { return {data + offset, length}; }

  uint8_t u8(size_t off) const { return data[off]; }
  uint16_t u16(size_t off) const { return uint16_t(data[off] | data[off + 1] << 8); }
  uint32_t u32(size_t off) const {
    return uint32_t(data[off]) | uint32_t(data[off + 1]) << 8 | uint32_t(data[off + 2]) << 16 |
           uint32_t(data[off + 3]) << 24;
  }
  uint64_t u64(size_t off) const { return uint64_t(u32(off)) | uint64_t(u32(off + 4)) << 32; }
  int32_t i32(size_t off) const { return static_cast<int32_t>(u32(off)); }
  int64_t i64(size_t off) const { return static_cast<int64_t>(u64(off)); }
  float f32(size_t off) const {
    uint32_t b = u32(off);
    float f;
    std::memcpy(&f, &b, 4);
    return f;
  }
  double f64(size_t off) const {
    uint64_t b = u64(off);
    double d;
    std::memcpy(&d, &b, 8);
    return d;
  }
};

}  // namespace wv
