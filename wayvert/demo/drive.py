"""The closed-loop drive of ``wayvert demo``: the deployed stack (rig cameras -> sensor adapter -> engine ->
verifier -> tracker) through the shared loop of ``wayvert.closed_loop``, the expert on the same seed beside it,
and the figures the demo prints. numpy and the C++ runtime only (no PyTorch)."""
from __future__ import annotations

from typing import Any

import numpy as np

from wayvert.closed_loop import DriveLog, EnginePlanner, FrameRecord, drive as closed_loop_drive
from wayvert.closed_loop.planners import RENDER_INTERNAL_WIDTH
from wayvert.engine import Engine
from wayvert.safety import CHECK_NAMES
from wayvert.sensors.rig import Rig
from wayvert.sim import World
from wayvert.sim.render import Renderer

CLOSING_BASE_S = 0.5             # the GIF's closing speed: lead head now against 0.5 s before (as `wayvert run` at 2 Hz)
EXPERT_EVERY = 5                 # compare with the expert's plan every 5th frame (a plan costs a world rollout)

__all__ = ["DriveLog", "FrameRecord", "drive", "summary"]


def drive(engine: Engine, rig: Rig, *, seed: int, frames: int, record_views: int = 0,
          budget_s: float | None = None) -> DriveLog:
    """Drive ``frames`` ticks of 0.1 s with the engine's verified plans, and the expert on the same seed;
    ``record_views`` canonical frames are kept for the animation. Each frame has a budget (``budget_s``, default
    the engine's profile frame period): a frame past it drives the previous plan advanced, or the fallback."""
    from wayvert.control.deadline import FrameDeadline, budget_of
    from wayvert.explain import LeadTrack
    from wayvert.safety import Verifier

    planner = EnginePlanner(engine, rig)
    verifier = Verifier()
    deadline = FrameDeadline(verifier, budget_s if budget_s is not None else budget_of(engine.meta))
    view_renderer = Renderer(planner.canonical, max_internal_width=RENDER_INTERNAL_WIDTH) if record_views else None
    views: list[tuple[np.ndarray, Any, str]] = []
    leads = LeadTrack(CLOSING_BASE_S)

    def keep_views(world: World, rec: FrameRecord) -> None:
        if view_renderer is not None and len(views) < record_views:
            caption = _caption(planner, engine, rec, leads)
            front = view_renderer.render(world.scene())
            c, s = np.cos(-rec.pose[2]), np.sin(-rec.pose[2])
            d = rec.plan_world - rec.pose[:2]
            plan = np.stack([c * d[:, 0] - s * d[:, 1], s * d[:, 0] + c * d[:, 1]], 1)   # back to the ego frame
            views.append((np.stack([front[cam.name] for cam in planner.canonical.cameras]), plan, caption))

    log = closed_loop_drive(planner, seed, frames, ade_every=EXPERT_EVERY, on_frame=keep_views, verifier=verifier,
                            deadline=deadline)
    expert = closed_loop_drive(None, seed, frames)
    log.camera_views, log.expert_driven, log.expert_progress_m = views, expert.driven, expert.progress_m
    return log


def _caption(planner: EnginePlanner, engine: Engine, rec: FrameRecord, leads: Any) -> str:
    """The frame's grounded explanation (``wayvert.explain``) as the GIF shows it: every fact from the engine's
    outputs and the verifier's decision of this frame (the closing speed over CLOSING_BASE_S, ``LeadTrack``)."""
    from wayvert.explain import explain
    from wayvert.replay.record import reason_names

    out = planner.last_outputs
    verdict = {"trajectory": rec.trajectory, "fallback_used": rec.fallback, "chosen": rec.chosen, "top": rec.top,
               "reasons": [reason_names(r) for r in rec.reasons]}
    previous_lead_m, dt_s = leads.before(rec.t)
    e = explain(out, verdict, engine.meta, top=rec.top, previous_lead_m=previous_lead_m, dt_s=dt_s)
    leads.add(rec.t, out)
    return f"t={rec.t:4.1f} s  {e.sentence}"


def summary(log: DriveLog, engine: Engine, budget_ms: float) -> dict[str, Any]:
    """The figures the demo prints: latency per stage, budget, power, ADE vs the expert, progress against the
    expert's, fallback share, interventions, incidents."""
    lat = {s: np.array([f.latency_ms.get(s, 0.0) for f in log.frames])
           for s in ("adapter", "engine", "repair", "verifier")}
    total = sum(lat.values())
    # An intervention: the verifier did not let the network's top-scored mode through; counted by that mode's
    # failed checks.
    interventions: dict[str, int] = {}
    for f in log.frames:
        if f.chosen == f.top and not f.fallback:
            continue
        for i, name in enumerate(CHECK_NAMES):
            if f.reasons[f.top] >> i & 1:
                interventions[name] = interventions.get(name, 0) + 1
    overridden = sum(1 for f in log.frames if f.chosen != f.top or f.fallback)
    fallbacks = sum(1 for f in log.frames if f.fallback)
    ade = [f.ade_vs_expert for f in log.frames if f.ade_vs_expert is not None]
    prof = engine.meta.get("profile", {})
    expert_m = log.expert_progress_m
    return {
        "frames": len(log.frames), "seconds_driven": len(log.frames) * 0.1,
        "latency_ms": {s: {"p50": float(np.percentile(v, 50)), "p99": float(np.percentile(v, 99))}
                       for s, v in {**lat, "total": total}.items()},
        "frame_budget_ms": budget_ms, "budget_met": bool(np.percentile(total, 99) <= budget_ms),
        "power_w": prof.get("power_w"), "power_budget_w": prof.get("power_budget_w", 75.0),
        "target_p99_ms": prof.get("latency_p99_ms"),
        "ade_vs_expert_m": float(np.mean(ade)) if ade else None,
        "progress_m": round(log.progress_m, 2), "expert_progress_m": None if expert_m is None else round(expert_m, 2),
        "progress_vs_expert": None if not expert_m else round(log.progress_m / expert_m, 4),
        "fallback_share": round(fallbacks / max(len(log.frames), 1), 4),
        "interventions": overridden, "interventions_by_reason": interventions,
        "fallback_frames": fallbacks, "repaired_frames": sum(1 for f in log.frames if f.repaired),
        "smoothed_frames": sum(1 for f in log.frames if f.variant == "smoothed"),
        "nudged_frames": sum(1 for f in log.frames if f.variant.startswith("nudged")),
        "slowed_frames": sum(1 for f in log.frames if f.variant.endswith("slowed")),
        "deadline_overruns": sum(1 for f in log.frames if f.overrun),
        "driven_held": sum(1 for f in log.frames if f.driven == "held"),
        "driven_deadline_fallback": sum(1 for f in log.frames if f.driven == "fallback"),
        "collided": log.collided, "lane_departure": log.departed,
    }
