// Reads the engines and expected outputs in cpp/tests/data (written by tests/fixtures/make_cpp_fixtures.py).
#pragma once
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#ifndef WV_TEST_DATA_DIR
#error "WV_TEST_DATA_DIR must point at cpp/tests/data"
#endif

inline std::string fixture_path(const std::string& name) { return std::string(WV_TEST_DATA_DIR) + "/" + name; }

inline std::vector<char> read_fixture(const std::string& name) {
  std::ifstream f(fixture_path(name), std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
