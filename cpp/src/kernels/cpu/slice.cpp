// slice: y = x[..., start : start + count * step : step, ...] along `axis` (count = the output's extent there);
// attributes axis (negative counts from the end), start (>= 0), step (>= 1, default 1). Any dtype; int8/uint8 keep
// the input's scale and zero point. A byte copy.
#include <cstring>

#include "plan/kernel.hpp"

namespace wv::kernels {
namespace {

class Slice final : public PreparedOp {
 public:
  int64_t outer = 1, in_extent = 0, count = 0, start = 0, step = 1, inner_bytes = 0;
  void run(const OpBuffers& b) const override {
    const unsigned char* x = static_cast<const unsigned char*>(b.in[0]);
    unsigned char* y = static_cast<unsigned char*>(b.out[0]);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t c = 0; c < count; ++c)
        std::memcpy(y + (o * count + c) * inner_bytes, x + (o * in_extent + start + c * step) * inner_bytes,
                    size_t(inner_bytes));
  }
};

Result<std::unique_ptr<PreparedOp>> create(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(1, 1, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({"axis", "start", "step"}));
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  const int r = x.shape.rank;
  if (r < 1 || y.shape.rank != r) return op.error("input and output must have one rank >= 1");
  if (x.dtype != y.dtype) return op.error("input and output dtypes differ");
  if ((x.dtype == DType::i8 || x.dtype == DType::u8) && (x.scale != y.scale || x.zero_point != y.zero_point))
    return op.error("a slice keeps the input's scale and zero point");
  int64_t axis = op.attr_int("axis", 0);
  if (axis < 0) axis += r;
  if (axis < 0 || axis >= r) return op.error("axis out of range for rank " + std::to_string(r));
  const int64_t start = op.attr_int("start", 0), step = op.attr_int("step", 1);
  const int64_t count = y.shape[int(axis)], extent = x.shape[int(axis)];
  if (step < 1) return op.error("step must be >= 1");
  if (start < 0 || count < 1 || start + (count - 1) * step >= extent)
    return op.error("start " + std::to_string(start) + ", step " + std::to_string(step) + " and " + std::to_string(count) +
                    " elements do not fit in extent " + std::to_string(extent));
  auto k = std::make_unique<Slice>();
  int64_t inner = 1;
  for (int d = 0; d < r; ++d) {
    if (d != axis && x.shape[d] != y.shape[d]) return op.error("dims off the axis must be equal: " + x.shape.str() + " -> " + y.shape.str());
    if (d < axis) k->outer *= x.shape[d];
    if (d > axis) inner *= x.shape[d];
  }
  k->in_extent = extent; k->count = count; k->start = start; k->step = step;
  k->inner_bytes = inner * int64_t(dtype_size(x.dtype));
  k->set_work(y.shape.elements());
  return std::unique_ptr<PreparedOp>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_slice{"slice", &create};

}  // namespace wv::kernels
