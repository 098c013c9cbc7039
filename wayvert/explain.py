"""Grounded explanations of a plan: what the car does and why, in one sentence, from the engine's outputs and the
verifier's verdict alone.

``explain(outputs, verdict, meta)`` returns an :class:`Explanation`: an ``action`` (keep lane, follow, slow, stop,
turn left, turn right), the ``facts`` behind it and the ``sentence`` joining them. Every fact names where it comes
from (``source``: an output or the verdict) and carries the value it states, and the sentence states nothing else:
a lead vehicle only when the lead head reads closer than its "no lead" cap, a closing speed only when the previous
frame's lead distance is given, a scenario only when its head is confident, a failed check only when the verdict
names it. Nothing is invented. numpy only; docs/cli.md (`wayvert run`'s ``explanation`` field).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import numpy as np

from wayvert import schema

#: A lead vehicle is stated when the lead head reads at least this much below its cap.
LEAD_MARGIN_M = 2.0
#: A scenario is stated when its probability reaches this.
SCENARIO_CONFIDENCE = 0.6
#: A closing speed is stated from this much up (m/s).
MIN_CLOSING_MPS = 0.5
#: Action rule on the driven trajectory (t, x, y, heading, speed).
STOP_SPEED_MPS = 0.5
TURN_HEADING_RAD = 0.3
SLOW_FACTOR = 0.8
FOLLOW_DISTANCE_M = 40.0

SCENARIO_WORDS = {"free_road": "free road ahead", "following": "in traffic", "junction": "junction ahead",
                  "cut_in": "a vehicle cutting in", "rain": "rain"}
ACTIONS = ("keep lane", "follow", "slow", "stop", "turn left", "turn right")


@dataclass
class Fact:
    """One stated fact: ``kind`` (lead, closing, scenario, speed, verifier, fallback), the words, the value and
    its unit, and where it was read (``outputs.<name>``, ``verdict``)."""

    kind: str
    text: str
    value: float | str | None
    unit: str
    source: str


@dataclass
class Explanation:
    action: str
    facts: list[Fact] = field(default_factory=list)
    sentence: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def action_of(v0: float, v1: float, heading: float, lead_m: float | None, *, fallback: bool = False) -> str:
    """The action a 4 s motion is: speed now ``v0`` and at its end ``v1`` (m/s), heading change (rad), the lead
    vehicle's gap if there is one. The rule explanations state, and the one their accuracy is measured against
    (applied to the expert's recorded motion)."""
    if fallback or v1 < STOP_SPEED_MPS:
        return "stop"
    if abs(heading) >= TURN_HEADING_RAD:
        return "turn left" if heading > 0 else "turn right"
    if v1 < SLOW_FACTOR * v0:
        return "slow"
    if lead_m is not None and lead_m < FOLLOW_DISTANCE_M:
        return "follow"
    return "keep lane"


class LeadTrack:
    """The lead head over time, for ``explain``'s closing speed: ``before(t)`` is the (gap, seconds back) of the
    newest frame at least ``base_s`` before ``t`` (0: the previous frame), ``add`` records a frame's outputs. A replay
    at 2 Hz compares frame with frame; the 10 Hz demo compares over 0.5 s, where one frame apart the head's noise
    would read as metres per second."""

    def __init__(self, base_s: float = 0.0) -> None:
        self.base_s = float(base_s)
        self._past: list[tuple[float, float]] = []

    def before(self, t_s: float) -> tuple[float | None, float | None]:
        for t, lead in reversed(self._past):
            if t <= t_s - self.base_s + 1e-6:
                return lead, t_s - t
        return None, None

    def add(self, t_s: float, outputs: Mapping[str, Any]) -> None:
        lead = _scalar(outputs, "lead_distance")
        if lead is None:
            self._past.clear()     # a frame without the head breaks the track, as the replay always did
            return
        self._past.append((t_s, lead))
        while len(self._past) > 1 and self._past[1][0] <= t_s - self.base_s + 1e-6:
            self._past.pop(0)      # keep the newest frame old enough, and what is younger


def _scalar(outputs: Mapping[str, Any], name: str) -> float | None:
    if name not in outputs:
        return None
    v = np.asarray(outputs[name], np.float64).reshape(-1)
    return float(v[0]) if v.size and math.isfinite(float(v[0])) else None


def _verdict_fields(verdict: Any) -> tuple[np.ndarray | None, bool, int, int | None, list[list[str]]]:
    """(driven trajectory [T, 5], fallback used, chosen mode, top mode or None, each mode's failed checks by name)
    from a ``wayvert.safety.Verdict`` or a ``wayvert run`` verdict record."""
    from wayvert.safety import CHECK_NAMES

    if verdict is None:
        return None, False, -1, None, []
    if isinstance(verdict, Mapping):
        return (np.asarray(verdict["trajectory"], np.float64), bool(verdict["fallback_used"]), int(verdict["chosen"]),
                int(verdict["top"]), [list(r) for r in verdict["reasons"]])
    names = [[n for i, n in enumerate(CHECK_NAMES) if int(r) >> i & 1] for r in verdict.reasons]
    return np.asarray(verdict.trajectory, np.float64), bool(verdict.fallback_used), int(verdict.chosen), None, names


def explain(outputs: Mapping[str, Any], verdict: Any = None, meta: Mapping[str, Any] | None = None, *,
            top: int | None = None, previous_lead_m: float | None = None, dt_s: float | None = None) -> Explanation:
    """Explain one frame. ``outputs``: the engine's outputs (``lead_distance``, ``scenario_logits``,
    ``trajectories``, ``mode_logits``; batch axis of 1 or none); ``verdict``: what the verifier decided (a Verdict or
    a ``wayvert run`` record), whose trajectory is what the car drives; ``top``: the network's top mode (default: the
    argmax of ``mode_logits``); ``previous_lead_m``/``dt_s``: the lead head one frame earlier, for a closing speed."""
    meta = meta or {}
    cap = float(meta.get("lead_distance_cap_m", schema.LEAD_DISTANCE_CAP_M))
    names = tuple(meta.get("scenarios", schema.SCENARIOS))
    facts: list[Fact] = []

    traj, fallback, chosen, top_rec, reasons = _verdict_fields(verdict)
    if top is None:
        top = top_rec
    if top is None and "mode_logits" in outputs:
        logits = np.nan_to_num(np.asarray(outputs["mode_logits"], np.float64).reshape(-1), nan=-np.inf)
        top = int(np.argmax(logits))
    failed = reasons[top] if top is not None and 0 <= top < len(reasons) else []
    if traj is None and "trajectories" in outputs and top is not None:   # no verdict: the network's top mode
        modes = np.asarray(outputs["trajectories"], np.float64)
        modes = modes.reshape((-1,) + modes.shape[-2:])[top]          # [T, 4] x, y, heading, speed
        traj = np.concatenate([schema.waypoint_times()[:, None], modes], axis=1)

    lead = _scalar(outputs, "lead_distance")
    has_lead = lead is not None and lead < cap - LEAD_MARGIN_M
    if has_lead:
        assert lead is not None
        facts.append(Fact("lead", f"lead vehicle at {lead:.0f} m", round(lead, 1), "m", "outputs.lead_distance"))
        if previous_lead_m is not None and dt_s and previous_lead_m < cap - LEAD_MARGIN_M:
            closing = (previous_lead_m - lead) / dt_s
            if closing >= MIN_CLOSING_MPS:
                facts.append(Fact("closing", f"closing at {closing:.1f} m/s", round(closing, 1), "m/s",
                                  "outputs.lead_distance (this frame and the previous)"))

    if "scenario_logits" in outputs:
        z = np.asarray(outputs["scenario_logits"], np.float64).reshape(-1)
        if z.size == len(names) and np.all(np.isfinite(z)):
            p = np.exp(z - z.max())
            p /= p.sum()
            k = int(np.argmax(p))
            if p[k] >= SCENARIO_CONFIDENCE:
                facts.append(Fact("scenario", SCENARIO_WORDS.get(names[k], names[k]), names[k], f"p={p[k]:.2f}",
                                  "outputs.scenario_logits"))

    action = "keep lane"
    if traj is not None and traj.ndim == 2 and traj.shape[0] >= 2 and traj.shape[1] == 5 and np.all(np.isfinite(traj)):
        v0, v1, heading = float(traj[0, 4]), float(traj[-1, 4]), float(traj[-1, 3])
        action = action_of(v0, v1, heading, lead if has_lead else None, fallback=fallback)
        if action in ("slow", "stop", "keep lane", "follow") and not fallback:
            facts.append(Fact("speed", f"speed {v0:.0f} -> {v1:.0f} m/s in {traj[-1, 0]:.0f} s", round(v1, 1), "m/s",
                              "verdict.trajectory" if verdict is not None else "outputs.trajectories"))
    if fallback:
        text = "every mode failed the verifier" + (f" ({', '.join(failed)})" if failed else "") + ": minimum-risk stop"
        facts.append(Fact("fallback", text, ",".join(failed) or None, "", "verdict"))
    elif verdict is not None and top is not None and chosen >= 0 and chosen != top:
        text = f"the verifier drove mode {chosen}, not the top mode {top}" + (f" ({', '.join(failed)})" if failed else "")
        facts.append(Fact("verifier", text, chosen, "mode", "verdict"))

    sentence = action[0].upper() + action[1:]
    if facts:
        sentence += ": " + "; ".join(f.text for f in facts)
    return Explanation(action, facts, sentence + ".")


__all__ = ["ACTIONS", "Explanation", "Fact", "LeadTrack", "action_of", "explain"]
