"""Malformed engines and bad run inputs give typed wayvert errors with useful messages, never crashes.

Corruptions inside a valid file are made with `patched()`, which rewrites bytes and then recomputes
the CRC-32 so the structural validators behind the checksum are reached (docs/engine-format.md, 5).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import wayvert
from wayvert.build import EngineBuilder, Tensor, ops

# ---- byte-level helpers (layout from docs/engine-format.md) --------------------------------------


def fix_crc(data: bytes | bytearray) -> bytes:
    d = bytearray(data)
    d[40:44] = struct.pack("<I", zlib.crc32(bytes(d[64:])) & 0xFFFFFFFF)
    return bytes(d)


def patched(data: bytes, at: int, new: bytes, crc: bool = True) -> bytes:
    """`data` with `new` written at offset `at` (and the checksum recomputed unless crc=False)."""
    d = bytearray(data)
    d[at:at + len(new)] = new
    return fix_crc(d) if crc else bytes(d)


class Layout:
    """File offsets of the parts of an engine, for targeted corruption."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        count, self.table = struct.unpack_from("<IQ", data, 20)
        self.sections: dict[int, tuple[int, int, int]] = {}  # kind -> (entry offset, offset, size)
        for i in range(count):
            e = self.table + 32 * i
            kind, _, off, size, _ = struct.unpack_from("<IIQQQ", data, e)
            self.sections[kind] = (e, off, size)
        g = self.graph = self.sections[2][1]
        self.nv, self.nop, self.nin, self.nout, self.nattr, self.nidx, self.nstr, _ = struct.unpack_from("<8I", data, g)
        self.values_at = g + 32
        self.ops_at = self.values_at + 64 * self.nv
        self.attrs_at = self.ops_at + 32 * self.nop
        self.idx_at = self.attrs_at + 24 * self.nattr
        self.str_at = self.idx_at + 4 * self.nidx

    def string(self, off: int, ln: int) -> str:
        return self.data[self.str_at + off:self.str_at + off + ln].decode()

    def value(self, name: str) -> int:
        """File offset of the value record named `name`."""
        for i in range(self.nv):
            r = self.values_at + 64 * i
            if self.string(*struct.unpack_from("<II", self.data, r)) == name:
                return r
        raise KeyError(name)

    def value_id(self, name: str) -> int:
        return (self.value(name) - self.values_at) // 64

    def op(self, i: int) -> tuple[int, ...]:
        """(name off, name len, in_first, in_count, out_first, out_count, attr_first, attr_count) of op i."""
        return struct.unpack_from("<8I", self.data, self.ops_at + 32 * i)

    def index(self, k: int) -> int:
        """File offset of index-pool entry k."""
        return self.idx_at + 4 * k


def int8_builder() -> EngineBuilder:
    rng = np.random.default_rng(0)
    b = EngineBuilder("bad", "1")
    x = b.input("image", "int8", (1, 3, 8, 8), scale=1 / 64, zero_point=-3)
    wq = rng.integers(-127, 128, size=(4, 3, 3, 3)).astype(np.int8)
    h = ops.conv2d(b, x, wq, rng.normal(size=4), padding=1, activation="relu", weight_scales=np.full(4, 0.01),
                   out_scale=0.05, out_zero_point=-128, name="conv1")
    f = ops.reshape(b, h, (1, -1), name="flat")
    w2 = rng.integers(-127, 128, size=(5, 256)).astype(np.int8)
    y = ops.linear(b, f, w2, rng.normal(size=5), weight_scales=np.full(5, 0.02), out_scale=0.5, name="fc")
    b.output(y, ops.dequantize(b, y, name="logits"))
    return b


@pytest.fixture(scope="module")
def good() -> bytes:
    return int8_builder().to_bytes()


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return np.random.default_rng(1).integers(-128, 128, size=(1, 3, 8, 8)).astype(np.int8)


