"""``wayvert run``: offline replay of a recorded episode through an engine, numpy and the C++ runtime only.

Each frame set of the episode (docs/episode-format.md), in time order, goes through what the vehicle runs: the
sensor adapter (episode rig -> the engine's canonical rig), the engine in one stateful session, and the trajectory
verifier with the recorded objects. Each yields one JSON-ready record (fields in docs/cli.md)::

    from wayvert.replay import replay_episode, summarize
    records = list(replay_episode("model.wvrt", "episodes/episode_1000"))
    print(summarize(records)["latency_ms"]["engine"])
"""
from __future__ import annotations

import os
from typing import Any, Iterable, Iterator

from wayvert.engine import Engine
from wayvert.episodes.reader import open_episode
from wayvert.sensors.rig import Rig

from .frame_set import FrameSet, ego_at, episode_frame_sets, resolve_rig
from .pipeline import candidates, canonical_rig, replay
from .record import STAGES, reason_names, summarize, summary_line, to_json_line


def replay_episode(engine: Engine | str | os.PathLike[str], episode: Any, *, rig: str | Rig | None = None,
                   frames: int | None = None, drop_cameras: Iterable[str] = (), budget_s: float | None = None,
                   slow_stage: Any = None) -> Iterator[dict[str, Any]]:
    """Records of the first ``frames`` frame sets (all by default) of ``episode`` (a path, or an opened
    ``Episode``) replayed through ``engine`` (a path or an Engine). ``rig`` overrides the episode's rig.json (a
    Rig, shipped rig name or rig JSON path with the same cameras and frame shapes); ``drop_cameras`` are fed as
    missing, to see what a camera failure would do. ``budget_s`` and ``slow_stage``: frame deadlines (see
    ``replay``). Bad inputs raise before the first record: EngineFormatError /
    EngineIOError for the engine, InputError (EpisodeError) for the episode, rig or camera names."""
    eng = engine if isinstance(engine, Engine) else Engine.load(engine)
    ep = open_episode(episode) if isinstance(episode, (str, os.PathLike)) else episode
    car_rig = resolve_rig(rig, ep)
    canonical_rig(eng)   # refuse an engine it cannot feed now, not at the first frame
    source = episode_frame_sets(ep, frames=frames, drop_cameras=drop_cameras)
    return replay(eng, car_rig, source, wet=ep.meta.get("weather") == "rain", budget_s=budget_s, slow_stage=slow_stage)


__all__ = ["FrameSet", "STAGES", "candidates", "canonical_rig", "ego_at", "episode_frame_sets", "reason_names",
           "replay", "replay_episode", "resolve_rig", "summarize", "summary_line", "to_json_line"]
