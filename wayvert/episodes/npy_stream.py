"""``NpyAppender``: a .npy file grown one frame at a time, its header (holding the frame count) fixed at close.

The header is written first with room for any frame count (padded with spaces, as the .npy format allows), so
closing rewrites those bytes in place and the frames never have to be held in memory or copied.
"""
from __future__ import annotations

import os
import struct

import numpy as np
import numpy.typing as npt

_MAGIC = b"\x93NUMPY\x01\x00"           # .npy version 1.0: a 2-byte little-endian header length
_ROOM_FOR_COUNT = 10 ** 15


def _header(dtype: np.dtype, shape: tuple[int, ...], total: int | None = None) -> bytes:
    d = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    text = repr(d)
    if total is None:  # smallest multiple of 64 bytes (the alignment numpy uses) that fits
        total = -(-(len(_MAGIC) + 2 + len(text) + 1) // 64) * 64
    body = text.ljust(total - len(_MAGIC) - 2 - 1) + "\n"
    return _MAGIC + struct.pack("<H", len(body)) + body.encode("latin1")


class NpyAppender:
    """Appends arrays of one ``frame_shape`` and ``dtype`` as rows of an [N, *frame_shape] .npy at ``path``."""

    def __init__(self, path: str | os.PathLike[str], frame_shape: tuple[int, ...],
                 dtype: npt.DTypeLike = np.uint8) -> None:
        self.path = os.fspath(path)
        self.frame_shape = tuple(int(v) for v in frame_shape)
        self.dtype = np.dtype(dtype)
        self.count = 0
        self._header_len = len(_header(self.dtype, (_ROOM_FOR_COUNT, *self.frame_shape)))
        self._file = open(self.path, "wb")
        self._file.write(_header(self.dtype, (0, *self.frame_shape), self._header_len))

    def append(self, frame: np.ndarray) -> None:
        """Write one frame (must have ``frame_shape`` and ``dtype``)."""
        a = np.ascontiguousarray(frame)
        if a.shape != self.frame_shape or a.dtype != self.dtype:
            raise ValueError(f"{self.path}: frame must be {self.dtype} {list(self.frame_shape)}, "
                             f"got {a.dtype} {list(a.shape)}")
        self._file.write(a.tobytes())
        self.count += 1

    def close(self) -> None:
        """Write the final header (frame count) and close; idempotent."""
        if self._file.closed:
            return
        self._file.seek(0)
        self._file.write(_header(self.dtype, (self.count, *self.frame_shape), self._header_len))
        self._file.close()
