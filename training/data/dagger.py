"""DAgger with our own expert (Ross, Gordon & Bagnell, AISTATS 2011): the deployed stack drives, the expert labels
the states it visits.

Imitation from the expert's own drives teaches the network what to do on the expert's states only; in closed
loop the network's small errors take the car to states the expert never visits (off the lane centre, too slow,
stopped by the fallback) and the errors compound. DAgger closes that gap: roll out the current policy, ask the
expert what it would do *from the states the policy reached*, add those labels to the data and retrain. The
pure-pursuit + IDM expert can label any state of the synthetic world for free: fork the world, let the expert
drive the copy for the plan's horizon, and record what it did.

Every HISTORY_STRIDE ticks of a drive (the training data's 2 Hz) the canonical cameras the engine saw are kept;
at each such tick the world is forked and the expert drives the copy for schema.HORIZON_S. One **fork episode**
(docs/episode-format.md) is written per labelled state: the last schema.HISTORY_FRAMES frame sets the policy
saw (so the sample's history is the policy's own) and an ego log that starts at the fork and holds the expert's
drive from there. Frames before the log's first row are not samples, so each fork episode holds exactly one
sample: the state the policy reached, labelled with the expert's future. ``EpisodeDataset`` reads them like any
other episode, so a round's folder is simply added to ``data.aggregate``.

numpy + the C++ runtime only: the policy is an engine (what ships), so the states are those of the deployed
stack (adapter, int8 engine, verifier, tracker).
"""
from __future__ import annotations

import copy
import multiprocessing
import os
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from wayvert import schema
from wayvert.closed_loop.loop import FrameRecord, drive
from wayvert.episodes.writer import EpisodeWriter
from wayvert.sim import World, labels

# Routes of DAgger rounds: world seeds DAGGER_SEED0 + 1000 * round + i; away from every evaluation and training
# seed (training episodes 1000.., held-out 9000.., left-hand 5000.., closed-loop routes 70000.. / 80000.. /
# 90000..).
DAGGER_SEED0 = 30000


def _nearest_lane(world: World) -> int:
    """The lane whose centre is nearest the ego's rear axle (the lane the policy has put the car in)."""
    offsets = [abs(world.frenet_ego(i)[1]) for i in range(world.road.n_lanes)]
    return int(np.argmin(offsets))


def expert_fork(world: World) -> list[tuple[float, Any, str]]:
    """(t, ego state, route command) every tick from now to now + schema.HORIZON_S while the expert drives a copy
    of ``world`` from its current state. The copy's ego lane is the lane the car is in now: the label says how to
    settle into it, not how to go back to where the episode started."""
    w = copy.deepcopy(world)
    w.ego_lane = _nearest_lane(w)
    w.lane_change_from = None
    ticks = int(round(schema.HORIZON_S / schema.FRAME_DT_S))
    rows = []
    for k in range(ticks + 1):
        rows.append((round(world.t + k * schema.FRAME_DT_S, 9), copy.copy(w.ego), labels.route_command(w)))
        if k < ticks:
            w.step(schema.FRAME_DT_S)
    return rows


