// unary on the GPU: y = f(x) elementwise, the CPU's kernels/cpu/unary.cpp.
//   int8:  y = table[x + 128], the writer's 256-entry table (a constant input, on the device byte for byte):
//          bit-identical.
//   float: 1 sigmoid, 2 tanh, 3 silu, 4 gelu (erfc form), 5 hardswish, 6 hardsigmoid, in float32 with the CPU's
//          formulas. hardswish and hardsigmoid are bit-identical; the others use expf, tanhf, erfcf (CUDA's
//          full-precision versions: <= 2, 2, 4 ulp, no fast math) and are expected within relative 1e-6 of the CPU;
//          documented and tested bound: rtol 1e-5, atol 1e-6.
#include <memory>

#include "kernels/cuda/common.cuh"

namespace wv::cuda {
namespace {

__device__ __forceinline__ float unary_dev(int f, float x) {
  switch (f) {
    case 1: return 1.f / (1.f + expf(-x));
    case 2: return tanhf(x);
    case 3: return x / (1.f + expf(-x));
    case 4: return __fmul_rn(__fmul_rn(0.5f, x), erfcf(__fmul_rn(-x, 0.70710678118654752f)));
    case 5: return x * fminf(fmaxf(x + 3.f, 0.f), 6.f) / 6.f;
    case 6: return fminf(fmaxf(x + 3.f, 0.f), 6.f) / 6.f;
  }
  return x;
}

__global__ void unary_f32_kernel(long long n, int f, const float* x, float* y) {
  WV_GRID_STRIDE(i, n) y[i] = unary_dev(f, x[i]);
}

// y = lut[x + 128], four codes per thread through 32-bit accesses when the pointers allow.
__global__ void table_s8_kernel(long long n, const int8_t* x, const int8_t* lut, int8_t* y, bool vec4) {
  __shared__ int8_t t[256];
  for (int i = threadIdx.x; i < 256; i += blockDim.x) t[i] = lut[i];
  __syncthreads();
  if (vec4) {
    WV_GRID_STRIDE(i, n / 4) {
      const char4 v = reinterpret_cast<const char4*>(x)[i];
      reinterpret_cast<char4*>(y)[i] = make_char4(t[v.x + 128], t[v.y + 128], t[v.z + 128], t[v.w + 128]);
    }
    return;
  }
  WV_GRID_STRIDE(i, n) y[i] = t[x[i] + 128];
}

bool aligned4(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 3u) == 0; }

class UnaryOp final : public Op {
 public:
  using Op::set_work;
  long long n = 0;
  int function = 0;
  bool int8 = false;
  void enqueue(const Buffers& b, void* stream) const override {
    if (n == 0) return;
    if (int8) {
      const bool vec4 = n % 4 == 0 && aligned4(b.in[0]) && aligned4(b.out[0]);
      table_s8_kernel<<<blocks_for(vec4 ? n / 4 : n), 256, 0, as_stream(stream)>>>(
          n, static_cast<const int8_t*>(b.in[0]), static_cast<const int8_t*>(b.in[1]), static_cast<int8_t*>(b.out[0]), vec4);
    } else {
      unary_f32_kernel<<<blocks_for(n), 256, 0, as_stream(stream)>>>(n, function, static_cast<const float*>(b.in[0]),
                                                                     static_cast<float*>(b.out[0]));
    }
  }
};

Result<std::unique_ptr<Op>> create_unary(const OpView& op) {
  // The CPU kernel's checks are the engine format's rules; what it accepts, this kernel runs.
  WV_RETURN_IF_ERROR(cpu_accepts(op));
  const Value& x = op.in(0);
  if (x.layout != op.out(0).layout) return Status(Code::unsupported, "unary between NCHW and NHWC values");
  auto k = std::make_unique<UnaryOp>();
  k->n = x.shape.elements();
  k->function = int(op.attr_int("function", 0));
  k->int8 = x.dtype == DType::i8;
  k->set_work(k->n);
  return std::unique_ptr<Op>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_unary = {"unary", &create_unary};

}  // namespace wv::cuda
