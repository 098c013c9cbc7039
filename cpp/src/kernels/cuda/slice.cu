// slice on the GPU: y = x[..., start : start + count * step : step, ...] along one axis, the CPU's
// kernels/cpu/slice.cpp (a byte copy, bit-identical). The output is [outer * count] rows of inner_bytes each; a
// thread copies one unit of the widest width (16, 8, 4, 2 or 1 bytes) that divides a row and both addresses.
#include <memory>

#include "kernels/cuda/common.cuh"

namespace wv::cuda {
namespace {

struct SliceGeometry {
  long long outer = 1, in_extent = 0, count = 0, start = 0, step = 1, inner_bytes = 0;
};

template <class U>
__global__ void slice_kernel(SliceGeometry g, const U* x, U* y) {
  const long long row_units = g.inner_bytes / (long long)sizeof(U);
  const long long n = g.outer * g.count * row_units;
  WV_GRID_STRIDE(j, n) {
    const long long row = j / row_units, col = j - row * row_units;
    const long long o = row / g.count, c = row - o * g.count;
    y[j] = x[(o * g.in_extent + g.start + c * g.step) * row_units + col];
  }
}

class SliceOp final : public Op {
 public:
  using Op::set_work;
  SliceGeometry g;
  template <class U>
  void launch(const Buffers& b, cudaStream_t s) const {
    const long long n = g.outer * g.count * (g.inner_bytes / (long long)sizeof(U));
    slice_kernel<U><<<blocks_for(n), 256, 0, s>>>(g, static_cast<const U*>(b.in[0]), static_cast<U*>(b.out[0]));
  }
  void enqueue(const Buffers& b, void* stream) const override {
    if (g.outer * g.count * g.inner_bytes == 0) return;
    const uintptr_t a = reinterpret_cast<uintptr_t>(b.in[0]) | reinterpret_cast<uintptr_t>(b.out[0]) | uintptr_t(g.inner_bytes);
    const cudaStream_t s = as_stream(stream);
    if (a % 16 == 0) launch<uint4>(b, s);
    else if (a % 8 == 0) launch<uint2>(b, s);
    else if (a % 4 == 0) launch<uint32_t>(b, s);
    else if (a % 2 == 0) launch<uint16_t>(b, s);
    else launch<uint8_t>(b, s);
  }
};

Result<std::unique_ptr<Op>> create_slice(const OpView& op) {
  // The CPU kernel's checks are the engine format's rules; what it accepts, this kernel runs.
  WV_RETURN_IF_ERROR(cpu_accepts(op));
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  if (x.layout != Layout::nchw || y.layout != Layout::nchw) return Status(Code::unsupported, "slice of an NHWC value");
  const int r = x.shape.rank;
  int64_t axis = op.attr_int("axis", 0);
  if (axis < 0) axis += r;
  auto k = std::make_unique<SliceOp>();
  long long inner = 1;
  for (int d = 0; d < r; ++d) {
    if (d < axis) k->g.outer *= x.shape[d];
    if (d > axis) inner *= x.shape[d];
  }
  k->g.in_extent = x.shape[int(axis)];
  k->g.count = y.shape[int(axis)];
  k->g.start = op.attr_int("start", 0);
  k->g.step = op.attr_int("step", 1);
  k->g.inner_bytes = inner * (long long)dtype_size(x.dtype);
  k->set_work(y.shape.elements());
  return std::unique_ptr<Op>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_slice = {"slice", &create_slice};

}  // namespace wv::cuda
