"""Episodes from the synthetic world: the expert drives, ego.csv logs every tick (10 Hz), the rig is rendered every
``frame_stride`` ticks (2 Hz by default: rendering costs ~0.1 s per frame set) and each frame set is labelled.

Every episode is a function of its seed alone (variety, world, traffic), so a dataset is identical byte for byte
whatever the number of worker processes.
"""
from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

import numpy as np

from wayvert import schema
from wayvert.episodes.writer import EpisodeWriter
from wayvert.sensors import shipped_rig
from wayvert.sensors.rig import Rig
from wayvert.sim import World, draw_variety, labels
from wayvert.sim.render import Renderer

DEFAULT_DURATION_S = 20.0
DEFAULT_INTERNAL_WIDTH = 128
_RENDERERS: dict[tuple[str, int], Renderer] = {}


def _renderer(rig: Rig, width: int) -> Renderer:
    key = (repr(rig.to_dict()), width)
    if key not in _RENDERERS:
        _RENDERERS[key] = Renderer(rig, max_internal_width=width)
    return _RENDERERS[key]


def frame_count(duration_s: float, frame_stride: int = schema.HISTORY_STRIDE) -> int:
    """Frame sets of an episode of ``duration_s`` (s) of camera frames, one every ``frame_stride`` ticks."""
    return max(1, int(round(duration_s / (frame_stride * schema.FRAME_DT_S))))


def generate_episode(path: str | os.PathLike[str], seed: int, duration_s: float = DEFAULT_DURATION_S, *,
                     bad_dreams: bool = False, left_hand: bool = False, weather: str | None = None,
                     lighting: str | None = None, lanes: int | None = None, traffic_density: float | None = None,
                     obstacles: int | None = None, junction: bool | None = None,
                     rig: str | Rig = schema.CANONICAL_RIG, max_internal_width: int = DEFAULT_INTERNAL_WIDTH,
                     frame_stride: int = schema.HISTORY_STRIDE, cut_in_rate: float = 0.0,
                     start_speed: tuple[float, float] | None = None) -> Path:
    """Drive the world of ``seed`` with the expert and write the episode folder ``path``.

    ``duration_s`` (s) of frame sets (``frame_count(duration_s)`` of them, the first at t = 0); the ego log runs
    schema.HORIZON_S longer so every frame has its future. Parameters left None are drawn from the seed
    (``draw_variety``). ``rig``: a shipped rig name or a Rig. ``cut_in_rate``: injected cut-ins per minute
    (targeted data for a rare class; World). ``start_speed``: (lo, hi) fractions of the desired speed; the ego
    starts at one drawn uniformly from the seed's own stream (default: 0.9, as World), so the expert's speeding up
    from below its desired speed is in the data. Returns the episode folder.
    """
    v = draw_variety(seed)
    given = {"weather": weather, "lighting": lighting, "lanes": lanes, "traffic_density": traffic_density,
             "obstacles": obstacles, "junction": junction}
    v.update({k: x for k, x in given.items() if x is not None})
    rig = shipped_rig(rig) if isinstance(rig, str) else rig
    renderer = _renderer(rig, max_internal_width)
    world = World(seed, lanes=v["lanes"], traffic_density=v["traffic_density"], weather=v["weather"],
                  lighting=v["lighting"], left_hand=left_hand, bad_dreams=bad_dreams, obstacles=v["obstacles"],
                  junction=v["junction"], cut_in_rate=cut_in_rate,
                  start_speed_fraction=start_speed_fraction(seed, start_speed))
    n_frames = frame_count(duration_s, frame_stride)
    dt = schema.FRAME_DT_S
    ticks = (n_frames - 1) * frame_stride + int(round(schema.HORIZON_S / dt))
    j = world.road.junction
    extra = {"synthetic": {"seed": int(seed), "lanes": v["lanes"], "traffic_density": v["traffic_density"],
                           "obstacles": v["obstacles"], "junction": None if j is None else j.kind,
                           "frame_stride_ticks": frame_stride, "internal_width": max_internal_width,
                           **({"cut_in_rate_per_min": cut_in_rate} if cut_in_rate else {}),
                           **({"start_speed_fraction": start_speed_fraction(seed, start_speed)} if start_speed else {})}}
    writer = EpisodeWriter(path, rig, episode_id=f"synthetic-{seed:06d}" + ("-bad-dreams" if bad_dreams else ""),
                           source=f"synthetic world seed {seed}", traffic_side="left" if left_hand else "right",
                           weather=v["weather"], lighting=v["lighting"], bad_dreams=bad_dreams, extra=extra)
    with writer:
        for k in range(ticks + 1):
            t = round(k * dt, 9)  # exact decimal times in the CSVs, no accumulated float drift
            writer.add_ego(t, world.ego, labels.route_command(world))
            if k % frame_stride == 0 and k // frame_stride < n_frames:
                writer.add_frames(t, renderer.render(world.scene()), scenario=labels.scenario(world),
                                  lead_gap=labels.lead_gap_m(world), objects=world.objects_in_ego_frame())
            if k < ticks:
                world.step(dt)
    return Path(path)


