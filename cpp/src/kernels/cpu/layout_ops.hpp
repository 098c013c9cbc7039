// Shared check for ops that only move bytes (concat, reshape, permute): int8 values keep their quantization.
#pragma once
#include "plan/kernel.hpp"

namespace wv::kernels {

inline Status check_same_encoding(const OpView& op, const Value& a, const Value& b) {
  if (a.dtype != b.dtype) return op.error("dtype changes from " + a.describe() + " to " + b.describe());
  if ((a.dtype == DType::i8 || a.dtype == DType::u8) && (a.scale != b.scale || a.zero_point != b.zero_point))
    return op.error("quantization of " + a.describe() + " and " + b.describe() + " differs; requantize first");
  return Status::Ok();
}

}  // namespace wv::kernels
