// Errors are values inside the runtime: every fallible call returns Status or Result<T>.
// Nothing in libwayvert throws across the C API; codes match wv_status in wayvert.h.
#pragma once
#include <string>
#include <utility>
#include <variant>

namespace wv {

enum class Code : int {
  ok = 0,
  invalid_argument = 1,
  io = 2,
  engine_format = 3,
  unsupported = 4,
  input = 5,
  out_of_memory = 6,
  internal = 7,
  device = 8,  // the requested accelerator is missing or failed (no CUDA driver or device, a launch failed)
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }
  bool ok() const { return code_ == Code::ok; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::ok;
  std::string message_;
};

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status status) : v_(std::move(status)) {}
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const { return std::get<Status>(v_); }
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  T take() { return std::move(std::get<T>(v_)); }

 private:
  std::variant<T, Status> v_;
};

inline Status format_error(std::string m) { return {Code::engine_format, std::move(m)}; }
inline Status input_error(std::string m) { return {Code::input, std::move(m)}; }

}  // namespace wv

#define WV_RETURN_IF_ERROR(expr)       \
  do {                                 \
    ::wv::Status _wv_s = (expr);       \
    if (!_wv_s.ok()) return _wv_s;     \
  } while (0)
