#include "engine/engine_file.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/crc32.hpp"
#include "engine/format.hpp"

namespace wv {
namespace {

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

const char* section_name(uint32_t kind) {
  switch (kind) {
    case format::kMeta: return "meta";
    case format::kGraph: return "graph";
    case format::kTensors: return "tensors";
    case format::kProfile: return "profile";
  }
  return "unknown";
}

}  // namespace

Result<EngineFile> open_engine_file(std::unique_ptr<FileBytes> bytes, const std::string& what) {
  namespace f = format;
  ByteSpan all{bytes->data(), bytes->size()};
  auto err = [&](const std::string& m) { return format_error(what + ": " + m); };

  if (all.size < f::kHeaderSize)
    return err("truncated: " + std::to_string(all.size) + " bytes, shorter than the 64-byte header");
  if (std::memcmp(all.data, f::kMagic, sizeof f::kMagic) != 0) return err("not a wayvert engine (bad magic)");

  EngineFile ef;
  ef.major = all.u16(f::kOffMajor);
  ef.minor = all.u16(f::kOffMinor);
  if (ef.major != f::kMajor)
    return Status(Code::unsupported, what + ": engine format " + std::to_string(ef.major) + "." +
                                         std::to_string(ef.minor) + " is not readable by this runtime (reads " +
                                         std::to_string(f::kMajor) + ".x)");
  uint32_t flags = all.u32(f::kOffFlags);
  if (flags & ~f::kKnownFlags) return err("unknown header flags " + hex32(flags));
  if (all.u32(f::kOffHeaderSize) != f::kHeaderSize) return err("header size field is not 64");

  uint64_t file_size = all.u64(f::kOffFileSize);
  if (file_size != all.size)
    return err(file_size > all.size ? "truncated: header says " + std::to_string(file_size) + " bytes, file has " +
                                          std::to_string(all.size)
                                    : "trailing bytes: header says " + std::to_string(file_size) +
                                          " bytes, file has " + std::to_string(all.size));

  uint32_t stored = all.u32(f::kOffChecksum);
  uint32_t actual = crc32(all.data + f::kHeaderSize, all.size - f::kHeaderSize);
  if (stored != actual) return err("checksum mismatch (stored " + hex32(stored) + ", computed " + hex32(actual) + ")");

  uint32_t count = all.u32(f::kOffSectionCount);
  uint64_t table = all.u64(f::kOffSectionTable);
  if (count == 0 || count > 64) return err("section count " + std::to_string(count) + " out of range 1..64");
  if (table < f::kHeaderSize || !all.fits(table, uint64_t(count) * f::kSectionEntrySize))
    return err("section table lies outside the file");

  struct Range { uint64_t begin, end; };
  std::vector<Range> used{{0, f::kHeaderSize}, {table, table + uint64_t(count) * f::kSectionEntrySize}};
  bool seen[5] = {false, false, false, false, false};
  for (uint32_t i = 0; i < count; ++i) {
    size_t e = table + size_t(i) * f::kSectionEntrySize;
    uint32_t kind = all.u32(e);
    uint64_t off = all.u64(e + 8);
    uint64_t size = all.u64(e + 16);
    std::string name = std::string("section ") + std::to_string(i) + " (" + section_name(kind) + ")";
    if (off % f::kAlignment != 0) return err(name + " offset " + std::to_string(off) + " is not 64-byte aligned");
    if (!all.fits(off, size)) return err(name + " [" + std::to_string(off) + ", +" + std::to_string(size) + ") lies outside the file");
    for (const Range& r : used)
      if (size > 0 && off < r.end && r.begin < off + size) return err(name + " overlaps the header, table or another section");
    used.push_back({off, off + size});
    if (kind < f::kMeta || kind > f::kProfile) continue;  // unknown kinds are skipped: newer minors may add some
    if (seen[kind]) return err("duplicate " + std::string(section_name(kind)) + " section");
    seen[kind] = true;
    ByteSpan s = all.sub(off, size);
    switch (kind) {
      case f::kMeta: ef.meta = s; break;
      case f::kGraph: ef.graph = s; break;
      case f::kTensors: ef.tensors = s; break;
      case f::kProfile: ef.profile = s; break;
    }
  }
  for (uint32_t k : {f::kMeta, f::kGraph, f::kTensors})
    if (!seen[k]) return err(std::string("missing required ") + section_name(k) + " section");
  ef.bytes = std::move(bytes);
  return ef;
}

}  // namespace wv
