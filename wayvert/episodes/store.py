"""Where an episode's files live: a folder, or a plain (uncompressed) .tar of that folder read in place.

A .tar is never extracted: an uncompressed tar keeps each member's bytes contiguous, so text members are read
with one seek and camera arrays are memory-mapped straight out of the tar file (``np.memmap`` at the member's
data offset plus the .npy header). Compressed tars (.tar.gz, ...) cannot be mapped and are refused.
"""
from __future__ import annotations

import os
import tarfile
from pathlib import Path

import numpy as np

from .spec import META_FILE, EpisodeError


class DirStore:
    """Files of an episode folder."""

    def __init__(self, root: Path):
        self.root = root

    def __str__(self) -> str:
        return str(self.root)

    def exists(self, name: str) -> bool:
        return (self.root / name).is_file()

    def read_text(self, name: str) -> str:
        try:
            return (self.root / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise EpisodeError(f"{self.root}: missing file {name}") from None
        except (OSError, UnicodeDecodeError) as e:
            raise EpisodeError(f"{self.root / name}: cannot read: {e}") from None

    def open_npy(self, name: str) -> np.ndarray:
        """The .npy array ``name``, memory-mapped read-only (nothing is read but its header)."""
        path = self.root / name
        if not path.is_file():
            raise EpisodeError(f"{self.root}: missing file {name}")
        try:
            array: np.ndarray = np.load(path, mmap_mode="r", allow_pickle=False)
            return array
        except (OSError, ValueError) as e:
            raise EpisodeError(f"{path}: not a readable .npy array: {e}") from None


class TarStore:
    """Files of an episode packed as a plain .tar (members at the top level or under one folder)."""

    def __init__(self, path: Path):
        self.path = path
        try:
            with tarfile.open(path, "r:") as tf:
                members = [m for m in tf.getmembers() if m.isfile()]
        except (tarfile.TarError, OSError) as e:
            raise EpisodeError(f"{path}: not a readable uncompressed tar (compressed tars cannot be memory-"
                               f"mapped; pack with plain `tar cf`): {e}") from None
        named = {os.path.normpath(m.name): m for m in members}   # "./ep/x" and "ep/x" alike
        metas = [n for n in named if os.path.basename(n) == META_FILE and n.count("/") <= 1]
        if len(metas) != 1:
            raise EpisodeError(f"{path}: a tar episode holds exactly one {META_FILE} at its top level or in one "
                               f"folder; found {len(metas)}")
        prefix = os.path.dirname(metas[0])
        prefix = prefix + "/" if prefix else ""
        self.members = {n[len(prefix):]: m for n, m in named.items() if n.startswith(prefix)}

    def __str__(self) -> str:
        return str(self.path)

    def exists(self, name: str) -> bool:
        return name in self.members

    def _member(self, name: str) -> tarfile.TarInfo:
        m = self.members.get(name)
        if m is None:
            raise EpisodeError(f"{self.path}: missing file {name}")
        if m.sparse is not None:
            raise EpisodeError(f"{self.path}: member {name} is a sparse file and cannot be read in place")
        return m

    def read_text(self, name: str) -> str:
        m = self._member(name)
        with open(self.path, "rb") as f:
            f.seek(m.offset_data)
            raw = f.read(m.size)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise EpisodeError(f"{self.path}: {name}: not UTF-8 text: {e}") from None

    def open_npy(self, name: str) -> np.ndarray:
        m = self._member(name)
        with open(self.path, "rb") as f:
            f.seek(m.offset_data)
            try:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                else:
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            except ValueError as e:
                raise EpisodeError(f"{self.path}: {name}: not a .npy array: {e}") from None
            data_offset = f.tell()
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if data_offset - m.offset_data + nbytes > m.size:
            raise EpisodeError(f"{self.path}: {name}: truncated: its header promises {nbytes} bytes of data")
        if nbytes == 0:
            return np.empty(shape, dtype)
        return np.memmap(self.path, dtype=dtype, mode="r", offset=data_offset, shape=shape,
                         order="F" if fortran else "C")


def open_store(path: str | os.PathLike[str]) -> DirStore | TarStore:
    """The store for an episode folder or .tar file."""
    p = Path(path)
    if p.is_dir():
        return DirStore(p)
    if p.is_file():
        return TarStore(p)
    raise EpisodeError(f"{p}: no such episode folder or .tar file")
