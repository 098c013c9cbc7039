#include "engine/graph.hpp"

#include <cmath>
#include <unordered_set>

namespace wv {
namespace f = format;

bool Shape::operator==(const Shape& o) const {
  if (rank != o.rank) return false;
  for (int i = 0; i < rank; ++i)
    if (dims[i] != o.dims[i]) return false;
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

std::string Value::describe() const { return "'" + name + "' " + dtype_name(dtype) + " " + shape.str(); }

namespace {

// Strict UTF-8 (no overlong forms, surrogates or code points above U+10FFFF) and no NUL: names reach
// C strings in the C API and Python str objects, so anything else would be truncated or fail to decode.
bool valid_name_bytes(const uint8_t* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    const uint8_t c = p[i];
    if (c == 0) return false;
    if (c < 0x80) { ++i; continue; }
    size_t len;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1Fu; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0Fu; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07u; min = 0x10000; }
    else return false;
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = cp << 6 | (p[i + k] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

struct Reader {
  ByteSpan g;
  size_t strings_at = 0;
  uint32_t string_bytes = 0;

  // False when [off, off + len) is not inside the string table or is not a valid name (UTF-8, no NUL).
  bool string(uint32_t off, uint32_t len, std::string* out) const {
    if (uint64_t(off) + len > string_bytes) return false;
    const uint8_t* p = g.data + strings_at + off;
    if (!valid_name_bytes(p, len)) return false;
    out->assign(reinterpret_cast<const char*>(p), len);
    return true;
  }
};

}  // namespace

Result<Graph> decode_graph(ByteSpan g, ByteSpan tensors) {
  auto err = [](const std::string& m) { return format_error("graph section: " + m); };
  if (g.size < f::kGraphHeaderSize) return err("shorter than its 32-byte header");
  uint32_t nv = g.u32(0), nop = g.u32(4), nin = g.u32(8), nout = g.u32(12), nattr = g.u32(16), nidx = g.u32(20),
           nstr = g.u32(24), nstate = g.u32(28);
  if (nv > f::kMaxValues || nop > f::kMaxOps || nattr > f::kMaxOps * 16 || nidx > f::kMaxOps * 64)
    return err("record counts exceed the format's limits");
  uint64_t need = f::kGraphHeaderSize + uint64_t(nv) * f::kValueRecordSize + uint64_t(nop) * f::kOpRecordSize +
                  uint64_t(nattr) * f::kAttrRecordSize + uint64_t(nidx) * 4 + nstr;
  if (need != g.size)
    return err("records need " + std::to_string(need) + " bytes but the section has " + std::to_string(g.size));
  if (uint64_t(nin) + nout + 2 * uint64_t(nstate) > nidx) return err("graph input/output/state lists exceed the index pool");
  if (nout == 0) return err("graph has no outputs");

  size_t values_at = f::kGraphHeaderSize;
  size_t ops_at = values_at + size_t(nv) * f::kValueRecordSize;
  size_t attrs_at = ops_at + size_t(nop) * f::kOpRecordSize;
  size_t idx_at = attrs_at + size_t(nattr) * f::kAttrRecordSize;
  Reader rd{g, idx_at + size_t(nidx) * 4, nstr};
  auto index = [&](uint32_t i) { return g.u32(idx_at + size_t(i) * 4); };

  Graph graph;
  graph.values.resize(nv);
  std::unordered_set<std::string> names;
  for (uint32_t i = 0; i < nv; ++i) {
    size_t r = values_at + size_t(i) * f::kValueRecordSize;
    Value& v = graph.values[i];
    std::string where = "value " + std::to_string(i);
    if (!rd.string(g.u32(r), g.u32(r + 4), &v.name)) return err(where + ": name lies outside the string table or is not valid UTF-8 (without NUL)");
    if (v.name.empty()) return err(where + ": empty name");
    if (!names.insert(v.name).second) return err("duplicate value name '" + v.name + "'");
    where = "value '" + v.name + "'";
    uint8_t dt = g.u8(r + 8), rank = g.u8(r + 9), kind = g.u8(r + 10);
    if (!dtype_known(dt)) return err(where + ": unknown dtype code " + std::to_string(dt));
    v.dtype = static_cast<DType>(dt);
    if (rank > f::kMaxRank) return err(where + ": rank " + std::to_string(rank) + " exceeds 6");
    if (kind > f::kState) return err(where + ": unknown value kind " + std::to_string(kind));
    v.kind = static_cast<f::ValueKind>(kind);
    v.shape.rank = rank;
    uint64_t elements = 1;
    for (int d = 0; d < rank; ++d) {
      uint32_t dim = g.u32(r + 16 + size_t(d) * 4);
      if (dim == 0) return err(where + ": dimension " + std::to_string(d) + " is 0");
      v.shape.dims[d] = dim;
      elements *= dim;
      if (elements > f::kMaxElements) return err(where + ": more than 2^32 elements");
    }
    v.bytes = size_t(elements) * dtype_size(v.dtype);
    v.scale = g.f32(r + 40);
    v.zero_point = g.i32(r + 44);
    if (v.dtype == DType::i8 || v.dtype == DType::u8) {
      if (!(v.scale > 0.f) || !std::isfinite(v.scale)) return err(where + ": quantized tensor needs a finite scale > 0");
      int lo = v.dtype == DType::i8 ? -128 : 0, hi = v.dtype == DType::i8 ? 127 : 255;
      if (v.zero_point < lo || v.zero_point > hi) return err(where + ": zero point " + std::to_string(v.zero_point) + " outside the dtype's range");
    }
    uint64_t off = g.u64(r + 48), size = g.u64(r + 56);
    if (v.kind == f::kConstant) {
      if (size != v.bytes)
        return err(where + ": blob is " + std::to_string(size) + " bytes, shape needs " + std::to_string(v.bytes));
      if (off % f::kAlignment != 0) return err(where + ": blob offset is not 64-byte aligned");
      if (!tensors.fits(off, size)) return err(where + ": blob lies outside the tensors section");
      v.data = tensors.data + off;
    } else if (off != 0 || size != 0) {
      return err(where + ": only constants may have a blob");
    }
  }

  auto value_id = [&](uint32_t id, bool optional, const std::string& where, int32_t* out) -> Status {
    if (id == f::kAbsent && optional) { *out = -1; return Status::Ok(); }
    if (id >= nv) return err(where + " refers to value " + std::to_string(id) + " of " + std::to_string(nv));
    *out = int32_t(id);
    return Status::Ok();
  };

  std::vector<char> defined(nv, 0);
  for (uint32_t i = 0; i < nin; ++i) {
    int32_t id;
    WV_RETURN_IF_ERROR(value_id(index(i), false, "graph input " + std::to_string(i), &id));
    if (graph.values[id].kind != f::kGraphInput) return err("graph input " + graph.values[id].describe() + " is not of kind input");
    if (defined[id]) return err("graph input '" + graph.values[id].name + "' listed twice");
    defined[id] = 1;
    graph.inputs.push_back(id);
  }
  for (uint32_t i = 0; i < nstate; ++i) {
    StateUpdate su;
    WV_RETURN_IF_ERROR(value_id(index(nin + nout + 2 * i), false, "state " + std::to_string(i), &su.state));
    WV_RETURN_IF_ERROR(value_id(index(nin + nout + 2 * i + 1), false, "state " + std::to_string(i) + " update", &su.next));
    const Value& sv = graph.values[size_t(su.state)];
    if (sv.kind != f::kState) return err("state list names " + sv.describe() + ", which is not of kind state");
    if (defined[su.state]) return err("state '" + sv.name + "' listed twice");
    defined[su.state] = 1;
    graph.states.push_back(su);
  }
  for (uint32_t i = 0; i < nv; ++i) {
    if (graph.values[i].kind == f::kConstant) defined[i] = 1;
    if (graph.values[i].kind == f::kState && !defined[i]) return err("value '" + graph.values[i].name + "' is a state but not in the state list");
    if (graph.values[i].kind == f::kGraphInput && !defined[i]) return err("value '" + graph.values[i].name + "' is an input but not in the input list");
  }

  graph.ops.resize(nop);
  for (uint32_t i = 0; i < nop; ++i) {
    size_t r = ops_at + size_t(i) * f::kOpRecordSize;
    Op& op = graph.ops[i];
    std::string where = "op " + std::to_string(i);
    if (!rd.string(g.u32(r), g.u32(r + 4), &op.name) || op.name.empty()) return err(where + ": bad op name (outside the string table, not UTF-8, or empty)");
    where += " (" + op.name + ")";
    uint32_t in_first = g.u32(r + 8), in_count = g.u32(r + 12), out_first = g.u32(r + 16), out_count = g.u32(r + 20),
             a_first = g.u32(r + 24), a_count = g.u32(r + 28);
    if (uint64_t(in_first) + in_count > nidx || uint64_t(out_first) + out_count > nidx)
      return err(where + ": input/output list lies outside the index pool");
    if (uint64_t(a_first) + a_count > nattr) return err(where + ": attribute list lies outside the attribute table");
    if (out_count == 0) return err(where + ": has no outputs");
    for (uint32_t k = 0; k < in_count; ++k) {
      int32_t id;
      WV_RETURN_IF_ERROR(value_id(index(in_first + k), true, where + " input " + std::to_string(k), &id));
      if (id >= 0 && !defined[id]) return err(where + " reads '" + graph.values[id].name + "' before any op writes it");
      op.inputs.push_back(id);
    }
    for (uint32_t k = 0; k < out_count; ++k) {
      int32_t id;
      WV_RETURN_IF_ERROR(value_id(index(out_first + k), false, where + " output " + std::to_string(k), &id));
      if (graph.values[id].kind != f::kActivation) return err(where + " writes " + graph.values[id].describe() + ", which is not an activation");
      if (defined[id]) return err(where + " writes '" + graph.values[id].name + "', which another op already wrote");
      defined[id] = 1;
      op.outputs.push_back(id);
    }
    for (uint32_t k = 0; k < a_count; ++k) {
      size_t ar = attrs_at + size_t(a_first + k) * f::kAttrRecordSize;
      Attr a;
      if (!rd.string(g.u32(ar), g.u32(ar + 4), &a.key) || a.key.empty()) return err(where + ": bad attribute key (outside the string table, not UTF-8, or empty)");
      uint32_t t = g.u32(ar + 8);
      if (t == f::kAttrInt) a.i = g.i64(ar + 16);
      else if (t == f::kAttrFloat) a.f = g.f64(ar + 16);
      else return err(where + ": attribute '" + a.key + "' has unknown type " + std::to_string(t));
      a.type = static_cast<f::AttrType>(t);
      op.attrs.push_back(std::move(a));
    }
  }

  std::vector<char> is_output(nv, 0);
  for (uint32_t i = 0; i < nout; ++i) {
    int32_t id;
    WV_RETURN_IF_ERROR(value_id(index(nin + i), false, "graph output " + std::to_string(i), &id));
    if (graph.values[id].kind != f::kActivation || !defined[id])
      return err("graph output " + graph.values[id].describe() + " is not written by any op");
    if (is_output[id]) return err("graph output '" + graph.values[id].name + "' listed twice");
    is_output[id] = 1;
    graph.outputs.push_back(id);
  }
  for (uint32_t i = 0; i < nv; ++i)
    if (!defined[i]) return err("value '" + graph.values[i].name + "' is never written");
  for (const StateUpdate& su : graph.states) {
    const Value& sv = graph.values[size_t(su.state)];
    const Value& nx = graph.values[size_t(su.next)];
    if (nx.kind != f::kActivation) return err("state '" + sv.name + "' must be updated from an op output, not " + nx.describe());
    if (nx.dtype != sv.dtype || !(nx.shape == sv.shape) || nx.scale != sv.scale || nx.zero_point != sv.zero_point)
      return err("state " + sv.describe() + " and its update " + nx.describe() + " differ in dtype, shape or quantization");
  }
  return graph;
}

}  // namespace wv
