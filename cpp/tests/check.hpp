#pragma once
// Minimal test helpers: WV_CHECK / WV_CHECK_MSG / WV_CHECK_EQ record (and print) failures; main returns wv_test_exit_code().
#include <cstdio>
#include <sstream>
#include <string>

namespace wv_test {
inline int& failure_count() { static int n = 0; return n; }  // failures recorded so far
// Records one failure; prints the first 50 so a broken kernel does not flood the log.
inline void report_failure(const char* file, int line, const std::string& what) {
  if (++failure_count() <= 50) std::fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what.c_str());
}
template <typename T> std::string show(const T& v) { std::ostringstream os; os << v; return os.str(); }
}  // namespace wv_test

#define WV_CHECK(cond) \
  do { if (!(cond)) ::wv_test::report_failure(__FILE__, __LINE__, #cond); } while (0)

// Like WV_CHECK, but prints msg (anything streamable into std::string +) instead of the expression.
#define WV_CHECK_MSG(cond, msg) \
  do { if (!(cond)) ::wv_test::report_failure(__FILE__, __LINE__, msg); } while (0)

#define WV_CHECK_EQ(a, b)                                                                          \
  do {                                                                                             \
    const auto& wv_a_ = (a); const auto& wv_b_ = (b);                                              \
    if (!(wv_a_ == wv_b_))                                                                         \
      ::wv_test::report_failure(__FILE__, __LINE__, std::string(#a " == " #b " (") +               \
                                ::wv_test::show(wv_a_) + " vs " + ::wv_test::show(wv_b_) + ")"); \
  } while (0)

// 0 when nothing failed, else 1 (after printing the failure count).
inline int wv_test_exit_code() {
  if (::wv_test::failure_count() == 0) { std::printf("all checks passed\n"); return 0; }
  std::fprintf(stderr, "%d check(s) failed\n", ::wv_test::failure_count());
  return 1;
}
