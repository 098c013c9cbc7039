"""The fused remap + colour conversion + LUT pass of the numpy reference (wayvert.sensors.pixel_formats.fused_sample)
against an entry-by-entry loop of its definition, by hand, and -- once the compiled core exposes the C++ sampler
as ``wayvert._core.fused_sample`` with the same signature -- against C++ bit for bit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from wayvert.sensors import pixel_formats as pf

SHAPES = {"rgb8": lambda w, h: (h, w, 3), "bgr8": lambda w, h: (h, w, 3), "nv12": lambda w, h: (h * 3 // 2, w),
          "yuyv": lambda w, h: (h, 2 * w), "bayer_rggb8": lambda w, h: (h, w)}


def loop_reference(table: np.ndarray, frames: list[pf.FrameSpec], lut: np.ndarray,
                   fill: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """fused_sampler.hpp's definition, one entry at a time, with plain Python integers."""
    t = table.reshape(-1)
    out = np.zeros((3, t.size), dtype=np.int8)
    mask = np.zeros(t.size, dtype=np.uint8)
    for i, e in enumerate(t):
        cam, x0, y0, fx, fy = (int(e[n]) for n in ("camera", "x0", "y0", "fx", "fy"))
        ok = 0 <= cam < len(frames) and frames[cam][0] is not None
        if ok:
            frame, fmt, matrix, full = frames[cam]
            assert frame is not None
            w, h = pf.frame_size(frame, fmt)
            ok = x0 + 1 < w and y0 + 1 < h
        if not ok:
            out[:, i] = fill
            continue
        p = [[pf.fetch_rgb(frame, fmt, [x0 + dx], [y0 + dy], matrix, full)[0] for dx in (0, 1)] for dy in (0, 1)]
        w00, w01, w10, w11 = (256 - fx) * (256 - fy), fx * (256 - fy), (256 - fx) * fy, fx * fy
        for c in range(3):
            v = (w00 * int(p[0][0][c]) + w01 * int(p[0][1][c]) + w10 * int(p[1][0][c]) + w11 * int(p[1][1][c])
                 + 32768) >> 16
            assert 0 <= v <= 255
            out[c, i] = lut[c, v]
        mask[i] = 1
    return out, mask


