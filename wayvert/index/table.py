"""An index on disk (docs/curation.md): a folder of Parquet parts, one per episode, and ``index.json``.

Parquet through ``pyarrow`` (the ``data`` extra): columnar, compressed, and read as one table by pyarrow, pandas,
Polars or DuckDB (``SELECT * FROM 'INDEX/parts/*.parquet'``). The manifest says which engine wrote the rows, with
which options, and which episodes are done: an interrupted ``wayvert index`` resumes from it.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import numpy.typing as npt

from wayvert import schema
from wayvert.errors import InputError, InvalidArgumentError

FORMAT_NAME = "wayvert-index"
FORMAT_VERSION = 1
MANIFEST = "index.json"
PARTS = "parts"

#: Per-frame columns and their Arrow types (the embedding is a fixed-size list of float32, its width in the
#: manifest). Scenario probabilities are one column per class, ``p_<class>``, in schema.SCENARIOS order.
COLUMNS: dict[str, str] = {
    "episode": "string",            # episode id (episode.json "id")
    "episode_path": "string",       # the episode folder or tar as it was found under the indexed root
    "frame": "int32",               # frame-set index in the episode
    "t_s": "float64",               # time on the episode's clock
    "speed_mps": "float32",         # ego speed at t_s (ego.csv)
    "command": "string",            # route command at t_s
    "weather": "string",            # episode conditions (episode.json)
    "lighting": "string",
    "traffic_side": "string",
    "rig": "string",
    "label_scenario": "string",     # the recorded label where frames.csv has one, else null (never used to select)
    **{f"p_{name}": "float32" for name in schema.SCENARIOS},
    "scenario": "string",           # the engine's most probable scenario
    "lead_distance_m": "float32",
    "target_speed_mps": "float32",
    "curvature_per_m": "float32",
    "mode": "int16",                # the chosen mode: the verifier's choice with --verify (-1: fallback), else the top
    "mode_score": "float32",        # softmax probability of the chosen mode among the network's modes (NaN: fallback)
    "verdict": "string",            # with --verify: "top" (top mode passed), "other_mode", "fallback"; else null
    "reasons": "list<string>",      # with --verify: the checks the top mode failed
    "embedding": "embedding",       # the trunk's features, fixed_size_list<float32>[dim]
}


class IndexFileError(InputError):
    """An index folder is malformed, of another format version, or was written by another engine or options than
    the ones given to resume it; the message names the file and the field."""


def require_pyarrow() -> Any:
    """The ``pyarrow`` module, or an ``InvalidArgumentError`` saying how to install it."""
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise InvalidArgumentError("indexes are Parquet files: install pyarrow (pip install 'wayvert[data]')") from None
    return pyarrow


def arrow_schema(embedding_dim: int) -> Any:
    pa = require_pyarrow()
    types = {"string": pa.string(), "int32": pa.int32(), "int16": pa.int16(), "float32": pa.float32(),
             "float64": pa.float64(), "list<string>": pa.list_(pa.string()),
             "embedding": pa.list_(pa.float32(), int(embedding_dim))}
    return pa.schema([(name, types[kind]) for name, kind in COLUMNS.items()])


def write_part(path: Path, rows: Mapping[str, Any], embedding_dim: int) -> None:
    """Write one episode's rows (column name -> list or array) to ``path`` atomically (temporary file, rename)."""
    pa = require_pyarrow()
    import pyarrow.parquet as pq

    cols = dict(rows)
    emb = np.asarray(cols.pop("embedding"), np.float32).reshape(-1, embedding_dim)
    arrays = {name: pa.array(cols[name], type=arrow_schema(embedding_dim).field(name).type)
              for name in COLUMNS if name != "embedding"}
    arrays["embedding"] = pa.FixedSizeListArray.from_arrays(pa.array(emb.reshape(-1)), int(embedding_dim))
    table = pa.table([arrays[name] for name in COLUMNS], schema=arrow_schema(embedding_dim))
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexFileError(f"{folder}: no {MANIFEST}: not an index folder (wayvert index writes one)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise IndexFileError(f"{path}: unreadable: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise IndexFileError(f"{path}: format is not {FORMAT_NAME!r}")
    if manifest.get("version") != FORMAT_VERSION:
        raise IndexFileError(f"{path}: version {manifest.get('version')!r}; this wayvert reads version {FORMAT_VERSION}")
    for key, kind in (("episodes", dict), ("embedding", dict), ("engine", dict), ("scenarios", list)):
        if not isinstance(manifest.get(key), kind):
            raise IndexFileError(f"{path}: field {key!r} is missing or not a {kind.__name__}")
    return manifest


def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)


