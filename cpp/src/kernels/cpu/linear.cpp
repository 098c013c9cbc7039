// linear: y[..., Co] = x[..., K] W^T with the fused epilogue, float32 and int8.
//   inputs: 0 x [..., K], 1 weight [Co, K], 2 bias, 3 multiplier, 4 shift, 5 residual, 6 LUT
// Rows of x are the GEMM's M dimension so the output comes out row-major with no transpose;
// the weight is repacked once at load (pair-interleaved int16, or transposed float).
#include <algorithm>
#include <vector>

#include "kernels/cpu/epilogue.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/requantize_row.hpp"

namespace wv::kernels {
namespace {

class LinearS8 final : public PreparedOp {
 public:
  int64_t rows = 0, K = 0, Kp = 0, Co = 0, tile = 0;
  int32_t zero = 0;
  std::vector<int16_t> weights;  // [Kp/2][Co][2]
  QuantEpilogue ep;
  GemmS16Fn gemm = nullptr;
  QuantRowFn quant_row = nullptr;

  size_t a_bytes() const { return size_t((tile * Kp * 2 + 63) / 64 * 64); }
  void run(const OpBuffers& b) const override {
    const int8_t* x = static_cast<const int8_t*>(b.in[0]);
    const int8_t* r = ep.residual ? static_cast<const int8_t*>(b.in[kSlotResidual]) : nullptr;
    int8_t* y = static_cast<int8_t*>(b.out[0]);
    int16_t* a = static_cast<int16_t*>(b.scratch);
    int32_t* acc = reinterpret_cast<int32_t*>(static_cast<char*>(b.scratch) + a_bytes());
    for (int64_t r0 = 0; r0 < rows; r0 += tile) {
      const int64_t nt = std::min(tile, rows - r0);
      for (int64_t i = 0; i < nt; ++i) {
        const int8_t* xr = x + (r0 + i) * K;
        int16_t* ar = a + i * Kp;
        for (int64_t k = 0; k < K; ++k) ar[k] = int16_t(xr[k] - zero);
        for (int64_t k = K; k < Kp; ++k) ar[k] = 0;
      }
      gemm(int(nt), int(Co), int(Kp), a, weights.data(), acc, int(Co));
      for (int64_t i = 0; i < nt; ++i) {
        const int64_t base = (r0 + i) * Co;
        quant_row(ep, acc + i * Co, Co, 0, 1, r ? r + base : nullptr, y + base);
      }
    }
  }
};

class LinearF32 final : public PreparedOp {
 public:
  int64_t rows = 0, K = 0, Co = 0;
  std::vector<float> weights_t;  // [K][Co]
  FloatEpilogue ep;
  GemmF32Fn gemm = nullptr;

  void run(const OpBuffers& b) const override {
    const float* x = static_cast<const float*>(b.in[0]);
    const float* r = ep.residual ? static_cast<const float*>(b.in[kSlotResidual]) : nullptr;
    float* y = static_cast<float*>(b.out[0]);
    gemm(int(rows), int(Co), int(K), x, weights_t.data(), y, int(Co));
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t c = 0; c < Co; ++c) {
        float& v = y[i * Co + c];
        v = activate(ep.activation, v + (ep.bias ? ep.bias[c] : 0.f) + (r ? r[i * Co + c] : 0.f));
      }
  }
};

Result<std::unique_ptr<PreparedOp>> create(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(2, 7, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({WV_EPILOGUE_ATTRS}));
  const Value& x = op.in(0);
  const Value& w = op.in(1);
  const Value& y = op.out(0);
  if (w.kind != format::kConstant || w.shape.rank != 2) return op.error("weight must be a rank-2 constant [Co, K], got " + w.describe());
  const int64_t Co = w.shape[0], K = w.shape[1];
  if (x.shape.rank < 1 || x.shape[x.shape.rank - 1] != K)
    return op.error("input " + x.describe() + " must end in K = " + std::to_string(K));
  if (K > 16384) return op.error("K above 16384 is not supported");
  Shape expect = x.shape;
  expect.dims[expect.rank - 1] = Co;
  if (!(y.shape == expect)) return op.error("output " + y.shape.str() + " should be " + expect.str());
  const int64_t rows = x.shape.elements() / K;

  if (x.dtype == DType::i8) {
    if (w.dtype != DType::i8) return op.error("int8 input needs int8 weights, got " + w.describe());
    auto k = std::make_unique<LinearS8>();
    WV_RETURN_IF_ERROR(make_quant_epilogue(op, Co, &k->ep));
    k->rows = rows; k->K = K; k->Co = Co; k->Kp = (K + 1) / 2 * 2; k->zero = x.zero_point;
    k->weights.assign(size_t(k->Kp * Co), 0);
    const int8_t* wq = static_cast<const int8_t*>(w.data);
    for (int64_t c = 0; c < Co; ++c)
      for (int64_t kk = 0; kk < K; ++kk) k->weights[size_t((kk / 2) * Co * 2 + c * 2 + kk % 2)] = wq[c * K + kk];
    k->tile = std::min<int64_t>(rows, std::max<int64_t>(4, (64 * 1024) / (k->Kp * 2 + Co * 4)));
    k->gemm = select_gemm_s16();
    k->quant_row = select_quant_row();
    k->set_scratch_bytes(k->a_bytes() + size_t(k->tile * Co * 4));
    k->set_work(rows * Co * K);
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  if (x.dtype == DType::f32) {
    if (w.dtype != DType::f32) return op.error("float32 input needs float32 weights, got " + w.describe());
    auto k = std::make_unique<LinearF32>();
    WV_RETURN_IF_ERROR(make_float_epilogue(op, Co, &k->ep));
    k->rows = rows; k->K = K; k->Co = Co;
    k->weights_t.resize(size_t(K * Co));
    const float* wf = static_cast<const float*>(w.data);
    for (int64_t c = 0; c < Co; ++c)
      for (int64_t kk = 0; kk < K; ++kk) k->weights_t[size_t(kk * Co + c)] = wf[c * K + kk];
    k->gemm = select_gemm_f32();
    k->set_work(rows * Co * K);
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  return op.error("unsupported input dtype " + std::string(dtype_name(x.dtype)));
}

}  // namespace

extern const KernelEntry kernel_linear{"linear", &create};

}  // namespace wv::kernels
