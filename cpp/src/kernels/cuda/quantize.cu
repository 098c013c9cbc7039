// quantize and dequantize on the GPU, the CPU's kernels/cpu/quantize.cpp. Every path is bit-identical to the CPU:
//   quantize float32 -> int8: q = clamp(round_half_away(x / scale) + zero, -128, 127) with the CPU's IEEE division
//                             and its integer rounding (no libm call, no fast math);
//   quantize uint8 -> int8:   y = table[c][x], c the channel (axis 1) when the table holds 256 entries per channel;
//   quantize int8 -> int8:    y = table[x + 128] (requantization);
//   dequantize int8 -> float: x = float(q - zero) * scale, one IEEE multiply.
// Tables are constant inputs, on the device byte for byte.
#include <memory>

#include "kernels/cuda/common.cuh"

namespace wv::cuda {
namespace {

__global__ void quantize_f32_kernel(long long n, float scale, int zero, const float* x, int8_t* y) {
  WV_GRID_STRIDE(i, n) {
    float r = x[i] / scale;
    const bool nan = !(r == r);
    r = r < -1024.f ? -1024.f : (r > 1024.f ? 1024.f : r);
    int q = int(nan ? 0.f : r);  // truncates toward zero
    const float frac = r - float(q);
    q += int(frac >= 0.5f) - int(frac <= -0.5f);
    q += zero;
    y[i] = int8_t(q < -128 ? -128 : (q > 127 ? 127 : q));
  }
}

__global__ void dequantize_kernel(long long n, float scale, int zero, const int8_t* x, float* y) {
  WV_GRID_STRIDE(i, n) y[i] = float(int(x[i]) - zero) * scale;
}

// uint8 bytes through one table per channel: x viewed as [outer, channels, inner]; channels = 1: one table.
__global__ void bytes_to_int8_kernel(long long n, long long channels, long long inner, const uint8_t* x,
                                     const int8_t* lut, int8_t* y) {
  WV_GRID_STRIDE(i, n) {
    const long long c = channels == 1 ? 0 : (i / inner) % channels;
    y[i] = __ldg(lut + c * 256 + x[i]);
  }
}

// int8 -> int8 at other parameters: y = table[x + 128], the table staged in shared memory.
__global__ void requantize_table_kernel(long long n, const int8_t* x, const int8_t* lut, int8_t* y) {
  __shared__ int8_t t[256];
  for (int i = threadIdx.x; i < 256; i += blockDim.x) t[i] = lut[i];
  __syncthreads();
  WV_GRID_STRIDE(i, n) y[i] = t[x[i] + 128];
}

enum class Path { f32_to_s8, u8_to_s8, s8_to_s8, s8_to_f32 };

class QuantizeOp final : public Op {
 public:
  using Op::set_work;
  Path path = Path::f32_to_s8;
  long long n = 0, channels = 1, inner = 1;
  float scale = 1.f;
  int zero = 0;
  void enqueue(const Buffers& b, void* stream) const override {
    if (n == 0) return;
    const cudaStream_t s = as_stream(stream);
    const unsigned grid = blocks_for(n);
    switch (path) {
      case Path::f32_to_s8:
        quantize_f32_kernel<<<grid, 256, 0, s>>>(n, scale, zero, static_cast<const float*>(b.in[0]), static_cast<int8_t*>(b.out[0]));
        break;
      case Path::u8_to_s8:
        bytes_to_int8_kernel<<<grid, 256, 0, s>>>(n, channels, inner, static_cast<const uint8_t*>(b.in[0]),
                                                  static_cast<const int8_t*>(b.in[1]), static_cast<int8_t*>(b.out[0]));
        break;
      case Path::s8_to_s8:
        requantize_table_kernel<<<grid, 256, 0, s>>>(n, static_cast<const int8_t*>(b.in[0]), static_cast<const int8_t*>(b.in[1]),
                                                     static_cast<int8_t*>(b.out[0]));
        break;
      case Path::s8_to_f32:
        dequantize_kernel<<<grid, 256, 0, s>>>(n, scale, zero, static_cast<const int8_t*>(b.in[0]), static_cast<float*>(b.out[0]));
        break;
    }
  }
};

Status same_layout(const OpView& op) {
  if (op.in(0).layout != op.out(0).layout)
    return Status(Code::unsupported, op.op().name + " between NCHW and NHWC values");
  return Status::Ok();
}

Result<std::unique_ptr<Op>> create_quantize(const OpView& op) {
  // The CPU kernel's checks are the engine format's rules; what it accepts, this kernel runs.
  WV_RETURN_IF_ERROR(cpu_accepts(op));
  WV_RETURN_IF_ERROR(same_layout(op));
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  auto k = std::make_unique<QuantizeOp>();
  k->n = x.shape.elements();
  if (x.dtype == DType::u8) {
    k->path = Path::u8_to_s8;
    const Value& l = op.in(1);
    if (l.shape.elements() != 256) {  // 256 per channel of axis 1 (the CPU checked the count)
      if (x.layout != Layout::nchw) return Status(Code::unsupported, "per-channel quantize of an NHWC value");
      k->channels = x.shape[1];
      const long long oc = x.shape[0] * x.shape[1];
      k->inner = oc ? k->n / oc : 1;  // n = 0 then: nothing is launched; avoid dividing by zero
      if (k->channels == 0) k->channels = 1;
    }
  } else if (x.dtype == DType::i8) {
    k->path = Path::s8_to_s8;
  } else {
    k->path = Path::f32_to_s8;
    k->scale = y.scale;
    k->zero = y.zero_point;
  }
  k->set_work(k->n);
  return std::unique_ptr<Op>(std::move(k));
}

Result<std::unique_ptr<Op>> create_dequantize(const OpView& op) {
  WV_RETURN_IF_ERROR(cpu_accepts(op));
  WV_RETURN_IF_ERROR(same_layout(op));
  const Value& x = op.in(0);
  auto k = std::make_unique<QuantizeOp>();
  k->path = Path::s8_to_f32;
  k->n = x.shape.elements();
  k->scale = x.scale;
  k->zero = x.zero_point;
  k->set_work(k->n);
  return std::unique_ptr<Op>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_quantize = {"quantize", &create_quantize};
extern const KernelEntry kernel_dequantize = {"dequantize", &create_dequantize};

}  // namespace wv::cuda
