// concat on the GPU along one axis, the CPU's kernels/cpu/concat.cpp (a byte copy, bit-identical). The output is
// [outer] rows of out_chunk bytes, each the inputs' chunks side by side; one launch for all inputs: a thread copies
// one unit of the widest width (16, 8, 4, 2 or 1 bytes) dividing every chunk and every address, and finds its input
// by binary search over the chunks' offsets in the row.
#include <memory>
#include <vector>

#include "kernels/cuda/common.cuh"

namespace wv::cuda {
namespace {

constexpr int kMaxInputs = 64;  // the CPU kernel's arity limit

struct ConcatArgs {
  const void* in[kMaxInputs];
  long long offset[kMaxInputs + 1];  // start of each input's chunk within an output row, in units; offset[count] = row
  int count;
  long long outer;
};

template <class U>
__global__ void concat_kernel(ConcatArgs a, U* y) {
  const long long row = a.offset[a.count];
  WV_GRID_STRIDE(j, a.outer * row) {
    const long long o = j / row, r = j - o * row;
    int lo = 0, hi = a.count - 1;  // the last input whose offset is <= r
    while (lo < hi) {
      const int mid = (lo + hi + 1) / 2;
      if (a.offset[mid] <= r) lo = mid; else hi = mid - 1;
    }
    const long long chunk = a.offset[lo + 1] - a.offset[lo];
    y[j] = static_cast<const U*>(a.in[lo])[o * chunk + (r - a.offset[lo])];
  }
}

class ConcatOp final : public Op {
 public:
  using Op::set_work;
  long long outer = 1;
  std::vector<long long> chunk;  // bytes per outer index, per input
  template <class U>
  void launch(const Buffers& b, cudaStream_t s) const {
    ConcatArgs a;
    a.count = int(chunk.size());
    a.outer = outer;
    a.offset[0] = 0;
    for (int i = 0; i < a.count; ++i) {
      a.in[i] = b.in[i];
      a.offset[i + 1] = a.offset[i] + chunk[size_t(i)] / (long long)sizeof(U);
    }
    concat_kernel<U><<<blocks_for(outer * a.offset[a.count]), 256, 0, s>>>(a, static_cast<U*>(b.out[0]));
  }
  void enqueue(const Buffers& b, void* stream) const override {
    uintptr_t bits = reinterpret_cast<uintptr_t>(b.out[0]);
    long long total = 0;
    for (size_t i = 0; i < chunk.size(); ++i) {
      bits |= reinterpret_cast<uintptr_t>(b.in[i]) | uintptr_t(chunk[i]);
      total += chunk[i];
    }
    if (outer * total == 0) return;
    const cudaStream_t s = as_stream(stream);
    if (bits % 16 == 0) launch<uint4>(b, s);
    else if (bits % 8 == 0) launch<uint2>(b, s);
    else if (bits % 4 == 0) launch<uint32_t>(b, s);
    else if (bits % 2 == 0) launch<uint16_t>(b, s);
    else launch<uint8_t>(b, s);
  }
};

Result<std::unique_ptr<Op>> create_concat(const OpView& op) {
  // The CPU kernel's checks are the engine format's rules; what it accepts, this kernel runs.
  WV_RETURN_IF_ERROR(cpu_accepts(op));
  const Value& y = op.out(0);
  if (y.layout != Layout::nchw) return Status(Code::unsupported, "concat into an NHWC value");
  int64_t axis = op.attr_int("axis", 0);
  if (axis < 0) axis += y.shape.rank;
  auto k = std::make_unique<ConcatOp>();
  long long inner = 1;
  for (int d = 0; d < int(axis); ++d) k->outer *= y.shape[d];
  for (int d = int(axis) + 1; d < y.shape.rank; ++d) inner *= y.shape[d];
  for (int i = 0; i < op.input_count(); ++i) {
    const Value& x = op.in(i);
    if (x.layout != Layout::nchw) return Status(Code::unsupported, "concat of an NHWC value");
    k->chunk.push_back(x.shape[int(axis)] * inner * (long long)dtype_size(x.dtype));
  }
  if (k->chunk.size() > size_t(kMaxInputs)) return Status(Code::unsupported, "concat of more than 64 inputs");
  k->set_work(int64_t(y.bytes));
  return std::unique_ptr<Op>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_concat = {"concat", &create_concat};

}  // namespace wv::cuda
