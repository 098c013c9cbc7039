// reshape (also flatten): same bytes, new shape. Copies so every value keeps its own arena slot.
#include <cstring>

#include "kernels/cpu/layout_ops.hpp"

namespace wv::kernels {
namespace {

class Reshape final : public PreparedOp {
 public:
  size_t bytes = 0;
  void run(const OpBuffers& b) const override { std::memcpy(b.out[0], b.in[0], bytes); }
};

Result<std::unique_ptr<PreparedOp>> create(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(1, 1, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({}));
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  WV_RETURN_IF_ERROR(check_same_encoding(op, x, y));
  if (x.shape.elements() != y.shape.elements())
    return op.error("element counts differ: " + x.describe() + " to " + y.describe());
  auto k = std::make_unique<Reshape>();
  k->bytes = x.bytes;
  k->set_work(int64_t(x.bytes));
  return std::unique_ptr<PreparedOp>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_reshape{"reshape", &create};

}  // namespace wv::kernels
