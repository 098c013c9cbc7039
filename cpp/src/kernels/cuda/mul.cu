// mul on the GPU: y = a * b with b broadcast to a's shape, the CPU's kernels/cpu/mul.cpp.
//   int8:  y = clamp(rescale((a - z_a) (b - z_b), multiplier, shift) + z_y, act_min, act_max): bit-identical.
//   float: y = a * b, one IEEE multiply: bit-identical (documented bound 0).
// One thread per output element; b's offset comes from a's index through the dims b spans (adjacent dims that
// broadcast alike are merged at creation, so a typical per-channel scale costs one division and one modulo).
#include <memory>

#include "kernels/cuda/common.cuh"

namespace wv::cuda {
namespace {

// a's dims (outermost first) and b's stride along each (0 where b broadcasts), after merging.
struct Broadcast {
  int rank = 0;
  long long dims[6] = {1, 1, 1, 1, 1, 1};
  long long bstride[6] = {0, 0, 0, 0, 0, 0};
  __device__ __forceinline__ long long b_offset(long long i) const {
    long long off = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const long long q = i / dims[d];
      off += (i - q * dims[d]) * bstride[d];
      i = q;
    }
    return off;
  }
};

struct MulS8Params {
  int za = 0, zb = 0, zo = 0, m = 0, s = 0, lo = -128, hi = 127;
};

__global__ void mul_s8_kernel(long long n, Broadcast bc, MulS8Params p, const int8_t* a, const int8_t* b, int8_t* y) {
  WV_GRID_STRIDE(i, n) {
    const long long prod = ((long long)a[i] - p.za) * ((long long)b[bc.b_offset(i)] - p.zb);
    y[i] = int8_t(clamp_i32(rescale(prod, p.m, p.s) + p.zo, p.lo, p.hi));
  }
}

__global__ void mul_f32_kernel(long long n, Broadcast bc, const float* a, const float* b, float* y) {
  WV_GRID_STRIDE(i, n) y[i] = a[i] * b[bc.b_offset(i)];
}

class MulOp final : public Op {
 public:
  using Op::set_work;
  long long n = 0;
  Broadcast bc;
  bool int8 = false;
  MulS8Params p;
  void enqueue(const Buffers& b, void* stream) const override {
    if (n == 0) return;
    if (int8)
      mul_s8_kernel<<<blocks_for(n), 256, 0, as_stream(stream)>>>(n, bc, p, static_cast<const int8_t*>(b.in[0]),
                                                                  static_cast<const int8_t*>(b.in[1]), static_cast<int8_t*>(b.out[0]));
    else
      mul_f32_kernel<<<blocks_for(n), 256, 0, as_stream(stream)>>>(n, bc, static_cast<const float*>(b.in[0]),
                                                                   static_cast<const float*>(b.in[1]), static_cast<float*>(b.out[0]));
  }
};

// Merges adjacent dims where b is either contiguous across both or broadcast across both.
Broadcast merged_broadcast(const Shape& a, const Shape& b) {
  Broadcast bc;
  long long stride = 1;
  long long dims[6], bstride[6];
  for (int d = a.rank - 1; d >= 0; --d) {
    dims[d] = a[d];
    bstride[d] = b[d] == 1 ? 0 : stride;
    stride *= b[d];
  }
  for (int d = 0; d < a.rank; ++d) {
    if (dims[d] == 1) continue;  // contributes nothing
    if (bc.rank > 0) {
      const int t = bc.rank - 1;
      const bool both_broadcast = bc.bstride[t] == 0 && bstride[d] == 0;
      const bool contiguous = bstride[d] != 0 && bc.bstride[t] == bstride[d] * dims[d];
      if (both_broadcast || contiguous) {
        bc.dims[t] *= dims[d];
        bc.bstride[t] = bstride[d];
        continue;
      }
    }
    bc.dims[bc.rank] = dims[d];
    bc.bstride[bc.rank] = bstride[d];
    ++bc.rank;
  }
  return bc;  // rank 0 (a single element): b_offset is 0
}

Result<std::unique_ptr<Op>> create_mul(const OpView& op) {
  // The CPU kernel's checks are the engine format's rules; what it accepts, this kernel runs.
  WV_RETURN_IF_ERROR(cpu_accepts(op));
  const Value& a = op.in(0);
  const Value& b = op.in(1);
  const Value& y = op.out(0);
  if (a.layout != Layout::nchw || b.layout != Layout::nchw || y.layout != Layout::nchw)
    return Status(Code::unsupported, "mul of NHWC values (the plan keeps mul's operands NCHW)");
  auto k = std::make_unique<MulOp>();
  k->n = a.shape.elements();
  k->bc = merged_broadcast(a.shape, b.shape);
  if (a.dtype == DType::i8) {
    k->int8 = true;
    k->p.za = a.zero_point; k->p.zb = b.zero_point; k->p.zo = y.zero_point;
    k->p.m = int(op.attr_int("multiplier", -1)); k->p.s = int(op.attr_int("shift", -1));
    k->p.lo = int(op.attr_int("act_min", -128)); k->p.hi = int(op.attr_int("act_max", 127));
  }
  k->set_work(k->n);
  return std::unique_ptr<Op>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_mul = {"mul", &create_mul};

}  // namespace wv::cuda
