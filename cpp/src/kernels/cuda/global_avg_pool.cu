// global_avg_pool on the GPU: x [N, C, H, W] -> y [N, C] (or [N, C, 1, 1]), the CPU's kernels/cpu/global_avg_pool.cpp.
// One block per plane (H*W contiguous values), strided loads, warp-shuffle then shared-memory reduction.
//   int8:  v = rescale(sum(x - z_x), multiplier, shift) + z_out in exact integers: bit-identical.
//   float: sum * (1 / (H*W)); the sum's order differs from the CPU's sequential one, so expect relative ~sqrt(H*W)
//          ulp; documented and tested bound: rtol 1e-5, atol 1e-6 x max(1, max |y|) for planes up to 2^16 pixels.
#include <memory>

#include "kernels/cuda/common.cuh"

namespace wv::cuda {
namespace {

template <class T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); the result is valid in thread 0.
template <class T>
__device__ __forceinline__ T block_sum(T v) {
  __shared__ T part[32];
  v = warp_sum(v);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) part[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < (int)(blockDim.x >> 5) ? part[lane] : T(0);
    v = warp_sum(v);
  }
  return v;
}

__global__ void gap_s8_kernel(long long hw, int zx, int zo, int m, int s, const int8_t* x, int8_t* y) {
  const int8_t* xp = x + (long long)blockIdx.x * hw;
  long long sum = 0;
  for (long long i = threadIdx.x; i < hw; i += blockDim.x) sum += xp[i] - zx;
  sum = block_sum(sum);
  if (threadIdx.x == 0) y[blockIdx.x] = int8_t(clamp_i32(rescale(sum, m, s) + zo, -128, 127));
}

__global__ void gap_f32_kernel(long long hw, float inv, const float* x, float* y) {
  const float* xp = x + (long long)blockIdx.x * hw;
  float sum = 0.f;
  for (long long i = threadIdx.x; i < hw; i += blockDim.x) sum += xp[i];
  sum = block_sum(sum);
  if (threadIdx.x == 0) y[blockIdx.x] = sum * inv;
}

class GlobalAvgPoolOp final : public Op {
 public:
  using Op::set_work;
  long long planes = 0, hw = 0;
  int threads = 32;
  bool int8 = false;
  int zx = 0, zo = 0, m = 0, s = 0;
  void enqueue(const Buffers& b, void* stream) const override {
    if (planes == 0) return;
    if (int8)
      gap_s8_kernel<<<unsigned(planes), threads, 0, as_stream(stream)>>>(hw, zx, zo, m, s, static_cast<const int8_t*>(b.in[0]),
                                                                         static_cast<int8_t*>(b.out[0]));
    else
      gap_f32_kernel<<<unsigned(planes), threads, 0, as_stream(stream)>>>(hw, 1.f / float(hw), static_cast<const float*>(b.in[0]),
                                                                          static_cast<float*>(b.out[0]));
  }
};

Result<std::unique_ptr<Op>> create_global_avg_pool(const OpView& op) {
  // The CPU kernel's checks are the engine format's rules; what it accepts, this kernel runs.
  WV_RETURN_IF_ERROR(cpu_accepts(op));
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  if (x.layout != Layout::nchw || y.layout != Layout::nchw) return Status(Code::unsupported, "global_avg_pool of an NHWC value");
  auto k = std::make_unique<GlobalAvgPoolOp>();
  k->planes = x.shape[0] * x.shape[1];
  k->hw = x.shape[2] * x.shape[3];
  if (k->planes > 0x7fffffffLL) return Status(Code::unsupported, "global_avg_pool over more than 2^31 - 1 planes");
  // Enough threads for the plane, a whole number of warps, at most 256.
  const long long want = (k->hw + 31) / 32 * 32;
  k->threads = int(want < 32 ? 32 : (want > 256 ? 256 : want));
  if (x.dtype == DType::i8) {
    k->int8 = true;
    k->zx = x.zero_point; k->zo = y.zero_point;
    k->m = int(op.attr_int("multiplier", -1)); k->s = int(op.attr_int("shift", -1));
  }
  k->set_work(k->planes * k->hw);
  return std::unique_ptr<Op>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_global_avg_pool = {"global_avg_pool", &create_global_avg_pool};

}  // namespace wv::cuda
