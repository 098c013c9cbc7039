// The CUDA executor's face to the runtime (plain C++; the implementation is executor.cu in CUDA builds and
// no_cuda.cpp otherwise). runtime/session.cpp owns a DeviceSession when a session is created on a CUDA device.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace wv {
class Engine;
}

namespace wv::cuda {

// One op of an engine that the CUDA executor cannot run, and why.
struct Gap {
  int op_index = 0;
  std::string op;
  std::string reason;
};

// Every op of `engine` this build's CUDA executor cannot run (empty: all of them run). Creates the CUDA kernels on
// the host only, so it needs no device. In a build without CUDA every op is a gap ("built without CUDA").
std::vector<Gap> coverage_gaps(const Engine& engine);

// A session's device half: its stream, its arena on the device, pinned staging for the graph's inputs and outputs,
// and the whole run captured once as a CUDA Graph. The engine's constants and the kernels' blobs live on the
// device once per engine per device, shared by all its sessions there.
class DeviceSession {
 public:
  virtual ~DeviceSession() = default;
  // Pinned host bytes of graph input `index`; the next run() copies them to the device.
  virtual void* input_staging(int index) = 0;
  // Pinned host bytes of graph output `index` as the last run() left them.
  virtual const void* output(int index) const = 0;
  // Replay the captured graph (inputs in, every op, state updates, outputs out) and wait for it.
  virtual Status run() = 0;
  // Zero the arena and the input staging, recurrent int8 state at its zero point.
  virtual Status reset() = 0;
  virtual int device() const = 0;
};

// A device session on CUDA device `device`. Code::device when there is no usable CUDA device or driver (or the
// device ordinal does not exist, or device memory runs out); Code::unsupported naming the ops when the engine has
// ops this executor cannot run.
Result<std::unique_ptr<DeviceSession>> create_device_session(std::shared_ptr<const Engine> engine, int device);

}  // namespace wv::cuda
