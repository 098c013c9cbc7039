// Reads the engines and expected outputs in cpp/tests/data (written by tests/fixtures/make_cpp_fixtures.py).
#pragma once
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#ifndef WV_TEST_DATA_DIR
#error "WV_TEST_DATA_DIR must point at cpp/tests/data"
#endif

// The folder is compiled in; the environment variable WV_TEST_DATA_DIR overrides it, so a test binary built on one
// machine runs from another checkout (benches/gpu/device_check.sh carries test_cuda to a lent GPU that way).
inline std::string fixture_path(const std::string& name) {
  const char* dir = std::getenv("WV_TEST_DATA_DIR");
  return std::string(dir != nullptr && *dir != '\0' ? dir : WV_TEST_DATA_DIR) + "/" + name;
}

inline std::vector<char> read_fixture(const std::string& name) {
  std::ifstream f(fixture_path(name), std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
