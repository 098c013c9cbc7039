#include "plan/layout.hpp"

#include <vector>

namespace wv {
namespace {

bool is_int8_image(const Value& v) { return v.dtype == DType::i8 && v.shape.rank == 4; }
// The op's first input is an int8 image (the kernels validate arity later; this must not trust it).
bool int8_image_op(const Graph& g, const Op& op) {
  return !op.inputs.empty() && op.inputs[0] >= 0 && is_int8_image(g.values[size_t(op.inputs[0])]);
}

// Can this op slot read or write an NHWC value?
bool reads_nhwc(const Graph& g, const Op& op, size_t slot) {
  if (op.name == "conv2d") return (slot == 0 || slot == 5) && int8_image_op(g, op) && op.outputs.size() == 1;
  if (op.name == "add") return slot <= 1 && int8_image_op(g, op) && op.outputs.size() == 1;
  return false;
}
bool writes_nhwc(const Graph& g, const Op& op) {
  return (op.name == "conv2d" || op.name == "add") && int8_image_op(g, op) && op.outputs.size() == 1;
}

}  // namespace

void assign_layouts(Graph& g) {
  const size_t nv = g.values.size();
  std::vector<char> ok(nv, 0);
  for (size_t v = 0; v < nv; ++v) ok[v] = g.values[v].kind == format::kActivation && is_int8_image(g.values[v]);
  for (int32_t id : g.outputs) ok[size_t(id)] = 0;
  for (const StateUpdate& su : g.states) ok[size_t(su.next)] = 0;
  std::vector<char> produced(nv, 0);
  for (const Op& op : g.ops) {
    for (int32_t id : op.outputs) {
      produced[size_t(id)] = 1;
      if (!writes_nhwc(g, op)) ok[size_t(id)] = 0;
    }
    for (size_t s = 0; s < op.inputs.size(); ++s)
      if (op.inputs[s] >= 0 && !reads_nhwc(g, op, s)) ok[size_t(op.inputs[s])] = 0;
  }
  for (size_t v = 0; v < nv; ++v) ok[v] = ok[v] && produced[v];

  // Partners must agree: an add's operands and result, a conv's residual and result. Only ever clears flags,
  // so this ends after at most one pass per value.
  auto at = [&](int32_t id) -> bool { return id >= 0 && ok[size_t(id)]; };
  for (bool changed = true; changed;) {
    changed = false;
    for (const Op& op : g.ops) {
      std::vector<int32_t> group;
      if (op.outputs.size() != 1) continue;
      if (op.name == "add" && op.inputs.size() >= 2) group = {op.inputs[0], op.inputs[1], op.outputs[0]};
      else if (op.name == "conv2d" && op.inputs.size() > 5 && op.inputs[5] >= 0) group = {op.inputs[5], op.outputs[0]};
      if (group.empty()) continue;
      bool all = true, any = false;
      for (int32_t id : group) { all = all && at(id); any = any || at(id); }
      if (any && !all) {
        for (int32_t id : group) if (id >= 0) ok[size_t(id)] = 0;
        changed = true;
      }
    }
  }
  for (size_t v = 0; v < nv; ++v) g.values[v].layout = ok[v] ? Layout::nhwc : Layout::nchw;
}

}  // namespace wv
