// Splits independent output rows across the session's intra-op threads. Each row is computed whole by one task,
// with the same arithmetic whichever thread runs it, so results are bit-identical for every thread count (no
// reduction is ever split).
#pragma once
#include <algorithm>
#include <cstdint>

#include "runtime/thread_pool.hpp"

namespace wv::kernels {

// Below this much work per task (about 64 K multiply-accumulates) a hand-off costs more than it saves.
constexpr int64_t kMinWorkPerTask = 64 * 1024;

// Calls fn(first_row, end_row) over [0, rows) in contiguous blocks, at most 4 per thread and none smaller than
// kMinWorkPerTask (work_per_row estimates one row's cost). On one thread: one call, on the caller.
template <class Fn>
void for_row_blocks(ThreadPool* pool, int64_t rows, int64_t work_per_row, Fn&& fn) {
  if (rows <= 0) return;
  const int64_t by_work = std::max<int64_t>(1, rows * std::max<int64_t>(work_per_row, 1) / kMinWorkPerTask);
  const int64_t tasks = std::min({rows, by_work, int64_t(4) * pool->threads()});
  if (tasks <= 1) {
    fn(int64_t(0), rows);
    return;
  }
  const int64_t per = (rows + tasks - 1) / tasks;
  pool->parallel_for((rows + per - 1) / per, [&](int64_t task, int) { fn(task * per, std::min(rows, (task + 1) * per)); });
}

}  // namespace wv::kernels
