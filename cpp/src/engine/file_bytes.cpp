#include "engine/file_bytes.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace wv {

Result<std::unique_ptr<FileBytes>> FileBytes::map_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(Code::io, "cannot open engine '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status(Code::io, "engine '" + path + "' is not a regular file");
  }
  std::unique_ptr<FileBytes> fb(new FileBytes());
  fb->size_ = static_cast<size_t>(st.st_size);
  if (fb->size_ == 0) {
    ::close(fd);
    return format_error("engine '" + path + "' is empty (0 bytes)");
  }
  void* p = ::mmap(nullptr, fb->size_, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  ::close(fd);
  if (p == MAP_FAILED) return Status(Code::io, "cannot map engine '" + path + "': " + std::strerror(err));
  fb->data_ = static_cast<const uint8_t*>(p);
  fb->mapped_ = true;
  return fb;
}

Result<std::unique_ptr<FileBytes>> FileBytes::copy_of(const void* data, size_t size) {
  if (size == 0) return format_error("engine buffer is empty (0 bytes)");
  if (data == nullptr) return Status(Code::invalid_argument, "engine buffer is NULL");
  size_t rounded = (size + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (p == nullptr) return Status(Code::out_of_memory, "cannot allocate " + std::to_string(size) + " bytes for the engine");
  std::memcpy(p, data, size);
  std::unique_ptr<FileBytes> fb(new FileBytes());
  fb->data_ = static_cast<const uint8_t*>(p);
  fb->size_ = size;
  return fb;
}

FileBytes::~FileBytes() {
  if (data_ == nullptr) return;
  if (mapped_)
    ::munmap(const_cast<uint8_t*>(data_), size_);
  else
    std::free(const_cast<uint8_t*>(data_));
}

}  // namespace wv
