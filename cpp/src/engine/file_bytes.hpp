// Read-only bytes of an engine: a private read-only mapping of a file, or an aligned copy of a buffer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.hpp"

namespace wv {

class FileBytes {
 public:
  // Map `path` read-only. The mapping lives until the FileBytes is destroyed.
  static Result<std::unique_ptr<FileBytes>> map_file(const std::string& path);
  // Copy `size` bytes into a 64-byte aligned buffer owned by the result.
  static Result<std::unique_ptr<FileBytes>> copy_of(const void* data, size_t size);
  ~FileBytes();
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  FileBytes() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
};

}  // namespace wv
