"""Pixel-format decoding of the numpy reference (wayvert.sensors.pixel_formats): every format's vectorised
fetch_rgb against an independent per-pixel Python loop, hand-computed pixels, YUV clamping, the remap entry
layout, and the identity property of the fused pass on rgb8."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

from wayvert.sensors import pixel_formats as pf

FORMATS = ["rgb8", "bgr8", "nv12", "yuyv", "bayer_rggb8"]
MATRICES = [("bt601", True), ("bt601", False), ("bt709", True), ("bt709", False)]
SIZES = [(2, 2), (4, 2), (2, 4), (6, 4), (10, 8)]
SHAPES: dict[str, Callable[[int, int], tuple[int, ...]]] = {
    "rgb8": lambda w, h: (h, w, 3),
    "bgr8": lambda w, h: (h, w, 3),
    "nv12": lambda w, h: (h * 3 // 2, w),
    "yuyv": lambda w, h: (h, 2 * w),
    "bayer_rggb8": lambda w, h: (h, w),
}
# Straight from the standard matrices times 256, written out again here.
COEFFS = {("bt601", False): (298, 409, 100, 208, 516, 16), ("bt601", True): (256, 359, 88, 183, 454, 0),
          ("bt709", False): (298, 459, 55, 136, 541, 16), ("bt709", True): (256, 403, 48, 120, 475, 0)}


# ---------------------------------------------------------------- an independent, one-pixel-at-a-time reference
def slow_yuv(y: int, u: int, v: int, k: tuple[int, ...]) -> tuple[int, int, int]:
    cy, crv, cgu, cgv, cbu, y_off = k
    c, d, e = y - y_off, u - 128, v - 128

    def clamp(t: int) -> int:
        return min(255, max(0, t))

    return (clamp((cy * c + crv * e + 128) >> 8), clamp((cy * c - cgu * d - cgv * e + 128) >> 8),
            clamp((cy * c + cbu * d + 128) >> 8))


def slow_fetch(frame: np.ndarray, fmt: str, w: int, h: int, x: int, y: int,
               k: tuple[int, ...]) -> tuple[int, int, int]:
    b = [int(t) for t in frame.reshape(-1)]
    if fmt == "rgb8":
        i = (y * w + x) * 3
        return b[i], b[i + 1], b[i + 2]
    if fmt == "bgr8":
        i = (y * w + x) * 3
        return b[i + 2], b[i + 1], b[i]
    if fmt == "nv12":
        cx, cyy = x // 2, y // 2
        return slow_yuv(b[y * w + x], b[w * h + cyy * w + 2 * cx], b[w * h + cyy * w + 2 * cx + 1], k)
    if fmt == "yuyv":
        pair = y * 2 * w + (x // 2) * 4
        luma = b[pair + (0 if x % 2 == 0 else 2)]
        return slow_yuv(luma, b[pair + 1], b[pair + 3], k)

    def at(xx: int, yy: int) -> int:  # reflect-101
        xx = -xx if xx < 0 else (2 * w - 2 - xx if xx >= w else xx)
        yy = -yy if yy < 0 else (2 * h - 2 - yy if yy >= h else yy)
        return b[yy * w + xx]

    own = at(x, y)
    four_cross = (at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) + 2) // 4
    four_diag = (at(x - 1, y - 1) + at(x + 1, y - 1) + at(x - 1, y + 1) + at(x + 1, y + 1) + 2) // 4
    two_row = (at(x - 1, y) + at(x + 1, y) + 1) // 2
    two_col = (at(x, y - 1) + at(x, y + 1) + 1) // 2
    if y % 2 == 0 and x % 2 == 0:  # R
        return own, four_cross, four_diag
    if y % 2 == 1 and x % 2 == 1:  # B
        return four_diag, four_cross, own
    if y % 2 == 0:  # G on an R row: R left/right, B above/below
        return two_row, own, two_col
    return two_col, own, two_row  # G on a B row


def random_frame(rng: np.random.Generator, fmt: str, w: int, h: int, style: str = "random") -> np.ndarray:
    shape = SHAPES[fmt](w, h)
    if style == "extremes":
        return (rng.integers(0, 2, size=shape) * 255).astype(np.uint8)
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


# ---------------------------------------------------------------- fetch_rgb
# The colour matrix only matters to the YUV formats.
FETCH_CASES = [(f, "bt601", True) for f in ("rgb8", "bgr8", "bayer_rggb8")] + \
    [(f, m, r) for f in ("nv12", "yuyv") for m, r in MATRICES]


@pytest.mark.parametrize("fmt,matrix,full_range", FETCH_CASES)
@pytest.mark.parametrize("style", ["random", "extremes"])
def test_fetch_matches_per_pixel_loop(fmt: str, matrix: str, full_range: bool, style: str) -> None:
    rng = np.random.default_rng([FORMATS.index(fmt), MATRICES.index((matrix, full_range)), len(style)])
    k = COEFFS[(matrix, full_range)]
    for w, h in SIZES:
        frame = random_frame(rng, fmt, w, h, style)
        ys, xs = np.mgrid[0:h, 0:w]
        got = pf.fetch_rgb(frame, fmt, xs.reshape(-1), ys.reshape(-1), matrix, full_range)
        assert got.dtype == np.uint8 and got.shape == (w * h, 3)
        want = np.array([slow_fetch(frame, fmt, w, h, int(x), int(y), k)
                         for x, y in zip(xs.reshape(-1), ys.reshape(-1))], dtype=np.uint8)
        np.testing.assert_array_equal(got, want, err_msg=f"{fmt} {w}x{h}")


def test_fetch_hand_values() -> None:
    # nv12 4x2: chroma sample 0 = (150, 90), sample 1 = (200, 60).
    nv12 = np.array([[100, 50, 50, 100], [50, 100, 100, 50], [150, 90, 200, 60]], dtype=np.uint8)
    got = pf.fetch_rgb(nv12, "nv12", [0, 2, 3, 1], [0, 0, 0, 1], "bt601", True)
    np.testing.assert_array_equal(got, [[47, 120, 139], [0, 74, 178], [5, 124, 228], [47, 120, 139]])
    got = pf.fetch_rgb(nv12, "nv12", [0, 3], [0, 1], "bt601", False)
    np.testing.assert_array_equal(got, [[37, 120, 142], [0, 67, 185]])
    np.testing.assert_array_equal(pf.fetch_rgb(nv12, "nv12", [1], [1], "bt709", True), [[40, 114, 141]])
    # yuyv 4x2
    yuyv = np.array([[100, 150, 50, 90, 50, 200, 100, 60], [50, 200, 100, 60, 100, 150, 50, 90]], dtype=np.uint8)
    got = pf.fetch_rgb(yuyv, "yuyv", [0, 1, 2, 1], [0, 0, 0, 1])
    np.testing.assert_array_equal(got, [[47, 120, 139], [0, 70, 89], [0, 74, 178], [5, 124, 228]])
    # bayer 4x4, corners: (0,0) R 10, G (20+20+50+50+2)>>2 = 35, B 61; (3,3) B 167, G 135, R 113
    bayer = np.array([[10, 20, 30, 45], [50, 61, 70, 80], [90, 100, 113, 120], [130, 140, 150, 167]], dtype=np.uint8)
    got = pf.fetch_rgb(bayer, "bayer_rggb8", [0, 3, 3, 0, 1, 2], [0, 3, 0, 3, 1, 2])
    np.testing.assert_array_equal(got, [[10, 35, 61], [113, 135, 167], [30, 45, 80], [90, 130, 140],
                                        [61, 60, 61], [113, 110, 112]])
    rgb = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    np.testing.assert_array_equal(pf.fetch_rgb(rgb, "rgb8", [1], [0]), [[3, 4, 5]])
    np.testing.assert_array_equal(pf.fetch_rgb(rgb, "bgr8", [1], [0]), [[5, 4, 3]])


@pytest.mark.parametrize("matrix,full_range", MATRICES)
def test_yuv_extremes_clamp(matrix: str, full_range: bool) -> None:
    vals = np.array([0, 255])
    y, u, v = (a.reshape(-1) for a in np.meshgrid(vals, vals, vals, indexing="ij"))
    got = pf.yuv_to_rgb(y, u, v, matrix, full_range)
    want = [slow_yuv(int(a), int(b), int(c), COEFFS[(matrix, full_range)]) for a, b, c in zip(y, u, v)]
    np.testing.assert_array_equal(got, want)
    assert got.min() == 0 and got.max() == 255  # the extremes do clamp
    # grey stays grey; limited range clamps below black and above white
    grey = pf.yuv_to_rgb([0, 16, 128, 235, 255], [128] * 5, [128] * 5, matrix, full_range)
    # limited: (298 * (Y - 16) + 128) >> 8, e.g. Y = 128 -> 130; full: Y itself
    want_grey = [0, 16, 128, 235, 255] if full_range else [0, 0, 130, 255, 255]
    np.testing.assert_array_equal(grey[:, 0], want_grey)
    np.testing.assert_array_equal(grey[:, 0], grey[:, 1])
    np.testing.assert_array_equal(grey[:, 0], grey[:, 2])


def test_coefficients_are_the_standard_matrices() -> None:
    std = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}
    for (matrix, full), k in pf.YUV_COEFFS.items():
        kr, kb = std[matrix]
        kg = 1 - kr - kb
        ys, cs = (1.0, 1.0) if full else (255 / 219, 255 / 224)
        exact = (ys, 2 * (1 - kr) * cs, 2 * (1 - kb) * kb / kg * cs, 2 * (1 - kr) * kr / kg * cs, 2 * (1 - kb) * cs)
        assert k[:5] == tuple(round(256 * e) for e in exact), (matrix, full)
        assert k[5] == (0 if full else 16)
    assert pf.yuv_coeffs("bt709", False) == (298, 459, 55, 136, 541, 16)
    with pytest.raises(ValueError):
        pf.yuv_coeffs("bt2020", True)


def test_frame_sizes_and_errors() -> None:
    assert pf.frame_bytes("nv12", 1600, 900) == 1600 * 900 * 3 // 2
    assert pf.frame_bytes("yuyv", 4, 3) == 24
    assert pf.frame_bytes("nv12", 5, 4) == 0 and pf.frame_bytes("yuyv", 3, 2) == 0 and pf.frame_bytes("rgb8", 1, 4) == 0
    for fmt in FORMATS:
        frame = np.zeros(SHAPES[fmt](6, 4), dtype=np.uint8)
        assert pf.frame_size(frame, fmt) == (6, 4)
        assert frame.size == pf.frame_bytes(fmt, 6, 4)
    with pytest.raises(ValueError):
        pf.frame_size(np.zeros((4, 6), dtype=np.uint8), "nv12")  # 4 rows is not H*3/2 of an even H
    with pytest.raises(ValueError):
        pf.frame_size(np.zeros((4, 6, 3), dtype=np.int16), "rgb8")
    with pytest.raises(ValueError):
        pf.fetch_rgb(np.zeros((4, 6, 3), dtype=np.uint8), "rgb8", [6], [0])
    with pytest.raises(ValueError):
        pf.fetch_rgb(np.zeros((4, 6), dtype=np.uint8), "gray8", [0], [0])


# ---------------------------------------------------------------- remap entries and the identity property
def test_remap_entry_dtype_matches_the_cpp_struct() -> None:
    dt = pf.numpy_dtype_of_remap_entry()
    assert dt.itemsize == 8
    assert [(n, dt.fields[n][0].str, dt.fields[n][1]) for n in dt.names] == [
        ("camera", "<i2", 0), ("x0", "<u2", 2), ("y0", "<u2", 4), ("fx", "|u1", 6), ("fy", "|u1", 7)]
    e = np.zeros(1, dtype=dt)
    e[0] = (-1, 0x1234, 0xBEEF, 7, 200)
    assert e.tobytes() == bytes([0xFF, 0xFF, 0x34, 0x12, 0xEF, 0xBE, 7, 200])


def identity_table(w: int, h: int) -> np.ndarray:
    """Pixel (i, j) of a (h-1) x (w-1) virtual camera onto source pixel (j, i) with fx = fy = 0 (the last source
    row and column have no x0 + 1 / y0 + 1 inside, so they cannot be an entry's x0 / y0)."""
    t = np.zeros((h - 1, w - 1), dtype=pf.numpy_dtype_of_remap_entry())
    ii, jj = np.mgrid[0:h - 1, 0:w - 1]
    t["x0"], t["y0"] = jj, ii
    return t


@pytest.mark.parametrize("w,h", [(2, 2), (7, 5), (64, 33)])
def test_rgb8_identity(w: int, h: int) -> None:
    rng = np.random.default_rng(w * h)
    img = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    lut = np.stack([(np.arange(256) - 128).astype(np.int8)] * 3)  # identity-like: v -> v - 128
    fill = np.array([-128, -128, -128], dtype=np.int8)
    out, mask = pf.fused_sample(identity_table(w, h), [(img, "rgb8", "bt601", True)], lut, fill)
    assert out.dtype == np.int8 and out.shape == (3, (h - 1) * (w - 1)) and mask.dtype == np.uint8
    assert mask.all()
    back = (out.astype(np.int16) + 128).astype(np.uint8).reshape(3, h - 1, w - 1).transpose(1, 2, 0)
    np.testing.assert_array_equal(back, img[:h - 1, :w - 1])
    # bgr8 through the same table gives the channels reversed
    out_bgr, _ = pf.fused_sample(identity_table(w, h), [(img, "bgr8", "bt601", True)], lut, fill)
    np.testing.assert_array_equal(out_bgr, out[::-1])
    # an entry on the last column / row is out of bounds: no source
    edge = np.zeros(2, dtype=pf.numpy_dtype_of_remap_entry())
    edge["x0"] = [w - 1, 0]
    edge["y0"] = [0, h - 1]
    out_e, mask_e = pf.fused_sample(edge, [(img, "rgb8", "bt601", True)], lut, fill)
    assert not mask_e.any() and (out_e == -128).all()
