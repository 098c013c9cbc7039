// The C API's error channel: a thread-local message beside each returned status, and a guard that turns any
// escaping C++ exception into a status so nothing is thrown across the C boundary.
#pragma once
#include <exception>
#include <new>
#include <string>

#include "core/status.hpp"
#include "wayvert/wayvert.h"

namespace wv::capi {

inline std::string& last_error() {
  thread_local std::string message;
  return message;
}

inline wv_status fail(wv_status code, std::string message) {
  last_error() = std::move(message);
  return code;
}

inline wv_status fail(const Status& s) { return fail(static_cast<wv_status>(s.code()), s.message()); }

template <typename F>
wv_status guarded(F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(WV_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(WV_ERR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(WV_ERR_INTERNAL, "internal error");
  }
}

}  // namespace wv::capi
