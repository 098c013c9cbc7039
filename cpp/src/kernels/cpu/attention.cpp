// attention: fused multi-head scaled dot-product attention, float32.
//   inputs: 0 q [B, L, D], 1 k [B, S, D], 2 v [B, S, D]; attribute num_heads (divides D).
//   y[b, l, h*dh:(h+1)*dh] = softmax(q_h k_h^T / sqrt(dh)) v_h. Projections are separate linear ops.
#include <cmath>

#include "plan/kernel.hpp"

namespace wv::kernels {
namespace {

class Attention final : public PreparedOp {
 public:
  int64_t B = 0, L = 0, S = 0, D = 0, H = 0, dh = 0;
  float scale = 1.f;
  void run(const OpBuffers& bufs) const override {
    const float* q = static_cast<const float*>(bufs.in[0]);
    const float* k = static_cast<const float*>(bufs.in[1]);
    const float* v = static_cast<const float*>(bufs.in[2]);
    float* y = static_cast<float*>(bufs.out[0]);
    float* p = static_cast<float*>(bufs.scratch);  // S scores
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t l = 0; l < L; ++l) {
          const float* ql = q + (b * L + l) * D + h * dh;
          float mx = -INFINITY;
          for (int64_t s = 0; s < S; ++s) {
            const float* ks = k + (b * S + s) * D + h * dh;
            float dot = 0.f;
            for (int64_t i = 0; i < dh; ++i) dot += ql[i] * ks[i];
            p[s] = dot * scale;
            mx = p[s] > mx ? p[s] : mx;
          }
          float sum = 0.f;
          for (int64_t s = 0; s < S; ++s) {
            p[s] = std::exp(p[s] - mx);
            sum += p[s];
          }
          const float inv = 1.f / sum;
          float* yl = y + (b * L + l) * D + h * dh;
          for (int64_t i = 0; i < dh; ++i) yl[i] = 0.f;
          for (int64_t s = 0; s < S; ++s) {
            const float w = p[s] * inv;
            const float* vs = v + (b * S + s) * D + h * dh;
            for (int64_t i = 0; i < dh; ++i) yl[i] += w * vs[i];
          }
        }
  }
};

Result<std::unique_ptr<PreparedOp>> create(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(3, 3, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({"num_heads"}));
  const Value& q = op.in(0);
  const Value& k = op.in(1);
  const Value& v = op.in(2);
  const Value& y = op.out(0);
  for (const Value* t : {&q, &k, &v, &y})
    if (t->dtype != DType::f32 || t->shape.rank != 3) return op.error("q, k, v and output must be float32 [B, L, D], got " + t->describe());
  if (!(k.shape == v.shape) || !(q.shape == y.shape) || k.shape[0] != q.shape[0] || k.shape[2] != q.shape[2])
    return op.error("shapes q " + q.shape.str() + ", k " + k.shape.str() + ", v " + v.shape.str() + ", y " + y.shape.str() + " do not fit");
  auto a = std::make_unique<Attention>();
  a->B = q.shape[0]; a->L = q.shape[1]; a->S = k.shape[1]; a->D = q.shape[2];
  a->H = op.attr_int("num_heads", 1);
  if (a->H < 1 || a->D % a->H) return op.error("num_heads must divide D = " + std::to_string(a->D));
  a->dh = a->D / a->H;
  a->scale = 1.f / std::sqrt(float(a->dh));
  a->set_scratch_bytes(size_t(a->S) * 4);
  a->set_work(2 * a->B * a->L * a->S * a->D);
  return std::unique_ptr<PreparedOp>(std::move(a));
}

}  // namespace

extern const KernelEntry kernel_attention{"attention", &create};

}  // namespace wv::kernels
