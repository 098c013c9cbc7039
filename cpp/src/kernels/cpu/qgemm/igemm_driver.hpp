// The driver of the int8 micro-kernels: cuts an M x N indirect GEMM into tasks of row blocks x column blocks,
// runs them on the session's threads, and hands each finished register tile to the caller's epilogue while
// it is still in L1. Every output element is computed by exactly one task with the same arithmetic, so the
// result is bit-identical for any thread count.
#pragma once
#include <algorithm>
#include <cstdint>

#include "kernels/cpu/qgemm/ukernel.hpp"
#include "plan/kernel.hpp"
#include "runtime/thread_pool.hpp"

namespace wv::kernels::qgemm {

inline size_t align64(size_t n) { return (n + 63) / 64 * 64; }

// Row blocks whose pointers are built together: each column block's packed weights are then read once for
// kRowGroup register tiles (from L1) instead of once per tile.
constexpr int64_t kRowGroup = 4;

// Per-thread scratch the driver needs: kRowGroup * ks * mr row pointers, kRowGroup mr x nr int32 tiles, and ks
// pointers of one row (for run_row).
inline size_t driver_thread_scratch(const Ukernel& uk, int64_t ks) {
  return align64(size_t(kRowGroup * ks * uk.mr) * sizeof(void*)) +
         align64(size_t(kRowGroup * uk.mr * uk.nr) * sizeof(int32_t)) + align64(size_t(ks) * sizeof(void*));
}

// Column blocks per task: the packed weights one task sweeps stay within about half of L2.
inline int64_t columns_per_task(const PackedWeights& w) {
  return std::max<int64_t>(1, int64_t(256 * 1024 / std::max<size_t>(1, w.block_bytes)));
}

// fill_rows(row0, rows, ptrs): write the ks tap pointers of GEMM rows row0 + m to ptrs[t * mr + m] for m < mr,
// where rows m >= `rows` (past the problem's end) repeat row `rows - 1`.
// store(row0, rows, n0, cols, c): c (row stride nr) holds the accumulators of rows [row0, row0 + rows) x
// columns [n0, n0 + cols): up to kRowGroup register tiles stacked, so the epilogue's per-channel set-up is paid
// once per column block and row group.
template <typename FillRows, typename Store>
void run_igemm(const OpBuffers& b, const Ukernel& uk, const PackedWeights& w, int64_t M, int64_t N, FillRows fill_rows,
               Store store) {
  const int64_t mr = uk.mr, nr = uk.nr, ks = w.ks;
  const int64_t m_blocks = (M + mr - 1) / mr;
  const int64_t n_per = std::min<int64_t>(w.blocks, columns_per_task(w));
  const int64_t n_tasks = (w.blocks + n_per - 1) / n_per;
  // Enough row tasks to balance the threads, few enough that each reuses its pointers across column blocks
  // and that a small layer is not cut finer than a hand-off between threads is worth (~64 K MACs a task).
  const int64_t macs = M * N * w.kc * ks;
  const int64_t want = std::clamp<int64_t>(macs >> 16, 1, int64_t(b.pool->threads()) * 4);
  const int64_t m_tasks = std::clamp<int64_t>((want + n_tasks - 1) / n_tasks, 1, m_blocks);
  const int64_t m_per = (m_blocks + m_tasks - 1) / m_tasks;
  const int64_t tasks = ((m_blocks + m_per - 1) / m_per) * n_tasks;
  b.pool->parallel_for(tasks, [&](int64_t task, int thread) {
    unsigned char* ts = static_cast<unsigned char*>(b.thread_scratch_of(thread));
    const void** ptrs = reinterpret_cast<const void**>(ts);
    int32_t* c = reinterpret_cast<int32_t*>(ts + align64(size_t(kRowGroup * ks * mr) * sizeof(void*)));
    const void** row_ptrs = reinterpret_cast<const void**>(
        ts + align64(size_t(kRowGroup * ks * mr) * sizeof(void*)) + align64(size_t(kRowGroup * mr * nr) * sizeof(int32_t)));
    const int64_t mt = task / n_tasks, nt = task % n_tasks;
    const int64_t mb_end = std::min(m_blocks, (mt + 1) * m_per), nb_end = std::min(w.blocks, (nt + 1) * n_per);
    for (int64_t g0 = mt * m_per; g0 < mb_end; g0 += kRowGroup) {
      const int64_t g1 = std::min(mb_end, g0 + kRowGroup);
      for (int64_t mb = g0; mb < g1; ++mb) fill_rows(mb * mr, std::min(mr, M - mb * mr), ptrs + (mb - g0) * ks * mr);
      for (int64_t nb = nt * n_per; nb < nb_end; ++nb) {
        const int64_t n0 = nb * nr, cols = std::min(nr, N - n0);
        for (int64_t mb = g0; mb < g1; ++mb) {
          const void* const* p = ptrs + (mb - g0) * ks * mr;
          int32_t* tile = c + (mb - g0) * mr * nr;
          const int64_t rows = std::min(mr, M - mb * mr);
          if (rows < mr && uk.run_row != nullptr) {  // a short block (a batch-1 linear layer): row by row
            for (int64_t m = 0; m < rows; ++m) {
              for (int64_t t = 0; t < ks; ++t) row_ptrs[t] = p[t * mr + m];
              uk.run_row(size_t(w.kc), size_t(ks), row_ptrs, w.block(nb), tile + m * nr);
            }
          } else {
            uk.run(size_t(w.kc), size_t(ks), p, w.block(nb), tile);
          }
        }
        store(g0 * mr, std::min(M, g1 * mr) - g0 * mr, n0, cols, c);
      }
    }
  });
}

// Convert rows [0, rows) of activations into the A format on the pool (see prepare_rows).
inline void prepare_rows_parallel(const OpBuffers& b, AFormat f, const int8_t* x, int64_t row_stride,
                                  int64_t chan_stride, int64_t C, int64_t kc, int32_t z, int64_t rows, void* dst) {
  const int64_t chunk = std::max<int64_t>(64, (rows + 4 * b.pool->threads() - 1) / (4 * b.pool->threads()));
  b.pool->parallel_for((rows + chunk - 1) / chunk, [&](int64_t task, int) {
    prepare_rows(f, x, row_stride, chan_stride, C, kc, z, task * chunk, std::min(rows, (task + 1) * chunk), dst);
  });
}

}  // namespace wv::kernels::qgemm
