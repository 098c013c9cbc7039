"""Recorded frame sets through the vehicle's pipeline: sensor adapter -> engine (one stateful session, frames in
time order) -> trajectory verifier, one JSON-ready record per frame set. numpy and the C++ runtime only."""
from __future__ import annotations

import math
import time
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import numpy.typing as npt

from wayvert import schema
from wayvert.engine import Engine
from wayvert.explain import LeadTrack, explain
from wayvert.errors import UnsupportedEngineError
from wayvert.safety import EgoState, Verifier
from wayvert.sensors.adapter import SensorAdapter
from wayvert.sensors.rig import Rig

from .frame_set import FrameSet, ego_is_finite
from .record import MS_DIGITS, RATIO_DIGITS, TIME_DIGITS, VALUE_DIGITS, json_numbers, outputs_record, verdict_record

# The verifier's object capacity; a frame set with more keeps the nearest (and is flagged).
MAX_OBJECTS = 256


def canonical_rig(engine: Engine) -> Rig:
    """The rig the engine was trained on (meta ``canonical_rig``), after checking the engine has the inputs and
    outputs a replay feeds and verifies (those of the reference engine)."""
    ins = {s.name: s for s in engine.inputs}
    outs = {s.name: s for s in engine.outputs}
    problems = []
    if set(ins) != {"image", "ego", "command"}:
        problems.append(f"inputs {sorted(ins)} (a replay feeds image, ego, command)")
    elif (ins["image"].dtype != "int8" or ins["ego"].shape != (1, 2)
          or ins["command"].shape != (1, len(schema.COMMANDS))):
        problems.append("inputs must be image int8 [V, 3, H, W], ego float32 [1, 2], command float32 "
                        f"[1, {len(schema.COMMANDS)}]")
    traj, logits = outs.get("trajectories"), outs.get("mode_logits")
    if (traj is None or logits is None or len(traj.shape) != 4 or traj.shape[0] != 1
            or traj.shape[2:] != (schema.N_WAYPOINTS, 4) or logits.shape != traj.shape[:2]):
        problems.append(f"outputs must include trajectories [1, K, {schema.N_WAYPOINTS}, 4] and mode_logits [1, K]")
    if not isinstance(engine.meta.get("canonical_rig"), dict):
        problems.append("its meta has no canonical_rig")
    if problems:
        raise UnsupportedEngineError(f"{engine.source}: cannot replay with this engine: {'; '.join(problems)}")
    canonical = Rig.from_dict(engine.meta["canonical_rig"])
    v = (len(canonical.cameras), 3, canonical.cameras[0].height, canonical.cameras[0].width)
    if ins["image"].shape != v:
        raise UnsupportedEngineError(f"{engine.source}: input image has shape {list(ins['image'].shape)} but its "
                                     f"canonical rig {canonical.name!r} gives {list(v)}")
    return canonical


def candidates(trajectories: npt.NDArray[Any], speed_mps: float) -> npt.NDArray[np.float64]:
    """The verifier's candidates [K, 1 + T, 5] (t, x, y, heading, speed) from the network's modes [K, T, 4]."""
    times = np.concatenate([[0.0], schema.waypoint_times()])
    modes = np.asarray(trajectories, np.float64).copy()
    # The speed head is unbounded: near a standstill it dips below zero, which the verifier (rightly) calls
    # invalid. A planned speed is >= 0 by definition, so it is clipped, as the tracker clips it too.
    modes[..., 3] = np.maximum(modes[..., 3], 0.0)
    start = np.tile([[0.0, 0.0, 0.0, speed_mps]], (modes.shape[0], 1, 1))
    cand = np.concatenate([start, modes], axis=1)
    return np.concatenate([np.broadcast_to(times[None, :, None], cand.shape[:2] + (1,)), cand], axis=2)


def _nearest(objects: npt.NDArray[np.float64], n: int) -> npt.NDArray[np.float64]:
    order = np.argsort(np.hypot(objects[:, 0], objects[:, 1]), kind="stable")
    return objects[np.sort(order[:n])]


