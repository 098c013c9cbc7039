"""``wayvert index``: run the int8 engine over every frame of an episode store and write the per-frame index.

Per frame set: the episode's cameras -> sensor adapter (episode rig -> the engine's canonical rig) -> engine
session -> (with ``verify``) the trajectory verifier on the recorded objects; one row per frame set that ran
(table.COLUMNS). The embedding is the engine's ``features`` output when it has one; otherwise the input of the
``scenario_logits`` head (the trunk's features), read by rebuilding the engine with that tensor as one more
output (``wayvert.graph.with_outputs``: the other outputs stay bit-identical). numpy and the C++ runtime only.
"""
from __future__ import annotations

import math
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from wayvert import schema
from wayvert.digest import file_sha256
from wayvert.engine import Engine
from wayvert.episodes import find_episodes, open_episode
from wayvert.errors import InputError, InvalidArgumentError, UnsupportedEngineError
from wayvert.graph import engine_ops, producer_input, with_outputs
from wayvert.replay.frame_set import episode_frame_sets, ego_is_finite
from wayvert.replay.pipeline import MAX_OBJECTS, candidates, canonical_rig
from wayvert.replay.record import reason_names
from wayvert.safety import EgoState, Verifier
from wayvert.sensors.adapter import SensorAdapter

from .table import (FORMAT_NAME, FORMAT_VERSION, PARTS, IndexFileError, read_manifest, require_pyarrow,
                    write_manifest, write_part)

FEATURES_OUTPUT = "features"


