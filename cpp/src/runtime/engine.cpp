#include "runtime/engine.hpp"

#include "engine/format.hpp"
#include "plan/layout.hpp"
#include "plan/memory_plan.hpp"

namespace wv {

Result<std::shared_ptr<const Engine>> Engine::load(std::unique_ptr<FileBytes> bytes, const std::string& what) {
  auto file = open_engine_file(std::move(bytes), what);
  if (!file.ok()) return file.status();
  std::shared_ptr<Engine> e(new Engine());
  e->file_ = file.take();
  auto graph = decode_graph(e->file_.graph, e->file_.tensors);
  if (!graph.ok()) return Status(graph.status().code(), what + ": " + graph.status().message());
  e->graph_ = graph.take();
  assign_layouts(e->graph_);
  const Graph& g = e->graph_;

  // Create kernels in execution order.
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const KernelEntry* k = find_kernel(g.ops[i].name);
    if (k == nullptr) {
      std::string m = what + ": op " + std::to_string(i) + " uses '" + g.ops[i].name +
                      "', which this runtime does not implement";
      if (e->file_.minor > format::kMinor)
        m += " (the engine was written for format " + std::to_string(e->file_.major) + "." +
             std::to_string(e->file_.minor) + "; this runtime reads up to " + std::to_string(format::kMajor) + "." +
             std::to_string(format::kMinor) + ")";
      return Status(Code::unsupported, m);
    }
    auto op = k->create(OpView(g, int(i)));
    if (!op.ok()) return Status(op.status().code(), what + ": " + op.status().message());
    e->ops_.push_back(op.take());
    e->packed_bytes_ += e->ops_.back()->packed_bytes();
    e->thread_scratch_bytes_ = std::max(e->thread_scratch_bytes_, e->ops_.back()->thread_scratch_bytes());
  }

  // Lifetimes: inputs and states live for the whole run (a session can run again without new inputs; state
  // persists), outputs and state updates until the end (read after the last op), others from producer to last reader.
  const int n_ops = int(g.ops.size());
  std::vector<Lifetime> buffers;
  std::vector<int> buffer_of_value(g.values.size(), -1);
  for (size_t v = 0; v < g.values.size(); ++v) {
    if (g.values[v].kind == format::kConstant) continue;
    buffer_of_value[v] = int(buffers.size());
    const bool whole_run = g.values[v].kind == format::kGraphInput || g.values[v].kind == format::kState;
    buffers.push_back({g.values[v].bytes, whole_run ? 0 : n_ops, whole_run ? n_ops : 0});
  }
  for (int i = 0; i < n_ops; ++i) {
    for (int32_t id : g.ops[size_t(i)].outputs) buffers[size_t(buffer_of_value[size_t(id)])].first = i;
    for (int32_t id : g.ops[size_t(i)].inputs)
      if (id >= 0 && buffer_of_value[size_t(id)] >= 0) {
        Lifetime& b = buffers[size_t(buffer_of_value[size_t(id)])];
        b.last = std::max(b.last, i);
      }
  }
  for (int32_t id : g.outputs) buffers[size_t(buffer_of_value[size_t(id)])].last = n_ops;
  for (int32_t id : g.inputs) buffers[size_t(buffer_of_value[size_t(id)])].last = n_ops;
  for (const StateUpdate& su : g.states) buffers[size_t(buffer_of_value[size_t(su.next)])].last = n_ops;
  for (auto& b : buffers) b.last = std::max(b.last, b.first);  // an output nobody reads still needs its bytes
  size_t first_scratch = buffers.size();
  for (int i = 0; i < n_ops; ++i) buffers.push_back({e->ops_[size_t(i)]->scratch_bytes(), i, i});

  MemoryPlan plan = plan_memory(buffers);
  if (plan.arena_bytes > kMaxArenaBytes)
    return Status(Code::unsupported, what + ": the plan needs a " + std::to_string(plan.arena_bytes) +
                                         "-byte arena per session, above this runtime's limit of " +
                                         std::to_string(kMaxArenaBytes));
  e->value_offsets_.assign(g.values.size(), kNotInArena);
  for (size_t v = 0; v < g.values.size(); ++v)
    if (buffer_of_value[v] >= 0) e->value_offsets_[v] = plan.offsets[size_t(buffer_of_value[v])];
  for (int i = 0; i < n_ops; ++i) e->scratch_offsets_.push_back(plan.offsets[first_scratch + size_t(i)]);
  e->arena_bytes_ = plan.arena_bytes;
  e->naive_bytes_ = plan.naive_bytes;
  return std::shared_ptr<const Engine>(std::move(e));
}

}  // namespace wv
