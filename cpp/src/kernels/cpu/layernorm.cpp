// layernorm over the last dimension, float32: y = (x - mean) / sqrt(var + eps) * gamma + beta.
//   inputs: 0 x [..., D], 1 gamma [D], 2 beta [D]; attribute eps (default 1e-5).
#include <cmath>

#include "plan/kernel.hpp"

namespace wv::kernels {
namespace {

class LayerNorm final : public PreparedOp {
 public:
  int64_t rows = 0, D = 0;
  float eps = 1e-5f;
  const float* gamma = nullptr;
  const float* beta = nullptr;
  void run(const OpBuffers& b) const override {
    const float* x = static_cast<const float*>(b.in[0]);
    float* y = static_cast<float*>(b.out[0]);
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * D;
      float* yr = y + r * D;
      float mean = 0.f;
      for (int64_t i = 0; i < D; ++i) mean += xr[i];
      mean /= float(D);
      float var = 0.f;
      for (int64_t i = 0; i < D; ++i) var += (xr[i] - mean) * (xr[i] - mean);
      var /= float(D);
      const float inv = 1.f / std::sqrt(var + eps);
      for (int64_t i = 0; i < D; ++i) yr[i] = (xr[i] - mean) * inv * gamma[i] + beta[i];
    }
  }
};

Result<std::unique_ptr<PreparedOp>> create(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(3, 3, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({"eps"}));
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  if (x.dtype != DType::f32 || y.dtype != DType::f32) return op.error("layernorm runs in float32 (dequantize first)");
  if (!(x.shape == y.shape) || x.shape.rank < 1) return op.error("output must be shaped like the input " + x.shape.str());
  const int64_t D = x.shape[x.shape.rank - 1];
  for (int s = 1; s <= 2; ++s) {
    const Value& p = op.in(s);
    if (p.kind != format::kConstant || p.dtype != DType::f32 || p.shape.elements() != D)
      return op.error(std::string(s == 1 ? "gamma" : "beta") + " must be a float32 constant of " + std::to_string(D) + " elements");
  }
  const double eps = op.attr_float("eps", 1e-5);
  if (!(eps > 0.0) || !std::isfinite(eps)) return op.error("eps must be finite and > 0");
  auto k = std::make_unique<LayerNorm>();
  k->D = D; k->rows = x.shape.elements() / D; k->eps = float(eps);
  k->gamma = static_cast<const float*>(op.in(1).data);
  k->beta = static_cast<const float*>(op.in(2).data);
  k->set_work(x.shape.elements());
  return std::unique_ptr<PreparedOp>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_layernorm{"layernorm", &create};

}  // namespace wv::kernels
