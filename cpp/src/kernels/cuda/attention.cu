// attention on the GPU: fused multi-head scaled dot-product attention, float32, the CPU's kernels/cpu/attention.cpp.
//   inputs q [B, L, D], k [B, S, D], v [B, S, D]; y[b, l, h*dh:(h+1)*dh] = softmax(q_h k_h^T / sqrt(dh)) v_h.
// One block per (batch, head, query row), the shapes of this network being small. The query slice and the S scores
// live in shared memory; when S + dh exceed its 48 KiB, the scores go to the op's device scratch instead (S floats
// per block) and the query is read from global memory. Each warp takes keys in turn (lanes split the head dimension,
// warp-shuffle sum), the block reduces max and sum, then each thread owns output features and accumulates
// p[s] * (1 / sum) * v[s] over s in the CPU's order without contraction.
// Bound: expf is full precision (<= 2 ulp) and the dot products' order differs from the CPU's: expect relative ~1e-6.
// Documented and tested bound, for unit-scale inputs and dh <= 128: rtol 1e-5, atol 1e-5 x max(1, max |y|).
// Reported unsupported: scores that fit neither in shared memory nor in 256 MiB of scratch (B x heads x L x S x 4
// bytes), and more than 2^31 - 1 query rows.
#include <cmath>
#include <memory>

#include "kernels/cuda/common.cuh"

namespace wv::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;
constexpr size_t kMaxSharedBytes = 48 * 1024;  // without opting in per kernel
constexpr size_t kMaxScratchBytes = size_t(256) << 20;

struct Dims {
  long long B = 0, L = 0, S = 0, D = 0, H = 0, dh = 0;
  float scale = 1.f;
};

// Reduce across the block: max when `is_max`, sum otherwise. Result returned to every thread.
__device__ __forceinline__ float block_reduce(float v, bool is_max, float* part) {
  for (int o = 16; o > 0; o >>= 1) {
    const float w = __shfl_xor_sync(0xffffffffu, v, o);
    v = is_max ? (w > v ? w : v) : v + w;
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();  // part[] may still be read by a previous reduction
  if (lane == 0) part[warp] = v;
  __syncthreads();
  v = part[0];
  for (int w = 1; w < kWarps; ++w) v = is_max ? (part[w] > v ? part[w] : v) : v + part[w];
  return v;
}

// kInShared: scores and query in dynamic shared memory; otherwise scores in `scratch` (S per block), query global.
template <bool kInShared>
__global__ void __launch_bounds__(kThreads) attention_kernel(Dims g, const float* q, const float* k, const float* v, float* y,
                                                             float* scratch) {
  extern __shared__ float shared[];
  __shared__ float part[kWarps];
  const long long row = blockIdx.x;  // (b * H + h) * L + l
  const long long l = row % g.L, h = (row / g.L) % g.H, b = row / (g.L * g.H);
  const float* qrow = q + (b * g.L + l) * g.D + h * g.dh;
  float* p = kInShared ? shared : scratch + row * g.S;  // S scores
  const float* ql = qrow;                                // dh query values
  if (kInShared) {
    float* staged = shared + g.S;
    for (long long i = threadIdx.x; i < g.dh; i += kThreads) staged[i] = qrow[i];
    ql = staged;
  }
  __syncthreads();

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (long long s = warp; s < g.S; s += kWarps) {
    const float* ks = k + (b * g.S + s) * g.D + h * g.dh;
    float dot = 0.f;
    for (long long i = lane; i < g.dh; i += 32) dot += ql[i] * ks[i];
    for (int o = 16; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
    if (lane == 0) p[s] = dot * g.scale;
  }
  __syncthreads();

  float mx = -INFINITY;
  for (long long s = threadIdx.x; s < g.S; s += kThreads) mx = p[s] > mx ? p[s] : mx;
  mx = block_reduce(mx, true, part);
  float sum = 0.f;
  for (long long s = threadIdx.x; s < g.S; s += kThreads) {
    p[s] = expf(p[s] - mx);
    sum += p[s];
  }
  sum = block_reduce(sum, false, part);  // its barriers also publish p[]
  const float inv = 1.f / sum;

  float* yl = y + (b * g.L + l) * g.D + h * g.dh;
  for (long long i = threadIdx.x; i < g.dh; i += kThreads) {
    float acc = 0.f;
    for (long long s = 0; s < g.S; ++s)
      acc = __fadd_rn(acc, __fmul_rn(__fmul_rn(p[s], inv), v[(b * g.S + s) * g.D + h * g.dh + i]));
    yl[i] = acc;
  }
}

class AttentionOp final : public Op {
 public:
  using Op::set_work;
  using Op::set_scratch_bytes;
  Dims g;
  bool in_shared = true;  // scores and query in shared memory; otherwise scores in scratch
  size_t shared_bytes = 0;
  void enqueue(const Buffers& b, void* stream) const override {
    const long long blocks = g.B * g.H * g.L;
    if (blocks == 0 || g.dh == 0) return;
    const auto* q = static_cast<const float*>(b.in[0]);
    const auto* k = static_cast<const float*>(b.in[1]);
    const auto* v = static_cast<const float*>(b.in[2]);
    auto* y = static_cast<float*>(b.out[0]);
    if (in_shared)
      attention_kernel<true><<<unsigned(blocks), kThreads, shared_bytes, as_stream(stream)>>>(g, q, k, v, y, nullptr);
    else
      attention_kernel<false><<<unsigned(blocks), kThreads, 0, as_stream(stream)>>>(g, q, k, v, y, static_cast<float*>(b.scratch));
  }
};

Result<std::unique_ptr<Op>> create_attention(const OpView& op) {
  // The CPU kernel's checks are the engine format's rules; what it accepts, this kernel runs.
  WV_RETURN_IF_ERROR(cpu_accepts(op));
  const Value& q = op.in(0);
  const Value& k = op.in(1);
  auto a = std::make_unique<AttentionOp>();
  Dims& g = a->g;
  g.B = q.shape[0]; g.L = q.shape[1]; g.S = k.shape[1]; g.D = q.shape[2];
  g.H = op.attr_int("num_heads", 1);
  g.dh = g.D / g.H;
  g.scale = 1.f / std::sqrt(float(g.dh));
  if (g.B * g.H * g.L > 0x7fffffffLL) return Status(Code::unsupported, "attention over more than 2^31 - 1 query rows");
  a->shared_bytes = size_t(g.S + g.dh) * sizeof(float);
  if (a->shared_bytes > kMaxSharedBytes - kWarps * sizeof(float)) {
    a->in_shared = false;
    a->shared_bytes = 0;
    const double scratch = double(g.B * g.H * g.L) * double(g.S) * sizeof(float);
    if (scratch > double(kMaxScratchBytes))
      return Status(Code::unsupported, "attention with " + std::to_string(g.B * g.H * g.L) + " query rows over " + std::to_string(g.S) +
                                           " keys: its scores need more than 256 MiB of device scratch");
    a->set_scratch_bytes(size_t(scratch));
  }
  a->set_work(2 * g.B * g.L * g.S * g.D);
  return std::unique_ptr<Op>(std::move(a));
}

}  // namespace

extern const KernelEntry kernel_attention = {"attention", &create_attention};

}  // namespace wv::cuda