def replay(engine: Engine, rig: Rig, frame_sets: Iterable[FrameSet], *, wet: bool = False,
           budget_s: float | None = None, slow_stage: Callable[[int], None] | None = None) -> Iterator[dict[str, Any]]:
    """One record per frame set (fields in docs/cli.md), in order. A frame set that cannot be run (non-finite ego
    state, a timestamp not after an earlier frame set's) is flagged and skipped: the session only sees frames in
    time order. Never raises for what a recording contains; raises for an engine it cannot feed.

    Each frame set that runs has a budget, ``budget_s`` (default: the engine's profile frame period,
    ``wayvert.control.deadline``): when adapter + engine + verifier take longer, the record says so and what the
    vehicle would drive instead (the previous verified plan advanced in time, or the fallback). ``slow_stage``
    (tests: an injected slow stage) is called with the frame index inside the timed region."""
    from wayvert.control.deadline import FrameDeadline, budget_of

    canonical = canonical_rig(engine)
    spec = next(s for s in engine.inputs if s.name == "image")
    adapter = SensorAdapter(rig, canonical, scale=spec.scale, zero_point=spec.zero_point)
    session, verifier = engine.session(), Verifier(max_objects=MAX_OBJECTS)
    deadline = FrameDeadline(verifier, budget_s if budget_s is not None else budget_of(engine.meta))
    command = np.zeros((1, len(schema.COMMANDS)), np.float32)
    newest_t = -math.inf
    leads = LeadTrack()     # the lead head of the last frame set that ran, for the explanation's closing speed
    for fs in frame_sets:
        reasons: list[str] = []
        missing = [name for name, frame in fs.frames.items() if frame is None]
        if missing:
            reasons.append("missing_camera")
        stale = not math.isfinite(fs.t_s) or fs.t_s <= newest_t
        if stale:
            reasons.append("stale_timestamp")
        else:
            newest_t = fs.t_s
        finite_ego = ego_is_finite(fs.ego)
        if not finite_ego:
            reasons.append("nan_ego")
        if not fs.ego_in_log:
            reasons.append("ego_out_of_log")
        objects = fs.objects
        if objects is not None and len(objects) > MAX_OBJECTS:
            reasons.append("objects_truncated")
            objects = _nearest(objects, MAX_OBJECTS)
        rec: dict[str, Any] = {
            "frame": int(fs.index), "t_s": json_numbers(fs.t_s, TIME_DIGITS), "degraded": False,
            "degraded_reasons": reasons, "missing_cameras": missing, "ran": False,
            "ego": {"speed_mps": json_numbers(fs.ego.speed, VALUE_DIGITS),
                    "accel_mps2": json_numbers(fs.ego.accel, VALUE_DIGITS),
                    "yaw_rate_rps": json_numbers(fs.ego.yaw_rate, VALUE_DIGITS),
                    "steering_rad": json_numbers(fs.ego.steering, VALUE_DIGITS),
                    "command": schema.COMMANDS[fs.command]},
            "pose": None if fs.pose is None else dict(zip(("x_m", "y_m", "yaw_rad"), json_numbers(list(fs.pose), VALUE_DIGITS))),
            "objects": None if objects is None else int(len(objects)), "boundaries": None, "wet": bool(wet),
            "coverage": None, "outputs": None, "verdict": None, "explanation": None, "deadline": None, "timing_ms": {},
        }
        if stale or not finite_ego:
            rec["degraded"] = True
            yield rec
            continue
        t0 = time.perf_counter()
        # Page the memory-mapped frames in here, so that "adapter" times the conversion alone, as on the vehicle.
        frames = {name: None if f is None else np.array(f, np.uint8) for name, f in fs.frames.items()}
        t1 = time.perf_counter()
        tensor, mask = adapter.convert(frames)
        if slow_stage is not None:
            slow_stage(int(fs.index))
        t2 = time.perf_counter()
        command[:] = 0.0
        command[0, fs.command] = 1.0
        ego_in = np.array([[fs.ego.speed, fs.ego.yaw_rate]], np.float32)
        out = session.run({"image": tensor, "ego": ego_in, "command": command})
        t3 = time.perf_counter()
        logits = np.asarray(out["mode_logits"][0])
        verdict = verifier.check(candidates(out["trajectories"][0], fs.ego.speed), logits,
                                 EgoState(speed=fs.ego.speed, accel=fs.ego.accel, yaw_rate=fs.ego.yaw_rate,
                                          steering=fs.ego.steering),
                                 objects=objects, boundaries=None, wet=wet)   # episodes record no drivable area
        t4 = time.perf_counter()
        if not all(np.isfinite(np.asarray(v, np.float64)).all() for v in out.values()):
            reasons.append("nonfinite_output")
        ego_now = EgoState(speed=fs.ego.speed, accel=fs.ego.accel, yaw_rate=fs.ego.yaw_rate, steering=fs.ego.steering)
        decision = deadline.decide(fs.t_s, t4 - t1, verdict.trajectory, ego_now, fs.pose)
        if decision.overrun:
            reasons.append("deadline_overrun")
        top = int(np.argmax(np.nan_to_num(logits, nan=-np.inf)))
        previous_lead_m, dt_s = leads.before(fs.t_s)
        explanation = explain(out, verdict, engine.meta, top=top, previous_lead_m=previous_lead_m, dt_s=dt_s)
        leads.add(fs.t_s, out)
        rec.update(
            degraded=bool(reasons), ran=True, explanation=explanation.to_dict(),
            coverage=json_numbers(np.asarray(mask, bool).mean(axis=(1, 2)), RATIO_DIGITS),
            outputs=outputs_record(out),
            verdict=verdict_record(verdict, top=top),
            deadline={"budget_ms": round(deadline.budget_s * 1e3, MS_DIGITS), "overrun": decision.overrun,
                      "driven": decision.source},
            timing_ms={stage: round(ms * 1e3, MS_DIGITS) for stage, ms in
                       (("read", t1 - t0), ("adapter", t2 - t1), ("engine", t3 - t2), ("verifier", t4 - t3),
                        ("total", t4 - t0))},
        )
        yield rec
