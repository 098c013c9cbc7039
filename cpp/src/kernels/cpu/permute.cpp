// permute: y = x.transpose(perm) for rank <= 6; attributes perm0..perm{rank-1}.
#include <cstring>

#include "kernels/cpu/layout_ops.hpp"

namespace wv::kernels {
namespace {

class Permute final : public PreparedOp {
 public:
  int rank = 0;
  int64_t out_dims[6] = {1, 1, 1, 1, 1, 1};
  int64_t in_strides[6] = {0, 0, 0, 0, 0, 0};  // input stride (elements) of each output dim
  size_t elem = 1;
  int64_t n = 0;
  void run(const OpBuffers& b) const override {
    const char* x = static_cast<const char*>(b.in[0]);
    char* y = static_cast<char*>(b.out[0]);
    int64_t idx[6] = {0, 0, 0, 0, 0, 0};
    int64_t src = 0;
    for (int64_t i = 0; i < n; ++i) {
      std::memcpy(y + size_t(i) * elem, x + size_t(src) * elem, elem);
      for (int d = rank - 1; d >= 0; --d) {  // odometer over output indices
        src += in_strides[d];
        if (++idx[d] < out_dims[d]) break;
        src -= in_strides[d] * out_dims[d];
        idx[d] = 0;
      }
    }
  }
};

Result<std::unique_ptr<PreparedOp>> create(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(1, 1, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({"perm0", "perm1", "perm2", "perm3", "perm4", "perm5"}));
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  WV_RETURN_IF_ERROR(check_same_encoding(op, x, y));
  if (x.shape.rank != y.shape.rank || x.shape.rank == 0) return op.error("input and output ranks differ or are 0");
  auto k = std::make_unique<Permute>();
  k->rank = x.shape.rank;
  int64_t stride[6];
  stride[k->rank - 1] = 1;
  for (int d = k->rank - 2; d >= 0; --d) stride[d] = stride[d + 1] * x.shape[d + 1];
  bool used[6] = {false, false, false, false, false, false};
  for (int d = 0; d < k->rank; ++d) {
    const char* key[6] = {"perm0", "perm1", "perm2", "perm3", "perm4", "perm5"};
    int64_t p = op.attr_int(key[d], -1);
    if (p < 0 || p >= k->rank || used[p]) return op.error("perm0..perm" + std::to_string(k->rank - 1) + " must be a permutation");
    used[p] = true;
    if (y.shape[d] != x.shape[int(p)]) return op.error("output " + y.shape.str() + " is not the input " + x.shape.str() + " permuted");
    k->out_dims[d] = y.shape[d];
    k->in_strides[d] = stride[p];
  }
  k->elem = dtype_size(x.dtype);
  k->n = x.shape.elements();
  k->set_work(int64_t(x.bytes));
  return std::unique_ptr<PreparedOp>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_permute{"permute", &create};

}  // namespace wv::kernels
