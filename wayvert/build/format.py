"""Byte layout of engine format v1 (mirror of ``cpp/src/engine/format.hpp``; the spec is docs/engine-format.md)."""

from __future__ import annotations

import struct

MAGIC = b"WAYVERT\x00"
MAJOR = 1
MINOR = 0
HEADER_SIZE = 64
ALIGNMENT = 64
ABSENT = 0xFFFFFFFF

SECTION_META = 1
SECTION_GRAPH = 2
SECTION_TENSORS = 3
SECTION_PROFILE = 4

KIND_ACTIVATION = 0
KIND_CONSTANT = 1
KIND_INPUT = 2
KIND_STATE = 3

ATTR_INT = 1
ATTR_FLOAT = 2

DTYPE_CODES = {"float32": 1, "int8": 2, "int32": 3, "uint8": 4}
DTYPE_NAMES = {v: k for k, v in DTYPE_CODES.items()}
MAX_RANK = 6

# struct formats, little-endian; sizes asserted below so the layout cannot drift silently.
HEADER = struct.Struct("<8sHHIIIQQII16x")  # magic, major, minor, flags, header_size, section_count, table, size, crc, reserved
SECTION = struct.Struct("<IIQQQ")  # kind, reserved, offset, size, reserved
GRAPH_HEADER = struct.Struct("<8I")  # values, ops, inputs, outputs, attrs, indices, string bytes, states
VALUE = struct.Struct("<IIBBBBI6IfiQQ")  # name off/len, dtype, rank, kind, pad, pad, dims[6], scale, zero, data off/size
OP = struct.Struct("<8I")  # name off/len, in first/count, out first/count, attr first/count
ATTR_INT_REC = struct.Struct("<IIIIq")  # key off/len, type, pad, int64
ATTR_FLOAT_REC = struct.Struct("<IIIId")  # key off/len, type, pad, float64

assert HEADER.size == 64 and SECTION.size == 32 and GRAPH_HEADER.size == 32
assert VALUE.size == 64 and OP.size == 32 and ATTR_INT_REC.size == 24 and ATTR_FLOAT_REC.size == 24
