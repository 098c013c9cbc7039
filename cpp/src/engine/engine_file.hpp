// The container layer of a .wvrt file: header, section table, checksum. Knows nothing of ops.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.hpp"
#include "engine/byte_reader.hpp"
#include "engine/file_bytes.hpp"

namespace wv {

struct EngineFile {
  std::unique_ptr<FileBytes> bytes;
  uint16_t major = 0;
  uint16_t minor = 0;
  ByteSpan meta;     // UTF-8 JSON
  ByteSpan graph;    // decoded by engine/graph
  ByteSpan tensors;  // constant blobs, used in place
  ByteSpan profile;  // UTF-8 JSON, may be empty
};

// Validate header, version, section table and checksum; `what` names the source in messages.
Result<EngineFile> open_engine_file(std::unique_ptr<FileBytes> bytes, const std::string& what);

}  // namespace wv