def random_case(rng: np.random.Generator, n: int, max_w: int = 24,
                max_h: int = 16) -> tuple[np.ndarray, list[pf.FrameSpec], np.ndarray, np.ndarray]:
    """Every format (several matrices, one missing frame); a table of runs of one camera, as build_remap makes,
    with scattered -1, out-of-range cameras, last-column / last-row entries and out-of-bounds ones."""
    specs = [("rgb8", "bt601", True), ("bgr8", "bt601", True), ("nv12", "bt601", False), ("nv12", "bt709", True),
             ("yuyv", "bt709", False), ("yuyv", "bt601", True), ("bayer_rggb8", "bt601", True),
             ("nv12", "bt601", True)]
    frames: list[pf.FrameSpec] = []
    for k, (fmt, matrix, full) in enumerate(specs):
        w, h = 2 * int(rng.integers(1, max_w // 2 + 1)), 2 * int(rng.integers(1, max_h // 2 + 1))
        frame = rng.integers(0, 256, size=SHAPES[fmt](w, h), dtype=np.uint8)
        frames.append((None if k == len(specs) - 1 else frame, fmt, matrix, full))
    t = np.zeros(n, dtype=pf.numpy_dtype_of_remap_entry())
    i = 0
    while i < n:
        run = int(rng.integers(1, 30))
        kind = int(rng.integers(0, 20))
        if kind == 0:
            cam = -1
        elif kind == 1:
            cam = len(frames) + int(rng.integers(0, 3))  # not a camera
        else:
            cam = int(rng.integers(0, len(frames)))
        for _ in range(min(run, n - i)):
            fx, fy = int(rng.integers(0, 256)), int(rng.integers(0, 256))
            if 0 <= cam < len(frames):
                frame, fmt = frames[cam][0], frames[cam][1]
                w, h = pf.frame_size(frame, fmt) if frame is not None else (4, 4)
                x0, y0 = int(rng.integers(0, w - 1)), int(rng.integers(0, h - 1))
                if rng.random() < 0.2:
                    x0 = w - 2
                if rng.random() < 0.2:
                    y0 = h - 2
                if rng.random() < 0.02:
                    x0 = w - 1 + int(rng.integers(0, 3))  # out of bounds
                if rng.random() < 0.02:
                    y0 = 65535
            else:
                x0, y0 = int(rng.integers(0, 65536)), int(rng.integers(0, 65536))
            t[i] = (cam, x0, y0, fx, fy)
            i += 1
    lut = rng.integers(-128, 128, size=(3, 256)).astype(np.int8)
    fill = rng.integers(-128, 128, size=3).astype(np.int8)
    return t, frames, lut, fill


@pytest.mark.parametrize("seed", range(6))
def test_matches_entry_by_entry_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t, frames, lut, fill = random_case(rng, 400)
    out, mask = pf.fused_sample(t, frames, lut, fill)
    want_out, want_mask = loop_reference(t, frames, lut, fill)
    np.testing.assert_array_equal(mask, want_mask)
    np.testing.assert_array_equal(out, want_out)
    assert 0 < mask.sum() < mask.size


def test_blend_by_hand() -> None:
    # R = 0, 100 / 200, 255 around (0.5, 0.5): (16384 * 555 + 32768) >> 16 = 139; G constant; B 255 at p00 only.
    img = np.array([[[0, 10, 255], [100, 10, 0]], [[200, 10, 0], [255, 10, 0]]], dtype=np.uint8)
    t = np.zeros(4, dtype=pf.numpy_dtype_of_remap_entry())
    t["fx"] = [128, 64, 255, 0]
    t["fy"] = [128, 0, 255, 0]
    lut = np.stack([(np.arange(256) - 128).astype(np.int8)] * 3)
    out, mask = pf.fused_sample(t, [(img, "rgb8", "bt601", True)], lut, np.zeros(3, np.int8))
    v = out.astype(np.int16) + 128
    np.testing.assert_array_equal(v[0], [139, 25, 254, 0])
    np.testing.assert_array_equal(v[1], [10, 10, 10, 10])
    np.testing.assert_array_equal(v[2], [64, 191, 0, 255])
    assert mask.all()


@pytest.mark.parametrize("fmt", ["rgb8", "bgr8", "nv12", "yuyv", "bayer_rggb8"])
def test_constant_frames_give_the_lut_of_their_colour(fmt: str) -> None:
    w, h = 8, 6
    frame = np.full(SHAPES[fmt](w, h), 77, dtype=np.uint8)
    rng = np.random.default_rng(3)
    t = np.zeros(50, dtype=pf.numpy_dtype_of_remap_entry())
    t["x0"] = rng.integers(0, w - 1, 50)
    t["y0"] = rng.integers(0, h - 1, 50)
    t["fx"] = rng.integers(0, 256, 50)
    t["fy"] = rng.integers(0, 256, 50)
    lut = rng.integers(-128, 128, size=(3, 256)).astype(np.int8)
    out, mask = pf.fused_sample(t, [(frame, fmt, "bt709", False)], lut, np.zeros(3, np.int8))
    colour = pf.fetch_rgb(frame, fmt, [0], [0], "bt709", False)[0]
    assert mask.all()
    for c in range(3):
        assert (out[c] == lut[c, colour[c]]).all()


def test_missing_frame_and_bad_cameras_fill() -> None:
    img = np.full((4, 4, 3), 200, dtype=np.uint8)
    t = np.zeros(5, dtype=pf.numpy_dtype_of_remap_entry())
    t["camera"] = [1, -1, 2, 0, 0]  # missing frame, no source, not a camera, valid, valid
    t["x0"] = [0, 0, 0, 2, 0]
    fill = np.array([-7, 3, 11], dtype=np.int8)
    lut = np.stack([np.full(256, 5, np.int8)] * 3)
    out, mask = pf.fused_sample(t, [(img, "rgb8", "bt601", True), (None, "nv12", "bt601", True)], lut, fill)
    np.testing.assert_array_equal(mask, [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(out[:, :3], np.repeat(fill[:, None], 3, axis=1))
    assert (out[:, 3:] == 5).all()


def _cpp_fused_sample() -> Any:
    try:
        from wayvert import _core
    except ImportError:  # pragma: no cover - the source tree without the compiled core
        return None
    return getattr(_core, "fused_sample", None)


@pytest.mark.parametrize("seed", range(4))
def test_cpp_matches_numpy_bit_for_bit(seed: int) -> None:
    fn = _cpp_fused_sample()
    if fn is None:
        pytest.skip("wayvert._core.fused_sample (the C++ sampler, same signature as pixel_formats.fused_sample, "
                    "plus isa='auto'|'scalar') is not bound yet")
    rng = np.random.default_rng(100 + seed)
    t, frames, lut, fill = random_case(rng, 5000, max_w=200, max_h=120)
    want_out, want_mask = pf.fused_sample(t, frames, lut, fill)
    for isa in ("scalar", "auto"):
        out, mask = fn(t, frames, lut, fill, isa=isa)
        np.testing.assert_array_equal(np.asarray(mask), want_mask, err_msg=isa)
        np.testing.assert_array_equal(np.asarray(out), want_out, err_msg=isa)