def load_error(data: bytes, cls: type[Exception] = wayvert.EngineFormatError) -> str:
    """The message of the error loading `data` raises; the error's class must be exactly `cls`."""
    with pytest.raises(wayvert.WayvertError) as ei:
        wayvert.Engine.from_bytes(data)
    assert type(ei.value) is cls, f"{type(ei.value).__name__}: {ei.value}"
    return str(ei.value)


def test_good_engine_loads(good: bytes, image: np.ndarray) -> None:
    e = wayvert.Engine.from_bytes(good)
    out = e.session().run({"image": image})
    assert out["fc"].shape == (1, 5)


# ---- container -----------------------------------------------------------------------------------


def test_truncated_at_many_cut_points(good: bytes) -> None:
    lay = Layout(good)
    cuts = sorted({1, 7, 8, 12, 40, 63, 64, 65, lay.table + 31, lay.table + 32, lay.graph, lay.graph + 5,
                   lay.sections[3][1], len(good) - 1} | set(range(1, len(good), max(1, len(good) // 40))))
    for cut in cuts:
        msg = load_error(good[:cut])
        assert "truncated" in msg, (cut, msg)


def test_flipped_byte_without_crc_fix_is_checksum_error(good: bytes) -> None:
    for at in (64, 70, Layout(good).graph + 40, len(good) - 1):
        d = bytearray(good)
        d[at] ^= 0x5A
        assert "checksum" in load_error(bytes(d))


def test_bad_magic(good: bytes) -> None:
    assert "magic" in load_error(patched(good, 0, b"WAYVERX\0"))


def test_major_version_2_is_unsupported(good: bytes) -> None:
    msg = load_error(patched(good, 8, struct.pack("<H", 2)), wayvert.UnsupportedEngineError)
    assert "2.0" in msg and "1.x" in msg


def test_newer_minor_with_known_ops_loads(good: bytes, image: np.ndarray) -> None:
    e = wayvert.Engine.from_bytes(patched(good, 10, struct.pack("<H", 7)))
    ref = wayvert.Engine.from_bytes(good).session().run({"image": image})
    out = e.session().run({"image": image})
    for k in ref:
        np.testing.assert_array_equal(out[k], ref[k])


def test_unknown_flags(good: bytes) -> None:
    assert "unknown header flags 0x00000010" in load_error(patched(good, 12, struct.pack("<I", 0x10)))


def test_header_size_field(good: bytes) -> None:
    assert "header size" in load_error(patched(good, 16, struct.pack("<I", 128)))


def test_trailing_bytes(good: bytes) -> None:
    assert "trailing bytes" in load_error(good + b"\0" * 64)


def test_file_size_field_larger_than_file(good: bytes) -> None:
    assert "truncated" in load_error(patched(good, 32, struct.pack("<Q", len(good) + 1)))


def test_empty(tmp_path: Path) -> None:
    assert "empty" in load_error(b"")
    p = tmp_path / "empty.wvrt"
    p.write_bytes(b"")
    with pytest.raises(wayvert.EngineFormatError, match="empty"):
        wayvert.Engine.load(p)


def test_nonexistent_path_and_directory(tmp_path: Path) -> None:
    with pytest.raises(wayvert.EngineIOError, match="no-such.wvrt"):
        wayvert.Engine.load(tmp_path / "no-such.wvrt")
    with pytest.raises(wayvert.EngineIOError, match="not a regular file"):
        wayvert.Engine.load(tmp_path)
    assert issubclass(wayvert.EngineIOError, OSError)


def test_section_count_out_of_range(good: bytes) -> None:
    assert "section count" in load_error(patched(good, 20, struct.pack("<I", 0)))
    assert "section count" in load_error(patched(good, 20, struct.pack("<I", 65)))


def test_section_table_outside_file(good: bytes) -> None:
    assert "section table" in load_error(patched(good, 24, struct.pack("<Q", len(good) - 16)))
    assert "section table" in load_error(patched(good, 24, struct.pack("<Q", 2**63)))
    assert "section table" in load_error(patched(good, 24, struct.pack("<Q", 32)))  # inside the header


def test_section_misaligned_or_out_of_bounds(good: bytes) -> None:
    lay = Layout(good)
    e, off, size = lay.sections[2]
    assert "not 64-byte aligned" in load_error(patched(good, e + 8, struct.pack("<Q", off + 8)))
    assert "outside the file" in load_error(patched(good, e + 16, struct.pack("<Q", size + len(good))))
    assert "outside the file" in load_error(patched(good, e + 8, struct.pack("<Q", 2**64 - 64)))


def test_overlapping_sections(good: bytes) -> None:
    lay = Layout(good)
    meta_off = lay.sections[1][1]
    e = lay.sections[2][0]
    assert "overlaps" in load_error(patched(good, e + 8, struct.pack("<Q", meta_off)))
    assert "overlaps" in load_error(patched(good, e + 8, struct.pack("<Q", 0)))  # over the header


def test_missing_and_duplicate_sections(good: bytes) -> None:
    lay = Layout(good)
    # kind 9 is unknown, so it is skipped: the graph section is then missing
    assert "missing required graph section" in load_error(patched(good, lay.sections[2][0], struct.pack("<I", 9)))
    assert "duplicate graph section" in load_error(patched(good, lay.sections[3][0], struct.pack("<I", 2)))


def test_unknown_section_kind_is_skipped(good: bytes, image: np.ndarray) -> None:
    """An extra section of an unknown kind (as a newer minor may add) is ignored."""
    lay = Layout(good)
    count = len(lay.sections)
    # re-lay the file with one more table entry: the same payloads plus a section of kind 77
    payloads = [(k, good[o:o + s]) for k, (_, o, s) in sorted(lay.sections.items(), key=lambda kv: kv[1][1])]
    payloads.append((77, b"future data"))
    out = bytearray(64 + 32 * (count + 1))
    table = bytearray()
    for kind, p in payloads:
        out += b"\0" * (-len(out) % 64)
        table += struct.pack("<IIQQQ", kind, 0, len(out), len(p), 0)
        out += p
    out[64:64 + len(table)] = table
    out[0:64] = good[0:64]
    out[20:24] = struct.pack("<I", count + 1)
    out[32:40] = struct.pack("<Q", len(out))
    e = wayvert.Engine.from_bytes(fix_crc(out))
    assert e.session().run({"image": image})["fc"].shape == (1, 5)


def test_meta_not_json_or_not_object(good: bytes) -> None:
    lay = Layout(good)
    _, off, size = lay.sections[1]
    msg = load_error(patched(good, off, b"{{{"))
    assert "meta" in msg and "JSON" in msg
    msg = load_error(patched(good, off, b"[1]" + b" " * (size - 3)))
    assert "JSON object" in msg
    assert "meta" in load_error(patched(good, off, b"\xff\xfe"))


# ---- graph structure -----------------------------------------------------------------------------


def test_bad_dtype_code(good: bytes) -> None:
    r = Layout(good).value("conv1")
    assert "unknown dtype code 9" in load_error(patched(good, r + 8, b"\x09"))
    assert "unknown dtype code 0" in load_error(patched(good, r + 8, b"\x00"))


def test_rank_7(good: bytes) -> None:
    r = Layout(good).value("conv1")
    assert "rank 7" in load_error(patched(good, r + 9, b"\x07"))


def test_unknown_value_kind(good: bytes) -> None:
    r = Layout(good).value("conv1")
    assert "value kind 4" in load_error(patched(good, r + 10, b"\x04"))


def test_zero_dim(good: bytes) -> None:
    r = Layout(good).value("conv1")
    assert "dimension 2 is 0" in load_error(patched(good, r + 16 + 8, struct.pack("<I", 0)))


def test_too_many_elements(good: bytes) -> None:
    r = Layout(good).value("image")
    assert "2^32 elements" in load_error(patched(good, r + 16, struct.pack("<4I", 65536, 65536, 2, 1)))


def test_bad_quantization_params(good: bytes) -> None:
    r = Layout(good).value("image")
    assert "scale" in load_error(patched(good, r + 40, struct.pack("<f", 0.0)))
    assert "scale" in load_error(patched(good, r + 40, struct.pack("<f", float("nan"))))
    assert "zero point 128" in load_error(patched(good, r + 44, struct.pack("<i", 128)))


def test_name_offset_beyond_string_table(good: bytes) -> None:
    lay = Layout(good)
    r = lay.value("flat")
    assert "string table" in load_error(patched(good, r, struct.pack("<I", lay.nstr)))
    assert "string table" in load_error(patched(good, r + 4, struct.pack("<I", 2**32 - 1)))


def test_name_not_utf8_or_with_nul(good: bytes) -> None:
    lay = Layout(good)
    no, nl = struct.unpack_from("<II", good, lay.value("image"))
    assert "UTF-8" in load_error(patched(good, lay.str_at + no, b"\xff"))
    assert "UTF-8" in load_error(patched(good, lay.str_at + no + 1, b"\x00"))
    op_no = lay.op(0)[0]
    assert "op name" in load_error(patched(good, lay.str_at + op_no, b"\xc3\x28"))


def test_empty_and_duplicate_value_names(good: bytes) -> None:
    lay = Layout(good)
    assert "empty name" in load_error(patched(good, lay.value("flat") + 4, struct.pack("<I", 0)))
    name_ref = good[lay.value("image"):lay.value("image") + 8]
    assert "duplicate value name 'image'" in load_error(patched(good, lay.value("flat"), name_ref))


def test_op_input_index_out_of_range(good: bytes) -> None:
    lay = Layout(good)
    in_first = lay.op(1)[2]  # reshape's input
    msg = load_error(patched(good, lay.index(in_first), struct.pack("<I", lay.nv + 5)))
    assert "op 1 (reshape) input 0 refers to value" in msg


def test_op_reads_value_before_it_is_written(good: bytes) -> None:
    lay = Layout(good)
    msg = load_error(patched(good, lay.index(lay.op(1)[2]), struct.pack("<I", lay.value_id("fc"))))
    assert "reads 'fc' before any op writes it" in msg


def test_two_ops_write_one_value(good: bytes) -> None:
    lay = Layout(good)
    out_first = lay.op(2)[4]  # linear's output -> conv1
    msg = load_error(patched(good, lay.index(out_first), struct.pack("<I", lay.value_id("conv1"))))
    assert "which another op already wrote" in msg


def test_op_writes_a_constant_or_absent_output(good: bytes) -> None:
    lay = Layout(good)
    out_first = lay.op(1)[4]
    assert "not an activation" in load_error(patched(good, lay.index(out_first), struct.pack("<I", lay.value_id("fc.weight"))))
    assert "refers to value" in load_error(patched(good, lay.index(out_first), struct.pack("<I", 0xFFFFFFFF)))


def test_op_lists_outside_index_pool_or_attr_table(good: bytes) -> None:
    lay = Layout(good)
    o = lay.ops_at + 32 * 2
    assert "index pool" in load_error(patched(good, o + 8, struct.pack("<I", lay.nidx)))
    assert "index pool" in load_error(patched(good, o + 12, struct.pack("<I", 2**32 - 1)))
    assert "attribute" in load_error(patched(good, lay.ops_at + 24, struct.pack("<I", lay.nattr)))
    assert "has no outputs" in load_error(patched(good, o + 20, struct.pack("<I", 0)))


def test_bad_attribute_type(good: bytes) -> None:
    lay = Layout(good)
    assert "unknown type 3" in load_error(patched(good, lay.attrs_at + 8, struct.pack("<I", 3)))


def test_value_never_written_and_output_not_written(good: bytes) -> None:
    lay = Layout(good)
    # graph output 0 pointed at a constant
    msg = load_error(patched(good, lay.index(lay.nin), struct.pack("<I", lay.value_id("fc.weight"))))
    assert "is not written by any op" in msg
    # an activation no op writes
    b = int8_builder()
    b._add_value(Tensor("orphan", "float32", (1,)), 0)
    assert "'orphan' is never written" in load_error(b.to_bytes())


def test_graph_output_listed_twice(good: bytes) -> None:
    lay = Layout(good)
    assert lay.nout == 2
    msg = load_error(patched(good, lay.index(lay.nin + 1), struct.pack("<I", lay.value_id("fc"))))
    assert "graph output 'fc' listed twice" in msg


def test_graph_input_list_errors(good: bytes) -> None:
    lay = Layout(good)
    b = EngineBuilder("two")
    x = b.input("x", "float32", (2,))
    z = b.input("z", "float32", (2,))
    b.output(ops.add(b, x, z, name="s"))
    two = b.to_bytes()
    lay2 = Layout(two)
    assert "graph input 'x' listed twice" in load_error(patched(two, lay2.index(1), struct.pack("<I", lay2.value_id("x"))))
    assert "is not of kind input" in load_error(patched(good, lay.index(0), struct.pack("<I", lay.value_id("conv1"))))
    assert "not in the input list" in load_error(patched(good, lay.value("flat") + 10, b"\x02"))


def state_engine() -> bytes:
    b = EngineBuilder("st")
    x = b.input("x", "float32", (2, 3))
    h = b.state("h", "float32", (2, 3))
    y = ops.add(b, x, h, name="y")
    b.update_state(h, y)
    b.output(y)
    return b.to_bytes()


def test_state_list_errors() -> None:
    st = state_engine()
    lay = Layout(st)
    assert struct.unpack_from("<I", st, lay.graph + 28)[0] == 1
    wayvert.Engine.from_bytes(st)
    pair = lay.index(lay.nin + lay.nout)
    # the state list names a non-state value
    assert "not of kind state" in load_error(patched(st, pair, struct.pack("<I", lay.value_id("x"))))
    # a state value that is not in the state list (state_count 0)
    assert "is a state but not in the state list" in load_error(patched(st, lay.graph + 28, struct.pack("<I", 0)))
    # the state list exceeds the index pool
    assert "state lists exceed the index pool" in load_error(patched(st, lay.graph + 28, struct.pack("<I", 2**31)))
    # the update is not an activation / out of range
    assert "must be updated from an op output" in load_error(patched(st, pair + 4, struct.pack("<I", lay.value_id("x"))))
    assert "state 0 update refers to value" in load_error(patched(st, pair + 4, struct.pack("<I", 0xFFFFFFFF)))
    # an op may not write a state
    out_first = lay.op(0)[4]
    assert "not an activation" in load_error(patched(st, lay.index(out_first), struct.pack("<I", lay.value_id("h"))))
    # state and update must agree in shape
    assert "differ in dtype, shape or quantization" in load_error(patched(st, lay.value("h") + 16, struct.pack("<2I", 3, 2)))


def test_graph_counts(good: bytes) -> None:
    lay = Layout(good)
    g = lay.graph
    assert "records need" in load_error(patched(good, g + 24, struct.pack("<I", lay.nstr + 1)))
    assert "limits" in load_error(patched(good, g, struct.pack("<I", 2**21)))
    assert "no outputs" in load_error(patched(good, g + 12, struct.pack("<I", 0)))


def test_constant_blob_misaligned_or_out_of_bounds(good: bytes) -> None:
    lay = Layout(good)
    r = lay.value("fc.weight")
    off, size = struct.unpack_from("<QQ", good, r + 48)
    assert "not 64-byte aligned" in load_error(patched(good, r + 48, struct.pack("<Q", off + 4)))
    assert "outside the tensors section" in load_error(patched(good, r + 48, struct.pack("<Q", off + 64 * 1000)))
    assert "outside the tensors section" in load_error(patched(good, r + 48, struct.pack("<Q", 2**64 - 64)))
    assert "blob is" in load_error(patched(good, r + 56, struct.pack("<Q", size + 1)))
    assert "only constants may have a blob" in load_error(patched(good, lay.value("flat") + 48, struct.pack("<Q", 64)))


def test_unknown_op_is_unsupported_and_named(good: bytes) -> None:
    lay = Layout(good)
    no, nl = lay.op(1)[:2]
    assert lay.string(no, nl) == "reshape"
    msg = load_error(patched(good, lay.str_at + no, b"reshapf"), wayvert.UnsupportedEngineError)
    assert "'reshapf'" in msg and "op 1" in msg
    # from a newer minor the message says which format the engine was written for
    newer = patched(patched(good, lay.str_at + no, b"reshapf"), 10, struct.pack("<H", 7))
    assert "1.7" in load_error(newer, wayvert.UnsupportedEngineError)


# ---- kernel-level validation ---------------------------------------------------------------------


def kernel_error(b: EngineBuilder) -> str:
    return load_error(b.to_bytes())


def test_conv_wrong_output_shape() -> None:
    b = EngineBuilder("k")
    x = b.input("x", "float32", (1, 2, 8, 8))
    w = b.constant("w", np.zeros((3, 2, 3, 3), np.float32))
    (y,) = b.op("conv2d", [x, w], [Tensor("y", "float32", (1, 3, 7, 7))], {"pad_top": 1, "pad_left": 1, "pad_bottom": 1, "pad_right": 1})
    b.output(y)
    msg = kernel_error(b)
    assert "op 0 (conv2d)" in msg and "[1, 3, 8, 8]" in msg


def int8_conv(mult: Any = 1 << 30, shift: Any = 31, attrs: dict[str, int] | None = None, with_requant: bool = True) -> EngineBuilder:
    b = EngineBuilder("k")
    x = b.input("x", "int8", (1, 2, 4, 4), scale=0.1)
    w = b.constant("w", np.ones((3, 2, 1, 1), np.int8))
    m = b.constant("m", np.full(3, mult, np.int32))
    s = b.constant("s", np.full(3, shift, np.int32))
    ins = [x, w, None, m, s] if with_requant else [x, w]
    (y,) = b.op("conv2d", ins, [Tensor("y", "int8", (1, 3, 4, 4), 0.1, 0)], attrs or {})
    b.output(y)
    return b


def test_int8_conv_kernel_checks() -> None:
    wayvert.Engine.from_bytes(int8_conv().to_bytes())  # the base is valid
    msg = kernel_error(int8_conv(with_requant=False))
    assert "op 0 (conv2d)" in msg and "multiplier" in msg
    msg = kernel_error(int8_conv(shift=63))
    assert "op 0 (conv2d)" in msg and "shift" in msg and "0..62" in msg
    msg = kernel_error(int8_conv(mult=-1))
    assert "op 0 (conv2d)" in msg and "negative" in msg
    msg = kernel_error(int8_conv(attrs={"act_min": 10, "act_max": 5}))
    assert "op 0 (conv2d)" in msg and "act_min" in msg
    msg = kernel_error(int8_conv(attrs={"activation": 1}))
    assert "op 0 (conv2d)" in msg and "act_min/act_max or a LUT" in msg
    msg = kernel_error(int8_conv(attrs={"stride_h": 0}))
    assert "op 0 (conv2d)" in msg and "stride" in msg
    msg = kernel_error(int8_conv(attrs={"groups": 2}))
    assert "op 0 (conv2d)" in msg and "groups" in msg
    msg = kernel_error(int8_conv(attrs={"bogus": 1}))
    assert "op 0 (conv2d)" in msg and "unknown attribute 'bogus'" in msg


def test_other_kernel_checks() -> None:
    b = EngineBuilder("k")
    x = b.input("x", "float32", (2, 4))
    (y,) = b.op("reshape", [x], [Tensor("y", "float32", (3, 3))])
    b.output(y)
    assert "op 0 (reshape)" in kernel_error(b)

    b = EngineBuilder("k")
    x = b.input("x", "int8", (2, 4), scale=0.1)
    c = b.constant("c", np.zeros((2, 4), np.int8))
    (y,) = b.op("add", [x, c], [Tensor("y", "int8", (2, 4), 0.1, 0)], {"a_multiplier": 1, "a_shift": 0})
    b.output(y)
    msg = kernel_error(b)
    assert "op 0 (add)" in msg and "b_multiplier" in msg

    b = EngineBuilder("k")
    x = b.input("x", "float32", (1, 2, 4))
    (y,) = b.op("attention", [x, x, x], [Tensor("y", "float32", (1, 2, 4))], {"num_heads": 3})
    b.output(y)
    assert "op 0 (attention)" in kernel_error(b)

    b = EngineBuilder("k")
    x = b.input("x", "float32", (2, 3))
    (y,) = b.op("permute", [x], [Tensor("y", "float32", (3, 2))], {"perm0": 1, "perm1": 1})
    b.output(y)
    assert "op 0 (permute)" in kernel_error(b)


# ---- bad inputs to Session.run -------------------------------------------------------------------


@pytest.fixture(scope="module")
def float_engine() -> wayvert.Engine:
    b = EngineBuilder("f")
    x = b.input("features", "float32", (2, 4))
    w = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
    b.output(ops.linear(b, x, w, np.ones(3, np.float32), name="y"))
    return wayvert.Engine.from_bytes(b.to_bytes())


def expected_float(x: np.ndarray) -> np.ndarray:
    w = np.arange(12, dtype=np.float64).reshape(3, 4) / 10
    return x.astype(np.float64) @ w.T + 1


def test_bad_inputs_then_good_run(float_engine: wayvert.Engine) -> None:
    s = float_engine.session()
    good_x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    nan_x = good_x.copy()
    nan_x[1, 2] = np.nan
    inf_x = good_x.copy()
    inf_x[0, 0] = np.inf
    bad: list[tuple[dict[str, Any], str]] = [
        ({"features": good_x, "bogus": good_x}, "bogus"),
        ({}, "features"),
        ({"features": good_x.astype(np.float64)}, "features"),
        ({"features": good_x.astype(np.int8)}, "features"),
        ({"features": good_x.reshape(4, 2)}, "features"),
        ({"features": good_x[:1]}, "features"),
        ({"features": nan_x}, "features"),
        ({"features": inf_x}, "features"),
        ({"features": -inf_x}, "features"),
    ]
    for inputs, name in bad:
        with pytest.raises(wayvert.InputError) as ei:
            s.run(inputs)
        assert name in str(ei.value), str(ei.value)
        out = s.run({"features": good_x})["y"]  # the session still works after a bad run
        np.testing.assert_allclose(out, expected_float(good_x), rtol=1e-5, atol=1e-5)
    assert "non-finite" in _msg(s, nan_x)


def _msg(s: wayvert.Session, x: np.ndarray) -> str:
    with pytest.raises(wayvert.InputError) as ei:
        s.run({"features": x})
    return str(ei.value)


def test_bad_inputs_int8(good: bytes, image: np.ndarray) -> None:
    e = wayvert.Engine.from_bytes(good)
    s = e.session()
    ref = s.run({"image": image})
    for inputs in ({"image": image.astype(np.uint8)}, {"image": image.astype(np.float32)}, {"image": image[0]},
                   {"imag": image}, {}):
        with pytest.raises(wayvert.InputError, match="imag"):
            s.run(inputs)
    out = s.run({"image": image})
    for k in ref:
        np.testing.assert_array_equal(out[k], ref[k])


def test_engine_declaring_a_huge_arena_is_refused_not_allocated() -> None:
    # ~200 bytes of file asking for two 2^31-element float tensors: refused at load, nothing allocated.
    b = EngineBuilder()
    x = b.input("x", "float32", (1 << 16, 1 << 15))
    b.output(ops.reshape(b, x, (1 << 15, 1 << 16)))
    msg = load_error(b.to_bytes(), wayvert.UnsupportedEngineError)
    assert "arena" in msg
