// concat along `axis`; int8 inputs must already share the output's scale and zero point.
#include <cstring>
#include <vector>

#include "kernels/cpu/layout_ops.hpp"

namespace wv::kernels {
namespace {

class Concat final : public PreparedOp {
 public:
  int64_t outer = 1;                 // product of dims before the axis
  std::vector<size_t> chunk;         // bytes each input contributes per outer index
  size_t out_chunk = 0;
  void run(const OpBuffers& b) const override {
    char* y = static_cast<char*>(b.out[0]);
    for (int64_t o = 0; o < outer; ++o) {
      char* dst = y + size_t(o) * out_chunk;
      for (size_t i = 0; i < chunk.size(); ++i) {
        std::memcpy(dst, static_cast<const char*>(b.in[i]) + size_t(o) * chunk[i], chunk[i]);
        dst += chunk[i];
      }
    }
  }
};

Result<std::unique_ptr<PreparedOp>> create(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(1, 64, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({"axis"}));
  const Value& y = op.out(0);
  int64_t axis = op.attr_int("axis", 0);
  if (axis < 0) axis += y.shape.rank;
  if (axis < 0 || axis >= y.shape.rank) return op.error("axis out of range for output " + y.shape.str());
  auto k = std::make_unique<Concat>();
  int64_t inner = 1;
  for (int d = 0; d < int(axis); ++d) k->outer *= y.shape[d];
  for (int d = int(axis) + 1; d < y.shape.rank; ++d) inner *= y.shape[d];
  int64_t total = 0;
  for (int i = 0; i < op.input_count(); ++i) {
    if (!op.has_input(i)) return op.error("input " + std::to_string(i) + " is absent");
    const Value& x = op.in(i);
    WV_RETURN_IF_ERROR(check_same_encoding(op, x, y));
    if (x.shape.rank != y.shape.rank) return op.error("rank of " + x.describe() + " differs from output");
    for (int d = 0; d < y.shape.rank; ++d)
      if (d != axis && x.shape[d] != y.shape[d]) return op.error("input " + x.describe() + " differs from output " + y.shape.str() + " off the axis");
    total += x.shape[int(axis)];
    k->chunk.push_back(size_t(x.shape[int(axis)] * inner) * dtype_size(x.dtype));
  }
  if (total != y.shape[int(axis)]) return op.error("inputs add up to " + std::to_string(total) + " along the axis, output has " + std::to_string(y.shape[int(axis)]));
  k->out_chunk = size_t(total * inner) * dtype_size(y.dtype);
  k->set_work(int64_t(y.bytes));
  return std::unique_ptr<PreparedOp>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_concat{"concat", &create};

}  // namespace wv::kernels
