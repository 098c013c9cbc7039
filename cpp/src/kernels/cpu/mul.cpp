// mul: y = a * b, b broadcast to a's shape (same rank; each dim of b is 1 or a's); y is shaped like a.
//   float32: y = a * b.
//   int8:    y = clamp(rescale((a - z_a) * (b - z_b), multiplier, shift) + z_y, act_min, act_max), the writer's
//            (multiplier, shift) encoding s_a s_b / s_y.
#include "kernels/cpu/requantize.hpp"
#include "plan/kernel.hpp"

namespace wv::kernels {
namespace {

// Walks a's elements in order and yields the offset of the b element each one multiplies.
struct Broadcast {
  int rank = 0;
  int64_t dims[8] = {};
  int64_t bstride[8] = {};  // 0 where b broadcasts
  template <class F>
  void for_each(int64_t n, F&& f) const {
    int64_t idx[8] = {};
    int64_t boff = 0;
    for (int64_t i = 0; i < n; ++i) {
      f(i, boff);
      for (int d = rank - 1; d >= 0; --d) {
        if (++idx[d] < dims[d]) { boff += bstride[d]; break; }
        boff -= bstride[d] * (dims[d] - 1);
        idx[d] = 0;
      }
    }
  }
};

class MulF32 final : public PreparedOp {
 public:
  int64_t n = 0;
  Broadcast bc;
  void run(const OpBuffers& b) const override {
    const float* a = static_cast<const float*>(b.in[0]);
    const float* c = static_cast<const float*>(b.in[1]);
    float* y = static_cast<float*>(b.out[0]);
    bc.for_each(n, [&](int64_t i, int64_t j) { y[i] = a[i] * c[j]; });
  }
};

class MulS8 final : public PreparedOp {
 public:
  int64_t n = 0;
  Broadcast bc;
  int32_t za = 0, zb = 0, zo = 0, m = 0, s = 0, lo = -128, hi = 127;
  void run(const OpBuffers& b) const override {
    const int8_t* a = static_cast<const int8_t*>(b.in[0]);
    const int8_t* c = static_cast<const int8_t*>(b.in[1]);
    int8_t* y = static_cast<int8_t*>(b.out[0]);
    bc.for_each(n, [&](int64_t i, int64_t j) {
      const int64_t p = int64_t(a[i] - za) * int64_t(c[j] - zb);
      y[i] = int8_t(clamp_i32(rescale(p, m, s) + zo, lo, hi));
    });
  }
};

Result<std::unique_ptr<PreparedOp>> create(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(2, 2, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({"multiplier", "shift", "act_min", "act_max"}));
  const Value& a = op.in(0);
  const Value& b = op.in(1);
  const Value& y = op.out(0);
  if (!(a.shape == y.shape)) return op.error("output must be shaped like a " + a.shape.str() + ", got " + y.describe());
  if (b.shape.rank != a.shape.rank) return op.error("b " + b.shape.str() + " must have a's rank " + a.shape.str());
  Broadcast bc;
  bc.rank = a.shape.rank;
  int64_t stride = 1;
  for (int d = a.shape.rank - 1; d >= 0; --d) {
    if (b.shape[d] != a.shape[d] && b.shape[d] != 1)
      return op.error("b " + b.shape.str() + " does not broadcast to a " + a.shape.str());
    bc.dims[d] = a.shape[d];
    bc.bstride[d] = b.shape[d] == 1 ? 0 : stride;
    stride *= b.shape[d];
  }
  if (a.dtype != b.dtype || a.dtype != y.dtype) return op.error("a, b and output must share a dtype");
  if (a.dtype == DType::f32) {
    auto k = std::make_unique<MulF32>();
    k->n = a.shape.elements(); k->bc = bc;
    k->set_work(k->n);
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  if (a.dtype == DType::i8) {
    const int64_t m = op.attr_int("multiplier", -1), s = op.attr_int("shift", -1);
    if (m < 0 || m > INT32_MAX || s < 0 || s > 62) return op.error("int8 mul needs multiplier in 0..2^31-1 and shift in 0..62");
    const int64_t lo = op.attr_int("act_min", -128), hi = op.attr_int("act_max", 127);
    if (lo < -128 || hi > 127 || lo > hi) return op.error("act_min/act_max must satisfy -128 <= act_min <= act_max <= 127");
    auto k = std::make_unique<MulS8>();
    k->n = a.shape.elements(); k->bc = bc;
    k->za = a.zero_point; k->zb = b.zero_point; k->zo = y.zero_point;
    k->m = int32_t(m); k->s = int32_t(s); k->lo = int32_t(lo); k->hi = int32_t(hi);
    k->set_work(k->n);
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  return op.error("unsupported dtype " + std::string(dtype_name(a.dtype)));
}

}  // namespace

extern const KernelEntry kernel_mul{"mul", &create};

}  // namespace wv::kernels