@dataclass(frozen=True)
class IndexSummary:
    """What one ``build_index`` call did: episodes and frames indexed now, skipped (already done), frames that could
    not run, seconds and frames/s of this call, and the index folder's totals."""

    episodes_indexed: int
    episodes_skipped: int
    frames: int
    frames_not_run: int
    seconds: float
    total_episodes: int
    total_frames: int

    @property
    def frames_per_s(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0



def indexing_engine(path: str | os.PathLike[str]) -> tuple[Engine, str]:
    """The engine to index with and the tensor its embedding comes from. Raises ``UnsupportedEngineError`` for an
    engine a replay cannot feed or without a ``scenario_logits`` [1, len(SCENARIOS)] output."""
    engine = Engine.load(path)
    canonical_rig(engine)
    outs = {s.name: s for s in engine.outputs}
    scen = outs.get("scenario_logits")
    if scen is None or tuple(scen.shape) != (1, len(schema.SCENARIOS)):
        raise UnsupportedEngineError(f"{engine.source}: cannot index with this engine: it needs a scenario_logits "
                                     f"output [1, {len(schema.SCENARIOS)}] ({', '.join(schema.SCENARIOS)})")
    if FEATURES_OUTPUT in outs:
        return engine, FEATURES_OUTPUT
    # The trunk's features: what the mode head reads (with a scenario branch, the scenario head reads the branch's
    # features instead, so it is not the place to tap), else what the scenario head reads.
    tensor = producer_input(engine_ops(engine), "mode_logits" if "mode_logits" in outs else "scenario_logits")
    tapped = Engine.from_bytes(with_outputs(engine, {FEATURES_OUTPUT: tensor}).to_bytes())
    return tapped, tensor


def _part_name(rel: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", rel.replace(os.sep, "__")) + ".parquet"


def _softmax(x: np.ndarray) -> np.ndarray:
    z = np.asarray(x, np.float64) - np.max(x)
    e: np.ndarray = np.exp(z)
    return e / float(e.sum())


def build_index(episodes: str | os.PathLike[str], engine_path: str | os.PathLike[str], out: str | os.PathLike[str],
                *, threads: int | None = None, verify: bool = False, overwrite: bool = False, progress: bool = True,
                on_episode: Callable[[str], None] | None = None) -> IndexSummary:
    """Index every episode under ``episodes`` (a folder of episodes, or one) into the folder ``out``.

    Resumable: episodes already in ``out``'s manifest are skipped, provided the manifest names the same engine
    (SHA-256) and the same ``verify``; otherwise ``IndexFileError`` unless ``overwrite`` (which starts afresh).
    ``threads``: the session's intra-op threads (default: every CPU). ``on_episode`` (tests) is called with each
    episode's relative path after its part is written.
    """
    require_pyarrow()
    root = Path(episodes)
    paths = find_episodes(root)
    if not paths:
        raise InputError(f"{root}: no episodes found (a folder of episodes, or one episode)")
    n_threads = int(threads) if threads is not None else max(1, os.cpu_count() or 1)
    if n_threads < 1:
        raise InvalidArgumentError(f"threads must be at least 1, got {n_threads}")
    engine, tensor = indexing_engine(engine_path)
    digest = file_sha256(os.fspath(engine_path))
    folder = Path(out)
    (folder / PARTS).mkdir(parents=True, exist_ok=True)
    fresh = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "episodes_root": str(root),
             "engine": {"path": os.fspath(engine_path), "sha256": digest, "name": engine.meta.get("model", {}).get("name")},
             "verify": bool(verify), "scenarios": list(schema.SCENARIOS),
             "embedding": {"tensor": tensor, "dim": 0}, "episodes": {}}
    if (folder / "index.json").exists() and not overwrite:
        manifest = read_manifest(folder)
        if manifest["engine"].get("sha256") != digest:
            raise IndexFileError(f"{folder}: indexed with another engine (sha256 {manifest['engine'].get('sha256')}); "
                                 "use a new folder, or --overwrite to start again")
        if bool(manifest.get("verify")) != bool(verify):
            raise IndexFileError(f"{folder}: indexed with verify={manifest.get('verify')}; resume with the same "
                                 "--verify, or --overwrite")
    else:
        manifest = fresh
        for stale in (folder / PARTS).glob("*.parquet"):
            stale.unlink()
    rels = [os.path.relpath(p, root) if p != root else p.name for p in paths]
    todo = [(p, r) for p, r in zip(paths, rels)
            if r not in manifest["episodes"] or not (folder / PARTS / manifest["episodes"][r]["part"]).exists()]
    bar = None
    if progress:
        try:
            from tqdm import tqdm
            bar = tqdm(total=len(todo), unit="episode", desc="indexing", file=sys.stderr)
        except ImportError:
            bar = None
    session = engine.session(threads=n_threads)
    verifier = Verifier(max_objects=MAX_OBJECTS) if verify else None
    spec = next(s for s in engine.inputs if s.name == "image")
    canonical = canonical_rig(engine)
    command = np.zeros((1, len(schema.COMMANDS)), np.float32)
    frames_done = not_run = 0
    t_start = time.perf_counter()
    try:
        for path, rel in todo:
            ep = open_episode(path)
            adapter = SensorAdapter(ep.rig, canonical, scale=spec.scale, zero_point=spec.zero_point)
            session.reset()
            rows: dict[str, list[Any]] = {}
            emb: list[np.ndarray] = []
            labels = getattr(ep.frames, "scenario", None)
            t0 = time.perf_counter()
            for fs in episode_frame_sets(ep):
                if not ego_is_finite(fs.ego) or any(f is None for f in fs.frames.values()):
                    not_run += 1
                    continue
                tensor_in, _ = adapter.convert({k: np.array(v, np.uint8) for k, v in fs.frames.items()})
                command[:] = 0.0
                command[0, fs.command] = 1.0
                out_ = session.run({"image": tensor_in, "ego": np.array([[fs.ego.speed, fs.ego.yaw_rate]], np.float32),
                                    "command": command})
                features = np.asarray(out_[FEATURES_OUTPUT], np.float32).reshape(-1)
                if not np.isfinite(features).all():
                    not_run += 1
                    continue
                probs = _softmax(np.asarray(out_["scenario_logits"]).reshape(-1))
                logits = np.asarray(out_["mode_logits"]).reshape(-1)
                mode_p = _softmax(logits)
                top = int(np.argmax(logits))
                mode, verdict, reasons = top, None, []
                if verifier is not None:
                    v = verifier.check(candidates(out_["trajectories"][0], fs.ego.speed), logits,
                                       EgoState(speed=fs.ego.speed, accel=fs.ego.accel, yaw_rate=fs.ego.yaw_rate,
                                                steering=fs.ego.steering),
                                       objects=None if fs.objects is None else fs.objects[:MAX_OBJECTS],
                                       boundaries=None, wet=ep.meta.get("weather") == "rain")
                    mode = int(v.chosen)
                    verdict = "fallback" if v.fallback_used else ("top" if mode == top else "other_mode")
                    reasons = reason_names(v.reasons[top])
                label = None
                if labels is not None:
                    code = int(labels[fs.index])
                    label = schema.SCENARIOS[code] if 0 <= code < len(schema.SCENARIOS) else None
                row = {
                    "episode": str(ep.meta.get("id", rel)), "episode_path": rel, "frame": int(fs.index),
                    "t_s": float(fs.t_s), "speed_mps": float(fs.ego.speed), "command": schema.COMMANDS[fs.command],
                    "weather": ep.meta.get("weather"), "lighting": ep.meta.get("lighting"),
                    "traffic_side": ep.meta.get("traffic_side"), "rig": ep.rig.name, "label_scenario": label,
                    **{f"p_{c}": float(p) for c, p in zip(schema.SCENARIOS, probs)},
                    "scenario": schema.SCENARIOS[int(np.argmax(probs))],
                    "lead_distance_m": float(np.asarray(out_.get("lead_distance", [math.nan])).reshape(-1)[0]),
                    "target_speed_mps": float(np.asarray(out_.get("target_speed", [math.nan])).reshape(-1)[0]),
                    "curvature_per_m": float(np.asarray(out_.get("curvature", [math.nan])).reshape(-1)[0]),
                    "mode": mode, "mode_score": float(mode_p[mode]) if mode >= 0 else math.nan,
                    "verdict": verdict, "reasons": reasons,
                }
                for k, val in row.items():
                    rows.setdefault(k, []).append(val)
                emb.append(features)
                frames_done += 1
            dim = int(features.shape[0]) if emb else int(manifest["embedding"].get("dim") or 0)
            if manifest["embedding"].get("dim") not in (0, dim):
                raise IndexFileError(f"{folder}: embedding width {dim} differs from the manifest's "
                                     f"{manifest['embedding']['dim']}")
            manifest["embedding"]["dim"] = dim
            if emb:
                part = _part_name(rel)
                write_part(folder / PARTS / part, {**rows, "embedding": np.stack(emb)}, dim)
                manifest["episodes"][rel] = {"part": part, "id": str(ep.meta.get("id", rel)), "frames": len(emb),
                                             "seconds": round(time.perf_counter() - t0, 3)}
                write_manifest(folder, manifest)
            if on_episode is not None:
                on_episode(rel)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - t_start
    manifest["frames"] = int(sum(e["frames"] for e in manifest["episodes"].values()))
    if frames_done:
        manifest["last_run"] = {"frames": frames_done, "seconds": round(seconds, 3), "threads": n_threads,
                                "frames_per_s": round(frames_done / seconds, 2)}
    write_manifest(folder, manifest)
    return IndexSummary(episodes_indexed=len(todo), episodes_skipped=len(paths) - len(todo), frames=frames_done,
                        frames_not_run=not_run, seconds=seconds, total_episodes=len(manifest["episodes"]),
                        total_frames=manifest["frames"])


__all__ = ["FEATURES_OUTPUT", "IndexSummary", "build_index", "indexing_engine"]