class _Recorder:
    """The ``on_frame`` hook of ``drive``: keeps the policy's frame sets at 2 Hz and writes a fork episode at each."""

    def __init__(self, planner: Any, out: Path, seed: int, round_: int) -> None:
        self.planner, self.out, self.seed, self.round = planner, out, seed, round_
        self.history: deque[dict[str, Any]] = deque(maxlen=schema.HISTORY_FRAMES)
        self.written: list[Path] = []
        self.tick = 0

    def __call__(self, world: World, rec: FrameRecord) -> None:
        k, self.tick = self.tick, self.tick + 1
        if k % schema.HISTORY_STRIDE:
            return
        frames = self.planner.last_frames
        self.history.append({"t": round(world.t, 9), "frames": frames, "scenario": labels.scenario(world),
                             "lead_gap": labels.lead_gap_m(world), "objects": world.objects_in_ego_frame()})
        path = self.out / f"fork_r{self.round}_{self.seed:06d}_{k:04d}"
        rig = self.planner.rig
        with EpisodeWriter(path, rig, episode_id=path.name, source=f"DAgger round {self.round}, world seed "
                           f"{self.seed}, tick {k}: the policy drove, the expert labels", weather=world.weather,
                           lighting=world.lighting, traffic_side="left" if world.road.left_hand else "right",
                           extra={"dagger": {"round": self.round, "seed": self.seed, "tick": k,
                                             "policy_fallback": bool(rec.fallback)}}) as w:
            for h in self.history:
                w.add_frames(h["t"], h["frames"], scenario=h["scenario"], lead_gap=h["lead_gap"],
                             objects=h["objects"])
            for t, ego, command in expert_fork(world):
                w.add_ego(t, ego, command)
        self.written.append(path)


def collect_route(engine_path: str, seed: int, frames: int, out: str | os.PathLike[str], round_: int = 1
                  ) -> dict[str, Any]:
    """Drive route ``seed`` for ``frames`` ticks with the engine behind the canonical rig (adapter, engine,
    verifier, tracker) and write a fork episode every HISTORY_STRIDE ticks under ``out``. Returns a summary."""
    from wayvert.closed_loop.planners import EnginePlanner
    from wayvert.engine import Engine
    from wayvert.sensors import shipped_rig

    planner = EnginePlanner(Engine.load(engine_path), shipped_rig(schema.CANONICAL_RIG), name="policy")
    rec = _Recorder(planner, Path(out), seed, round_)
    log = drive(planner, seed, frames, on_frame=rec)
    return {"seed": seed, "ticks": len(log.states), "episodes": len(rec.written), "progress_m": round(log.progress_m, 1),
            "fallback_frames": sum(f.fallback for f in log.frames), "collided": log.collided,
            "departed": log.departed}


def _job(args: tuple[str, int, int, str, int]) -> dict[str, Any]:
    return collect_route(*args)


def collect(engine_path: str, out: str | os.PathLike[str], routes: int, round_: int = 1, frames: int = 200,
            seed0: int | None = None, workers: int = 2, progress: bool = True) -> dict[str, Any]:
    """One DAgger round: ``routes`` routes (seeds ``seed0`` .., default DAGGER_SEED0 + 1000 * round) driven by the
    engine, every visited state at 2 Hz labelled by the expert, written as fork episodes under ``out``.
    ``workers`` processes. Returns {"routes": [per-route summaries], "episodes": n}."""
    from wayvert.errors import InvalidArgumentError

    if routes < 1 or frames < 1 or round_ < 0:
        raise InvalidArgumentError(f"DAgger needs routes >= 1, frames >= 1, round >= 0; got {routes}, {frames}, "
                                   f"{round_}")
    if not Path(engine_path).is_file():  # fail here, in this process, not in every worker
        raise InvalidArgumentError(f"DAgger: no engine file {engine_path}")
    seed0 = DAGGER_SEED0 + 1000 * round_ if seed0 is None else seed0
    Path(out).mkdir(parents=True, exist_ok=True)
    jobs = [(str(engine_path), seed0 + i, frames, str(out), round_) for i in range(routes)]
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=routes, unit="route", desc=f"DAgger round {round_}")
    results: list[dict[str, Any]] = []
    try:
        if workers <= 1:
            for j in jobs:
                results.append(_job(j))
                if bar is not None:
                    bar.update(1)
        else:
            with multiprocessing.get_context().Pool(workers) as pool:
                for r in pool.imap_unordered(_job, jobs):
                    results.append(r)
                    if bar is not None:
                        bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    results.sort(key=lambda r: r["seed"])
    return {"round": round_, "engine": str(engine_path), "routes": results,
            "episodes": sum(r["episodes"] for r in results)}