def start_speed_fraction(seed: int, start_speed: tuple[float, float] | None) -> float:
    """The ego's start speed as a fraction of its desired speed: 0.9 (World's default) without ``start_speed``,
    else uniform in [lo, hi] from the seed's own stream (other draws of the world are unchanged)."""
    if start_speed is None:
        return 0.9
    lo, hi = start_speed
    if not (0.0 <= lo <= hi <= 1.2):
        raise ValueError(f"start_speed must be 0 <= lo <= hi <= 1.2 (fractions of the desired speed), got {start_speed}")
    return float(np.random.default_rng([seed, 0x5BEED]).uniform(lo, hi))


def _episode_plan(k: int, seed0: int, bad_dreams_fraction: float, left_hand: bool | float) -> dict[str, Any]:
    """Seed, bad-dreams and traffic side of the dataset's k-th episode (from its seed alone)."""
    seed = seed0 + k
    rng = np.random.default_rng([seed, 0xBADD])
    bad = bool(rng.random() < bad_dreams_fraction)
    lh = left_hand if isinstance(left_hand, bool) else bool(rng.random() < float(left_hand))
    return {"seed": seed, "bad_dreams": bad, "left_hand": lh}


def _run_job(job: tuple[str, dict[str, Any]]) -> str:
    path, kw = job
    return str(generate_episode(path, **kw))


def generate_dataset(out_dir: str | os.PathLike[str], n_episodes: int, seed0: int = 0,
                     bad_dreams_fraction: float = 0.2, left_hand: bool | float = False, workers: int = 2,
                     progress: bool = True, duration_s: float = DEFAULT_DURATION_S, **episode_kw: Any) -> list[Path]:
    """Write ``n_episodes`` episodes (seeds seed0, seed0 + 1, ...) as ``out_dir/episode_<seed>``.

    ``bad_dreams_fraction``: share of perturbed starts; ``left_hand``: True / False for every episode, or a float
    share of left-hand-traffic episodes; ``workers`` processes (1: in this process); ``episode_kw`` goes to
    ``generate_episode``. Shows a tqdm bar of frame sets if ``progress``. Returns the episode folders in seed order.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs = []
    for k in range(n_episodes):
        plan = _episode_plan(k, seed0, bad_dreams_fraction, left_hand)
        jobs.append((str(out / f"episode_{plan['seed']:06d}"), {**plan, "duration_s": duration_s, **episode_kw}))
    per_episode = frame_count(duration_s, episode_kw.get("frame_stride", schema.HISTORY_STRIDE))
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=n_episodes * per_episode, unit="frame", desc="generating episodes")
    try:
        if workers <= 1:
            for job in jobs:
                _run_job(job)
                if bar is not None:
                    bar.update(per_episode)
        else:
            # the platform's default start method (fork on Linux before Python 3.14); with spawn / forkserver a
            # calling script needs the usual `if __name__ == "__main__":` guard
            with multiprocessing.get_context().Pool(workers) as pool:
                for _ in pool.imap_unordered(_run_job, jobs):
                    if bar is not None:
                        bar.update(per_episode)
    finally:
        if bar is not None:
            bar.close()
    return [Path(p) for p, _ in jobs]
