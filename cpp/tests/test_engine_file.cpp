// The container layer: CRC-32 matches zlib, and malformed bytes give WV_ERR_* codes with messages, never a crash.
#include <cstring>
#include <string>
#include <vector>

#include "check.hpp"
#include "engine/crc32.hpp"
#include "fixture.hpp"
#include "wayvert/wayvert.h"

namespace {

void test_crc32_known_vectors() {
  const char* s = "123456789";
  WV_CHECK_EQ(wv::crc32(reinterpret_cast<const uint8_t*>(s), 9), 0xCBF43926u);
  WV_CHECK_EQ(wv::crc32(nullptr, 0), 0u);
  // Incremental use equals one pass.
  uint32_t a = wv::crc32(reinterpret_cast<const uint8_t*>(s), 4);
  WV_CHECK_EQ(wv::crc32(reinterpret_cast<const uint8_t*>(s) + 4, 5, a), 0xCBF43926u);
}

wv_status load_bytes(const std::vector<char>& b) {
  wv_engine* e = nullptr;
  wv_status st = wv_engine_load_from_memory(b.data(), b.size(), &e);
  wv_engine_release(e);
  return st;
}

void test_valid_fixture_loads() {
  std::vector<char> good = read_fixture("conv_relu_linear.wvrt");
  WV_CHECK(!good.empty());
  WV_CHECK_MSG(load_bytes(good) == WV_OK, wv_last_error());
}

void test_every_truncation_is_a_format_error() {
  std::vector<char> good = read_fixture("conv_relu_linear.wvrt");
  for (size_t n = 0; n < good.size(); n += 97) {
    std::vector<char> cut(good.begin(), good.begin() + long(n));
    wv_status st = load_bytes(cut);
    WV_CHECK_MSG(st == WV_ERR_ENGINE_FORMAT, "cut at " + std::to_string(n) + ": " + wv_status_name(st));
  }
}

void test_flipped_byte_fails_the_checksum() {
  std::vector<char> bad = read_fixture("conv_relu_linear.wvrt");
  bad[bad.size() / 2] ^= 0x40;
  WV_CHECK_EQ(int(load_bytes(bad)), int(WV_ERR_ENGINE_FORMAT));
  WV_CHECK(std::strstr(wv_last_error(), "checksum") != nullptr);
}

void test_newer_major_version_is_unsupported() {
  std::vector<char> bad = read_fixture("conv_relu_linear.wvrt");
  bad[8] = 2;  // major, little-endian u16 at offset 8
  WV_CHECK_EQ(int(load_bytes(bad)), int(WV_ERR_UNSUPPORTED));
}

void test_missing_file_is_an_io_error() {
  wv_engine* e = nullptr;
  WV_CHECK_EQ(int(wv_engine_load("/nonexistent/engine.wvrt", &e)), int(WV_ERR_IO));
  WV_CHECK(e == nullptr);
  WV_CHECK_EQ(int(wv_engine_load(nullptr, &e)), int(WV_ERR_INVALID_ARGUMENT));
}

}  // namespace

int main() {
  test_crc32_known_vectors();
  test_valid_fixture_loads();
  test_every_truncation_is_a_format_error();
  test_flipped_byte_fails_the_checksum();
  test_newer_major_version_is_unsupported();
  test_missing_file_is_an_io_error();
  return wv_test_exit_code();
}
