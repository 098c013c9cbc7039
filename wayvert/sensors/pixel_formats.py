"""Camera pixel formats and the fused remap pass of the sensor adapter, in numpy: the exact-integer twin of
``cpp/src/sensors/pixel_formats.hpp`` and ``cpp/src/sensors/fused_sampler.hpp`` (scalar and AVX2 paths). All three
agree bit for bit.

Frame layouts (uint8; the array shapes are those of ``FRAME_SHAPES`` below):

* ``rgb8`` / ``bgr8``: ``[H][W][3]``, (R, G, B) resp. (B, G, R) per pixel.
* ``nv12``: ``[H*3/2][W]``: the Y plane H x W, then the interleaved chroma plane H/2 x W of (U, V) pairs
  (chroma sample (cx, cy) at row cy, columns 2cx and 2cx+1). W and H even.
* ``yuyv``: ``[H][2W]``: ``Y0 U Y1 V`` for each horizontal pixel pair. W even. ``SensorAdapter.convert`` also
  takes OpenCV's ``[H][W][2]`` view of the same bytes.
* ``bayer_rggb8``: ``[H][W]``: R at (even row, even col), B at (odd row, odd col), G elsewhere.

Every format needs W >= 2 and H >= 2.

``fetch_rgb(frame, x, y) -> (R, G, B)`` at integer pixel (x, y):

* rgb8 / bgr8: the stored bytes (bgr8 swapped);
* nv12: ``Y[y][x]`` with the (U, V) of chroma sample ``(x >> 1, y >> 1)``, then YUV -> RGB below;
* yuyv: the Y of pixel x with the (U, V) of pair ``x >> 1``, then YUV -> RGB below;
* bayer_rggb8: bilinear demosaic at (x, y): the native channel is the stored value; a missing channel is the mean
  of the 2 same-colour neighbours in the row or column, ``(a + b + 1) >> 1`` (the other colour at a G site), or
  of 4, ``(a + b + c + d + 2) >> 2`` (G from the 4-neighbour cross, R / B from the 4 diagonals, at R and B
  sites). Indices outside the image are mirrored without repeating the edge ("reflect-101": -1 -> 1,
  W -> W-2; same for rows), which keeps the colour of every site.

YUV -> RGB in integers (8-bit fixed point, arithmetic right shift)::

    C = Y - y_off, D = U - 128, E = V - 128
    R = clamp((cy*C + crv*E + 128) >> 8)
    G = clamp((cy*C - cgu*D - cgv*E + 128) >> 8)
    B = clamp((cy*C + cbu*D + 128) >> 8)            clamp to [0, 255]

with the standard YCbCr -> RGB matrices times 256, rounded (``YUV_COEFFS``)::

                       cy   crv  cgu  cgv  cbu  y_off
    bt601 limited     298  409  100  208  516   16    (1.164, 1.596, 0.391, 0.813, 2.018)
    bt601 full        256  359   88  183  454    0    (1.0,   1.402, 0.344, 0.714, 1.772)
    bt709 limited     298  459   55  136  541   16    (1.164, 1.793, 0.213, 0.533, 2.112)
    bt709 full        256  403   48  120  475    0    (1.0,   1.575, 0.187, 0.468, 1.856)

"limited" is video range (Y 16..235), "full" JPEG range (0..255).

Remap table entry per virtual pixel (``numpy_dtype_of_remap_entry()``, the C++ ``RemapEntry``): int16 ``camera``
at offset 0 (-1: no source), uint16 ``x0`` at 2, uint16 ``y0`` at 4, uint8 ``fx`` at 6, uint8 ``fy`` at 7:
8 bytes, little-endian, no padding. The source position is (x0 + fx/256, y0 + fy/256), with x0 + 1 < W and
y0 + 1 < H. Per RGB channel of the neighbours p00 = (x0, y0), p01 = (x0+1, y0), p10 = (x0, y0+1),
p11 = (x0+1, y0+1)::

    w00 = (256-fx)(256-fy), w01 = fx(256-fy), w10 = (256-fx)fy, w11 = fx fy
    value = (w00 p00 + w01 p01 + w10 p10 + w11 p11 + 32768) >> 16

then ``out[c][i] = lut[c][value_c]`` (int8; the LUT maps 8-bit RGB to the engine's quantized input) and
``mask[i] = 1``. No source -- camera -1 or not a camera index, a missing frame (``None``), or an entry out of
bounds -- gives ``mask[i] = 0`` and ``out[c][i] = fill[c]``.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

#: Frame shapes (as functions of width, height) of the built-in pixel formats; other formats belong to plugins.
FRAME_SHAPES: dict[str, Callable[[int, int], tuple[int, ...]]] = {
    "rgb8": lambda w, h: (h, w, 3),
    "bgr8": lambda w, h: (h, w, 3),
    "nv12": lambda w, h: (h * 3 // 2, w),
    "yuyv": lambda w, h: (h, 2 * w),
    "bayer_rggb8": lambda w, h: (h, w),
}

#: The built-in pixel formats, with the values of the C++ ``PixelFormat`` enum.
PIXEL_FORMATS = {"rgb8": 1, "bgr8": 2, "nv12": 3, "yuyv": 4, "bayer_rggb8": 5}

#: (cy, crv, cgu, cgv, cbu, y_off) per (matrix, full_range): the C++ ``yuv_coeffs``.
YUV_COEFFS: dict[tuple[str, bool], tuple[int, int, int, int, int, int]] = {
    ("bt601", False): (298, 409, 100, 208, 516, 16),
    ("bt601", True): (256, 359, 88, 183, 454, 0),
    ("bt709", False): (298, 459, 55, 136, 541, 16),
    ("bt709", True): (256, 403, 48, 120, 475, 0),
}

#: One source camera for :func:`fused_sample`: (frame or None when missing, format, matrix, full_range).
FrameSpec = Tuple[Optional[npt.NDArray[np.uint8]], str, str, bool]


def numpy_dtype_of_remap_entry() -> np.dtype:
    """The structured dtype of the C++ ``RemapEntry``: int16 camera, uint16 x0, uint16 y0, uint8 fx, uint8 fy at
    offsets 0, 2, 4, 6, 7 (8 bytes, little-endian, no padding), so a table's bytes can be shared with C++ as is."""
    dt = np.dtype({"names": ["camera", "x0", "y0", "fx", "fy"],
                   "formats": ["<i2", "<u2", "<u2", "u1", "u1"],
                   "offsets": [0, 2, 4, 6, 7], "itemsize": 8})
    return dt


