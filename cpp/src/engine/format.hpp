// Byte layout of the .wvrt engine file, version 1 (docs/engine-format.md is the normative text).
// All integers little-endian; the reader decodes field by field, never by casting structs.
#pragma once
#include <cstddef>
#include <cstdint>

namespace wv::format {

inline constexpr char kMagic[8] = {'W', 'A', 'Y', 'V', 'E', 'R', 'T', '\0'};
inline constexpr uint16_t kMajor = 1;
inline constexpr uint16_t kMinor = 0;
inline constexpr size_t kHeaderSize = 64;
inline constexpr size_t kSectionEntrySize = 32;
inline constexpr size_t kAlignment = 64;
inline constexpr uint32_t kKnownFlags = 0;  // no flag bits are defined in 1.0

// Header field offsets.
inline constexpr size_t kOffMagic = 0, kOffMajor = 8, kOffMinor = 10, kOffFlags = 12, kOffHeaderSize = 16,
                        kOffSectionCount = 20, kOffSectionTable = 24, kOffFileSize = 32, kOffChecksum = 40;

enum SectionKind : uint32_t { kMeta = 1, kGraph = 2, kTensors = 3, kProfile = 4 };

// Graph section records.
inline constexpr size_t kGraphHeaderSize = 32;
inline constexpr size_t kValueRecordSize = 64;
inline constexpr size_t kOpRecordSize = 32;
inline constexpr size_t kAttrRecordSize = 24;
inline constexpr uint32_t kAbsent = 0xFFFFFFFFu;  // an optional op input that is not given
inline constexpr int kMaxRank = 6;

// kState: recurrent state owned by each session; starts at the zero point, and after every run takes the
// value of the activation paired with it in the graph's state list.
enum ValueKind : uint8_t { kActivation = 0, kConstant = 1, kGraphInput = 2, kState = 3 };
enum AttrType : uint32_t { kAttrInt = 1, kAttrFloat = 2 };

// Hard limits that keep a hostile file from asking for absurd work.
inline constexpr uint32_t kMaxValues = 1u << 20;
inline constexpr uint32_t kMaxOps = 1u << 20;
inline constexpr uint64_t kMaxElements = 1ull << 32;

}  // namespace wv::format
