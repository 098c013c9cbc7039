// CRC-32 (IEEE 802.3 polynomial, reflected; identical to zlib.crc32) used for the engine checksum.
#pragma once
#include <cstddef>
#include <cstdint>

namespace wv {
uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc = 0);
}
