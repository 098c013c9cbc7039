#include "plan/kernel.hpp"

#include <cstdint>

namespace wv {

int64_t OpView::attr_int(std::string_view key, int64_t fallback) const {
  for (const Attr& a : op_.attrs)
    if (a.key == key) {
      if (a.type == format::kAttrInt) return a.i;
      // A float where an int is expected: convert only when exactly representable range-wise; else a value
      // every kernel rejects as out of range.
      return (a.f >= -9.0e18 && a.f <= 9.0e18) ? static_cast<int64_t>(a.f) : INT64_MIN;
    }
  return fallback;
}

double OpView::attr_float(std::string_view key, double fallback) const {
  for (const Attr& a : op_.attrs)
    if (a.key == key) return a.type == format::kAttrFloat ? a.f : static_cast<double>(a.i);
  return fallback;
}

Status OpView::check_attrs(std::initializer_list<const char*> known) const {
  for (const Attr& a : op_.attrs) {
    bool ok = false;
    for (const char* k : known) ok = ok || a.key == k;
    if (!ok) return error("unknown attribute '" + a.key + "'");
  }
  return Status::Ok();
}

Status OpView::check_arity(int min, int max, int outputs) const {
  if (input_count() < min || input_count() > max)
    return error("takes " + std::to_string(min) + ".." + std::to_string(max) + " inputs, got " + std::to_string(input_count()));
  for (int k = 0; k < min; ++k)
    if (!has_input(k)) return error("required input " + std::to_string(k) + " is absent");
  if (output_count() != outputs)
    return error("has " + std::to_string(outputs) + " output(s), got " + std::to_string(output_count()));
  return Status::Ok();
}

Status OpView::error(const std::string& message) const {
  return format_error("op " + std::to_string(index_) + " (" + op_.name + "): " + message);
}

}  // namespace wv
