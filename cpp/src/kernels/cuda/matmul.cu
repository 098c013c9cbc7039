// matmul on CUDA, float32: a [..., M, K] @ b [..., K, N] -> y [..., M, N], equal batch dims (grid.z, looping past
// 65535), either operand a constant or an activation. Tile 64 x 64 x 16 per stage, 256 threads, 4 x 4 outputs each.
// Arithmetic: every output sums over k in increasing order from +0 with a separately rounded multiply and add
// (__fmul_rn, __fadd_rn: no contraction into FMA), exactly the CPU's loop (kernels/cpu/matmul.cpp, compiled without
// FMA contraction on x86-64), so outputs equal an x86-64 CPU session's bit for bit. Where the CPU compiler contracts
// into FMA (aarch64) the bound is |y_cuda - y_cpu| <= 1e-5 sum_k |a_k b_k| + 1e-6, which
// tests/runtime/test_cuda_gemm_ops.py checks everywhere.
#include <cuda_runtime.h>

#include <algorithm>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv2d_implicit_gemm.hpp"

namespace wv::cuda {
namespace {

constexpr int kBM = 64, kBN = 64, kBK = 16;
constexpr int kThreads = 256;
constexpr int kPadRow = kBM + 4;
constexpr int kLoads = kBM * kBK / kThreads;

struct MatMulParams {
  const float* a = nullptr;
  const float* b = nullptr;
  float* y = nullptr;
  int M, K, N, batch;
};

__global__ void __launch_bounds__(kThreads) matmul_f32_64x64x16(MatMulParams p) {
  __shared__ __align__(16) float As[kBK][kPadRow];
  __shared__ __align__(16) float Bs[kBK][kPadRow];
  const int tid = threadIdx.x;
  const int m0 = blockIdx.x * kBM, n0 = blockIdx.y * kBN;
  for (int t = blockIdx.z; t < p.batch; t += gridDim.z) {  // grid.z is capped at 65535 matrices
    const float* a = p.a + size_t(t) * p.M * p.K;
    const float* b = p.b + size_t(t) * p.K * p.N;
    float* y = p.y + size_t(t) * p.M * p.N;
    // A rows are read along k (16 threads per row), B rows along n (64 threads per row): both coalesced.
    const int ak = tid % kBK, am0 = tid / kBK;
    const int bn = tid % kBN, bk0 = tid / kBN;
    float ra[kLoads], rb[kLoads];
    auto load = [&](int k0) {
#pragma unroll
      for (int i = 0; i < kLoads; ++i) {
        const int m = m0 + am0 + i * (kThreads / kBK), k = k0 + ak;
        ra[i] = (m < p.M && k < p.K) ? a[size_t(m) * p.K + k] : 0.f;
        const int kb = k0 + bk0 + i * (kThreads / kBN), n = n0 + bn;
        rb[i] = (kb < p.K && n < p.N) ? b[size_t(kb) * p.N + n] : 0.f;
      }
    };
    const int tx = tid % 16, ty = tid / 16;
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) acc[i][j] = 0.f;
    load(0);
    for (int k0 = 0; k0 < p.K; k0 += kBK) {
#pragma unroll
      for (int i = 0; i < kLoads; ++i) {
        As[ak][am0 + i * (kThreads / kBK)] = ra[i];
        Bs[bk0 + i * (kThreads / kBN)][bn] = rb[i];
      }
      __syncthreads();
      if (k0 + kBK < p.K) load(k0 + kBK);
#pragma unroll
      for (int k = 0; k < kBK; ++k) {
        const float4 av4 = *reinterpret_cast<const float4*>(&As[k][ty * 4]);
        const float4 bv4 = *reinterpret_cast<const float4*>(&Bs[k][tx * 4]);
        const float av[4] = {av4.x, av4.y, av4.z, av4.w}, bv[4] = {bv4.x, bv4.y, bv4.z, bv4.w};
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
          for (int j = 0; j < 4; ++j) acc[i][j] = __fadd_rn(acc[i][j], __fmul_rn(av[i], bv[j]));
      }
      __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int m = m0 + ty * 4 + i;
      if (m >= p.M) continue;
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int n = n0 + tx * 4 + j;
        if (n < p.N) y[size_t(m) * p.N + n] = acc[i][j];
      }
    }
  }
}

class MatMulF32 final : public Op {
 public:
  using Op::set_work;
  MatMulParams params{};
  dim3 grid;

  void enqueue(const Buffers& b, void* stream) const override {
    MatMulParams p = params;
    p.a = static_cast<const float*>(b.in[0]);
    p.b = static_cast<const float*>(b.in[1]);
    p.y = static_cast<float*>(b.out[0]);
    if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;  // an empty product
    matmul_f32_64x64x16<<<grid, kThreads, 0, as_stream(stream)>>>(p);
  }
};

Result<std::unique_ptr<Op>> create_matmul(const OpView& op) {
  WV_RETURN_IF_ERROR(cpu_accepts(op));  // float32, one rank >= 2, equal batch dims, [..., M, K] @ [..., K, N]
  const Shape& as = op.in(0).shape;
  const int r = as.rank;
  int64_t batch = 1;
  for (int d = 0; d < r - 2; ++d) batch *= as[d];
  const int64_t M = as[r - 2], K = as[r - 1], N = op.in(1).shape[r - 1];
  const int64_t limit = int64_t(1) << 31;
  if (M * K >= limit || K * N >= limit || M * N >= limit) return unsupported(op, "matrices of 2^31 or more elements");
  if (batch >= limit) return unsupported(op, "2^31 or more matrices in the batch");
  if ((N + 63) / 64 > 65535) return unsupported(op, "N above 65535 * 64");
  auto k = std::make_unique<MatMulF32>();
  k->params.M = int(M); k->params.K = int(K); k->params.N = int(N); k->params.batch = int(batch);
  k->grid = dim3(unsigned((M + kBM - 1) / kBM), unsigned((N + kBN - 1) / kBN), unsigned(std::min<int64_t>(batch, 65535)));
  k->set_work(batch * M * K * N);
  return std::unique_ptr<Op>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_matmul = {"matmul", &create_matmul};

}  // namespace wv::cuda
