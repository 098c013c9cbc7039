// The decoded graph section: values (tensors) and ops in execution order, validated structurally.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.hpp"
#include "core/status.hpp"
#include "engine/byte_reader.hpp"
#include "engine/format.hpp"

namespace wv {

struct Shape {
  int rank = 0;
  int64_t dims[format::kMaxRank] = {0, 0, 0, 0, 0, 0};
  int64_t elements() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  int64_t operator[](int i) const { return dims[i]; }
  bool operator==(const Shape& o) const;
  std::string str() const;  // "[1, 3, 64, 64]"
};

// Physical order of a rank-4 activation's elements in the arena. Files and the API always speak NCHW;
// plan/layout.cpp lets int8 values that only flow between convolutions and adds live as NHWC.
enum class Layout : uint8_t { nchw, nhwc };

struct Value {
  std::string name;
  DType dtype = DType::f32;
  format::ValueKind kind = format::kActivation;
  Shape shape;
  float scale = 0.f;
  int32_t zero_point = 0;
  const void* data = nullptr;  // constants: points into the mapped tensors section
  size_t bytes = 0;            // elements x dtype size
  Layout layout = Layout::nchw;  // set by plan/layout.cpp before kernels are created
  std::string describe() const;  // "'conv1.out' int8 [1, 8, 32, 32]"
};

struct Attr {
  std::string key;
  format::AttrType type = format::kAttrInt;
  int64_t i = 0;
  double f = 0.0;
};

struct Op {
  std::string name;             // op type, e.g. "conv2d"
  std::vector<int32_t> inputs;  // value ids; -1 for an absent optional input
  std::vector<int32_t> outputs;
  std::vector<Attr> attrs;
};

// A recurrent state value and the activation whose value it takes after each run.
struct StateUpdate {
  int32_t state = -1;
  int32_t next = -1;
};

struct Graph {
  std::vector<Value> values;
  std::vector<Op> ops;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  std::vector<StateUpdate> states;
};

// Decode and check structure: bounds, names, shapes, constant blobs, def-before-use, single producer.
Result<Graph> decode_graph(ByteSpan graph, ByteSpan tensors);

}  // namespace wv
