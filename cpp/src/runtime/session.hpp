// A Session: one execution context of an Engine. Owns its arena; every pointer an op needs is bound
// at creation, so run() only walks the plan and allocates nothing.
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

#include "core/status.hpp"
#include "runtime/engine.hpp"

namespace wv {

class Session {
 public:
  static Result<std::unique_ptr<Session>> create(std::shared_ptr<const Engine> engine);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const Engine& engine() const { return *engine_; }
  // Copy graph input `index` in; `bytes` must match its spec exactly.
  Status set_input(int index, const void* data, size_t bytes);
  // Check float inputs are finite, then execute every op in order.
  Status run();
  // Output `index` of the last run; valid until the next run.
  const void* output(int index) const;
  // Restore what a new session has: arena and inputs zeroed, recurrent state at its zero point.
  void reset();

 private:
  explicit Session(std::shared_ptr<const Engine> engine) : engine_(std::move(engine)) {}
  void* value_ptr(int value) const;

  std::shared_ptr<const Engine> engine_;
  unsigned char* arena_ = nullptr;
  size_t arena_bytes_ = 0;
  std::vector<const void*> in_ptrs_;  // all ops' input slots, concatenated
  std::vector<void*> out_ptrs_;
  std::vector<OpBuffers> bound_;
};

}  // namespace wv