class Index:
    """A whole index in memory: ``columns`` (name -> numpy array; ``reasons`` a list of lists), ``embedding``
    [N, D] float32 and the ``manifest``. Rows are in episode order (the manifest's), then frame order."""

    def __init__(self, columns: dict[str, Any], embedding: npt.NDArray[np.float32], manifest: dict[str, Any]):
        self.columns, self.embedding, self.manifest = columns, embedding, manifest

    def __len__(self) -> int:
        return int(self.embedding.shape[0])

    def __getitem__(self, name: str) -> Any:
        return self.columns[name]

    def probabilities(self) -> npt.NDArray[np.float32]:
        """[N, len(SCENARIOS)] scenario probabilities."""
        return np.stack([self.columns[f"p_{c}"] for c in self.manifest["scenarios"]], axis=1).astype(np.float32)

    def keys(self) -> list[str]:
        """``episode:frame`` of every row (what ``--query`` takes)."""
        return [f"{e}:{int(f)}" for e, f in zip(self.columns["episode"], self.columns["frame"])]


def read_index(folder: str | os.PathLike[str], columns: Iterable[str] | None = None) -> Index:
    """Read every part listed in the manifest (an interrupted index reads as far as it got)."""
    require_pyarrow()
    import pyarrow.parquet as pq

    root = Path(folder)
    manifest = read_manifest(root)
    dim = int(manifest["embedding"].get("dim", 0))
    want = list(COLUMNS) if columns is None else list(dict.fromkeys([*columns, "embedding"]))
    unknown = sorted(set(want) - set(COLUMNS))
    if unknown:
        raise InvalidArgumentError(f"unknown index column(s) {unknown}; the columns are {list(COLUMNS)}")
    tables = []
    for name in sorted(manifest["episodes"]):
        part = root / PARTS / manifest["episodes"][name]["part"]
        try:
            t = pq.read_table(part, columns=want)
        except FileNotFoundError:
            raise IndexFileError(f"{root}: part {part.name} of episode {name!r} is missing") from None
        except Exception as e:  # pyarrow raises ArrowInvalid / OSError subclasses for a damaged file
            raise IndexFileError(f"{part}: unreadable Parquet: {e}") from None
        if t.schema.field("embedding").type.list_size != dim:
            raise IndexFileError(f"{part}: embedding width {t.schema.field('embedding').type.list_size}, manifest {dim}")
        tables.append(t)
    out: dict[str, Any] = {}
    for name in want:
        if name == "embedding":
            continue
        chunks = [t.column(name).to_pylist() if COLUMNS[name] in ("string", "list<string>")
                  else t.column(name).to_numpy() for t in tables]
        if COLUMNS[name] == "list<string>":
            out[name] = [x for c in chunks for x in c]
        elif COLUMNS[name] == "string":
            out[name] = np.array([x for c in chunks for x in c], dtype=object)
        else:
            out[name] = np.concatenate(chunks) if chunks else np.zeros(0, COLUMNS[name])
    emb = [t.column("embedding").combine_chunks().flatten().to_numpy().reshape(-1, dim) for t in tables]
    embedding = np.concatenate(emb).astype(np.float32) if emb else np.zeros((0, dim), np.float32)
    return Index(out, embedding, manifest)


__all__ = ["COLUMNS", "FORMAT_NAME", "FORMAT_VERSION", "Index", "IndexFileError", "MANIFEST", "PARTS", "arrow_schema",
           "read_index", "read_manifest", "require_pyarrow", "write_manifest", "write_part"]
