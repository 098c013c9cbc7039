// The int8 -> int8 table op shared by unary's int8 path and quantize's requantization: y = table[x + 128], the
// writer's 256-entry table holding each input code's output code. Rows split across threads (row_split.hpp).
#pragma once
#include <memory>
#include <string>

#include "kernels/cpu/row_split.hpp"
#include "plan/kernel.hpp"

namespace wv::kernels {

class Int8Table final : public PreparedOp {
 public:
  int64_t n = 0;
  const int8_t* lut = nullptr;
  void run(const OpBuffers& b) const override {
    const int8_t* x = static_cast<const int8_t*>(b.in[0]);
    int8_t* y = static_cast<int8_t*>(b.out[0]);
    for_row_blocks(b.pool, n, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) y[i] = lut[x[i] + 128];
    });
  }
};

// The table op reading its table from input slot 1; `who` names the op in the error ("int8 unary").
inline Result<std::unique_ptr<PreparedOp>> make_int8_table(const OpView& op, const std::string& who) {
  if (!op.has_input(1)) return op.error(who + " needs its table (input 1: an int8 constant of 256 entries)");
  const Value& l = op.in(1);
  if (l.kind != format::kConstant || l.dtype != DType::i8 || l.shape.elements() != 256)
    return op.error("table must be an int8 constant of 256 entries, got " + l.describe());
  auto k = std::make_unique<Int8Table>();
  k->n = op.in(0).shape.elements();
  k->lut = static_cast<const int8_t*>(l.data);
  k->set_work(k->n);
  return std::unique_ptr<PreparedOp>(std::move(k));
}

}  // namespace wv::kernels
