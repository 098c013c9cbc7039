// permute on the GPU: y = x.transpose(perm) for rank <= 6, the CPU's kernels/cpu/permute.cpp (a byte copy, so
// bit-identical). Output dims that stay adjacent in the input are merged at creation and size-1 dims dropped, so an
// NCHW <-> NHWC-style permute is a batched 2-D transpose. Two kernels:
//   - the output's innermost dim is also the input's (reads and writes both run along it): one thread per element;
//   - otherwise (a transpose): 32 x 32 tiles through shared memory, read along the input's innermost dim and written
//     along the output's, so both sides stay coalesced.
#include <memory>

#include "kernels/cuda/common.cuh"

namespace wv::cuda {
namespace {

struct Walk {
  int rank = 0;
  long long dims[6] = {1, 1, 1, 1, 1, 1};  // output dims after merging, outermost first
  long long in_strides[6] = {0, 0, 0, 0, 0, 0};  // input stride (elements) of each
};

template <class T>
__global__ void permute_kernel(long long n, Walk w, const T* x, T* y) {
  WV_GRID_STRIDE(i, n) {
    long long rest = i, src = 0;
    for (int d = w.rank - 1; d >= 0; --d) {
      const long long q = rest / w.dims[d];
      src += (rest - q * w.dims[d]) * w.in_strides[d];
      rest = q;
    }
    y[i] = x[src];
  }
}

// The transpose view: the output dim `a` that is the input's innermost, the output's innermost dim `b`, and the
// other dims as a batch.
struct Tiles {
  long long a_extent = 1, b_extent = 1, a_out_stride = 1, b_in_stride = 1;
  int batch_rank = 0;
  long long batch_dims[4] = {1, 1, 1, 1}, batch_in[4] = {0, 0, 0, 0}, batch_out[4] = {0, 0, 0, 0};
  long long batches = 1;
};

constexpr int kTile = 32, kTileRows = 8;

template <class T>
__global__ void transpose_kernel(Tiles t, const T* x, T* y) {
  __shared__ T tile[kTile][kTile + 1];  // [b][a], padded against bank conflicts
  const long long a0 = (long long)blockIdx.y * kTile, b0 = (long long)blockIdx.x * kTile;
  for (long long batch = blockIdx.z; batch < t.batches; batch += gridDim.z) {
    long long in_base = 0, out_base = 0, rest = batch;
    for (int d = t.batch_rank - 1; d >= 0; --d) {
      const long long q = rest / t.batch_dims[d], r = rest - q * t.batch_dims[d];
      in_base += r * t.batch_in[d];
      out_base += r * t.batch_out[d];
      rest = q;
    }
    const long long a = a0 + threadIdx.x;
    for (int j = threadIdx.y; j < kTile; j += kTileRows) {
      const long long b = b0 + j;
      if (a < t.a_extent && b < t.b_extent) tile[j][threadIdx.x] = x[in_base + a + b * t.b_in_stride];
    }
    __syncthreads();
    const long long b = b0 + threadIdx.x;
    for (int j = threadIdx.y; j < kTile; j += kTileRows) {
      const long long a2 = a0 + j;
      if (a2 < t.a_extent && b < t.b_extent) y[out_base + a2 * t.a_out_stride + b] = tile[threadIdx.x][j];
    }
    __syncthreads();  // the tile is reused by the next batch
  }
}

class PermuteOp final : public Op {
 public:
  using Op::set_work;
  long long n = 0;
  size_t elem = 1;
  Walk w;
  bool tiled = false;
  Tiles t;
  void enqueue(const Buffers& b, void* stream) const override {
    if (n == 0) return;
    const cudaStream_t s = as_stream(stream);
    if (tiled) {
      const long long bz = t.batches < 65535 ? t.batches : 65535;
      const dim3 grid(unsigned((t.b_extent + kTile - 1) / kTile), unsigned((t.a_extent + kTile - 1) / kTile), unsigned(bz));
      const dim3 block(kTile, kTileRows);
      if (elem == 4)
        transpose_kernel<uint32_t><<<grid, block, 0, s>>>(t, static_cast<const uint32_t*>(b.in[0]), static_cast<uint32_t*>(b.out[0]));
      else
        transpose_kernel<uint8_t><<<grid, block, 0, s>>>(t, static_cast<const uint8_t*>(b.in[0]), static_cast<uint8_t*>(b.out[0]));
      return;
    }
    if (elem == 4)
      permute_kernel<uint32_t><<<blocks_for(n), 256, 0, s>>>(n, w, static_cast<const uint32_t*>(b.in[0]), static_cast<uint32_t*>(b.out[0]));
    else
      permute_kernel<uint8_t><<<blocks_for(n), 256, 0, s>>>(n, w, static_cast<const uint8_t*>(b.in[0]), static_cast<uint8_t*>(b.out[0]));
  }
};

Result<std::unique_ptr<Op>> create_permute(const OpView& op) {
  // The CPU kernel's checks are the engine format's rules; what it accepts, this kernel runs.
  WV_RETURN_IF_ERROR(cpu_accepts(op));
  const Value& x = op.in(0);
  if (x.layout != Layout::nchw || op.out(0).layout != Layout::nchw)
    return Status(Code::unsupported, "permute of an NHWC value");
  const size_t elem = dtype_size(x.dtype);
  if (elem != 1 && elem != 4) return Status(Code::unsupported, "permute of " + std::to_string(elem) + "-byte elements");
  const int rank = x.shape.rank;
  long long stride[6];
  stride[rank - 1] = 1;
  for (int d = rank - 2; d >= 0; --d) stride[d] = stride[d + 1] * x.shape[d + 1];
  const char* key[6] = {"perm0", "perm1", "perm2", "perm3", "perm4", "perm5"};
  auto k = std::make_unique<PermuteOp>();
  for (int d = 0; d < rank; ++d) {
    const long long dim = x.shape[int(op.attr_int(key[d], 0))], st = stride[op.attr_int(key[d], 0)];
    if (dim == 1) continue;
    Walk& w = k->w;
    if (w.rank > 0 && w.in_strides[w.rank - 1] == st * dim) {  // adjacent in the input too: one longer dim
      w.dims[w.rank - 1] *= dim;
      w.in_strides[w.rank - 1] = st;
      continue;
    }
    w.dims[w.rank] = dim;
    w.in_strides[w.rank] = st;
    ++w.rank;
  }
  k->n = x.shape.elements();
  k->elem = elem;
  // A transpose when the output's innermost dim is not the input's: tile it if the grid fits.
  const Walk& w = k->w;
  int a = -1;
  for (int d = 0; d + 1 < w.rank; ++d)
    if (w.in_strides[d] == 1) a = d;
  if (w.rank >= 2 && w.in_strides[w.rank - 1] != 1 && a >= 0) {
    Tiles& t = k->t;
    long long out_stride[6];
    out_stride[w.rank - 1] = 1;
    for (int d = w.rank - 2; d >= 0; --d) out_stride[d] = out_stride[d + 1] * w.dims[d + 1];
    t.a_extent = w.dims[a]; t.a_out_stride = out_stride[a];
    t.b_extent = w.dims[w.rank - 1]; t.b_in_stride = w.in_strides[w.rank - 1];
    for (int d = 0; d + 1 < w.rank; ++d) {
      if (d == a) continue;
      t.batch_dims[t.batch_rank] = w.dims[d];
      t.batch_in[t.batch_rank] = w.in_strides[d];
      t.batch_out[t.batch_rank] = out_stride[d];
      t.batches *= w.dims[d];
      ++t.batch_rank;
    }
    k->tiled = (t.b_extent + kTile - 1) / kTile <= 0x7fffffffLL && (t.a_extent + kTile - 1) / kTile <= 65535;
  }
  k->set_work(int64_t(x.bytes));
  return std::unique_ptr<Op>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_permute = {"permute", &create_permute};

}  // namespace wv::cuda