def yuv_coeffs(matrix: str = "bt601", full_range: bool = True) -> tuple[int, int, int, int, int, int]:
    """(cy, crv, cgu, cgv, cbu, y_off) for ``matrix`` ("bt601" or "bt709") and the range."""
    key = (matrix, bool(full_range))
    if key not in YUV_COEFFS:
        raise ValueError(f"unknown colour matrix {matrix!r} (bt601 or bt709)")
    return YUV_COEFFS[key]


def frame_bytes(fmt: str, width: int, height: int) -> int:
    """Bytes of one frame (the C++ ``frame_bytes``): 0 when the geometry cannot exist in the format."""
    if fmt not in PIXEL_FORMATS:
        raise ValueError(f"unknown pixel format {fmt!r} (built-in: {', '.join(PIXEL_FORMATS)})")
    if width < 2 or height < 2:
        return 0
    if fmt in ("rgb8", "bgr8"):
        return width * height * 3
    if fmt == "nv12":
        return 0 if width % 2 or height % 2 else width * height + width * (height // 2)
    if fmt == "yuyv":
        return 0 if width % 2 else width * height * 2
    return width * height


def frame_size(frame: npt.NDArray[np.uint8], fmt: str) -> tuple[int, int]:
    """(width, height) of a frame array in the layout of ``fmt``; ValueError when the shape fits no such frame."""
    if fmt not in PIXEL_FORMATS:
        raise ValueError(f"unknown pixel format {fmt!r} (built-in: {', '.join(PIXEL_FORMATS)})")
    if frame.dtype != np.uint8:
        raise ValueError(f"frames are uint8, got {frame.dtype}")
    s = frame.shape
    if fmt in ("rgb8", "bgr8"):
        ok = len(s) == 3 and s[2] == 3
        w, h = (s[1], s[0]) if ok else (0, 0)
    elif fmt == "nv12":
        ok = len(s) == 2 and s[0] % 3 == 0
        w, h = (s[1], s[0] * 2 // 3) if ok else (0, 0)
    elif fmt == "yuyv":
        ok = len(s) == 2 and s[1] % 2 == 0
        w, h = (s[1] // 2, s[0]) if ok else (0, 0)
    else:
        ok = len(s) == 2
        w, h = (s[1], s[0]) if ok else (0, 0)
    if not ok or frame_bytes(fmt, int(w), int(h)) == 0:
        raise ValueError(f"shape {list(s)} is not a {fmt} frame")
    return int(w), int(h)


def yuv_to_rgb(y: npt.ArrayLike, u: npt.ArrayLike, v: npt.ArrayLike, matrix: str = "bt601",
               full_range: bool = True) -> npt.NDArray[np.uint8]:
    """The integer YUV -> RGB rule on arrays of Y, U, V (0..255): uint8[..., 3]."""
    cy, crv, cgu, cgv, cbu, y_off = yuv_coeffs(matrix, full_range)
    c = cy * (np.asarray(y, dtype=np.int32) - y_off)
    d = np.asarray(u, dtype=np.int32) - 128
    e = np.asarray(v, dtype=np.int32) - 128
    r = (c + crv * e + 128) >> 8  # numpy's >> on signed integers is arithmetic, like the C++
    g = (c - cgu * d - cgv * e + 128) >> 8
    b = (c + cbu * d + 128) >> 8
    return np.clip(np.stack([r, g, b], axis=-1), 0, 255).astype(np.uint8)


def _mirror101(i: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.int64]:
    return np.where(i < 0, -i, np.where(i >= n, 2 * n - 2 - i, i))


def _bayer_rggb(f: npt.NDArray[np.uint8], w: int, h: int, x: npt.NDArray[np.int64],
                y: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
    img = f.reshape(h, w).astype(np.int32)
    xl, xr = _mirror101(x - 1, w), _mirror101(x + 1, w)
    yu, yd = _mirror101(y - 1, h), _mirror101(y + 1, h)
    own = img[y, x]
    hsum = img[y, xl] + img[y, xr]
    vsum = img[yu, x] + img[yd, x]
    cross = (hsum + vsum + 2) >> 2
    diag = (img[yu, xl] + img[yu, xr] + img[yd, xl] + img[yd, xr] + 2) >> 2
    horiz, vert = (hsum + 1) >> 1, (vsum + 1) >> 1
    odd_row, odd_col = (y & 1) == 1, (x & 1) == 1
    rb_site = odd_row == odd_col
    r = np.where(rb_site, np.where(odd_row, diag, own), np.where(odd_row, vert, horiz))
    g = np.where(rb_site, cross, own)
    b = np.where(rb_site, np.where(odd_row, own, diag), np.where(odd_row, horiz, vert))
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def fetch_rgb(frame: npt.NDArray[np.uint8], fmt: str, xs: npt.ArrayLike, ys: npt.ArrayLike, matrix: str = "bt601",
              full_range: bool = True) -> npt.NDArray[np.uint8]:
    """(R, G, B) of the integer pixels (xs[i], ys[i]) of ``frame`` (layout of ``fmt``): uint8[N, 3]."""
    w, h = frame_size(frame, fmt)
    x = np.asarray(xs, dtype=np.int64).reshape(-1)
    y = np.asarray(ys, dtype=np.int64).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"xs and ys differ in size ({x.size} vs {y.size})")
    if x.size and (x.min() < 0 or x.max() >= w or y.min() < 0 or y.max() >= h):
        raise ValueError(f"pixel positions outside the {w}x{h} frame")
    f = np.ascontiguousarray(frame).reshape(-1)
    if fmt in ("rgb8", "bgr8"):
        p = f.reshape(h * w, 3)[y * w + x]
        return np.ascontiguousarray(p[:, ::-1] if fmt == "bgr8" else p)
    if fmt == "nv12":
        uv = w * h + (y >> 1) * w + (x >> 1) * 2
        return yuv_to_rgb(f[y * w + x], f[uv], f[uv + 1], matrix, full_range)
    if fmt == "yuyv":
        row = y * 2 * w
        pair = row + (x >> 1) * 4
        return yuv_to_rgb(f[row + 2 * x], f[pair + 1], f[pair + 3], matrix, full_range)
    return _bayer_rggb(f, w, h, x, y)


def fused_sample(table: npt.NDArray[np.void], frames: Sequence[FrameSpec], lut: npt.ArrayLike,
                 fill: npt.ArrayLike) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.uint8]]:
    """The fused remap + colour conversion + LUT pass for one virtual camera.

    ``table``: entries with fields camera, x0, y0, fx, fy (any shape, taken in C order; normally
    ``numpy_dtype_of_remap_entry()``); ``frames[k]``: (frame or None, format, matrix, full_range) of source camera
    k; ``lut``: int8[3, 256]; ``fill``: int8[3]. Returns ``(out int8[3, N], mask uint8[N])``, N = table.size.
    """
    t = np.asarray(table).reshape(-1)
    lut_a = np.asarray(lut)
    fill_a = np.asarray(fill)
    if lut_a.shape != (3, 256) or lut_a.dtype != np.int8:
        raise ValueError(f"lut must be int8[3, 256], got {lut_a.dtype}{list(lut_a.shape)}")
    if fill_a.shape != (3,) or fill_a.dtype != np.int8:
        raise ValueError(f"fill must be int8[3], got {fill_a.dtype}{list(fill_a.shape)}")
    n = t.size
    cam = t["camera"].astype(np.int64)
    x0 = t["x0"].astype(np.int64)
    y0 = t["y0"].astype(np.int64)
    fx = t["fx"].astype(np.int64)
    fy = t["fy"].astype(np.int64)
    out = np.empty((3, n), dtype=np.int8)
    out[:] = fill_a[:, None]
    mask = np.zeros(n, dtype=np.uint8)
    for k, (frame, fmt, matrix, full_range) in enumerate(frames):
        if frame is None:
            continue
        w, h = frame_size(frame, fmt)
        sel = np.flatnonzero((cam == k) & (x0 + 1 < w) & (y0 + 1 < h))
        if sel.size == 0:
            continue
        xs, ys = x0[sel], y0[sel]
        p = fetch_rgb(frame, fmt, np.concatenate([xs, xs + 1, xs, xs + 1]),
                      np.concatenate([ys, ys, ys + 1, ys + 1]), matrix, full_range).astype(np.int64)
        m = sel.size
        p00, p01, p10, p11 = p[:m], p[m:2 * m], p[2 * m:3 * m], p[3 * m:]
        ax, ay = fx[sel][:, None], fy[sel][:, None]
        value = ((256 - ax) * (256 - ay) * p00 + ax * (256 - ay) * p01 + (256 - ax) * ay * p10 + ax * ay * p11
                 + 32768) >> 16
        for c in range(3):
            out[c, sel] = lut_a[c, value[:, c]]
        mask[sel] = 1
    return out, mask
