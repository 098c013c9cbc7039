"""How often ``wayvert.explain`` tells the truth: its statements against the synthetic world's ground truth.

For every frame set of held-out episodes replayed through an engine (``wayvert run``'s pipeline), the explanation
is compared with what the episode recorded: the lead vehicle (present when the labelled bumper gap is below the
"no lead" cap; its distance band 0-20, 20-40, 40-80 m), the scenario label, and the action the expert actually took
(the same rule as ``wayvert.explain`` applied to the recorded ego motion over the next 4 s: speed then vs now,
heading change). Frames whose label is unknown, or whose 4 s future runs past the log, are left out of that row.

    python -m wayvert.training.evaluate.explanations --episodes 6 --seed 96000 [--engine ENGINE.wvrt]
"""
from __future__ import annotations

import argparse
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from wayvert import explain as ex
from wayvert import reference_engine_path, schema
from wayvert.episodes import open_episode
from wayvert.replay import replay_episode

BANDS_M = (20.0, 40.0)


def band(d: float) -> int:
    return int(np.searchsorted(BANDS_M, d, side="right"))


def expert_action(ep: Any, t_s: float, lead_gap: float | None) -> str | None:
    """The explain rule on the recorded ego motion from ``t_s`` to ``t_s`` + 4 s (None past the log's end)."""
    e = ep.ego
    t1 = t_s + schema.HORIZON_S
    if t1 > float(e.t_s[-1]):
        return None
    v0, v1 = (float(np.interp(t, e.t_s, e.speed_mps)) for t in (t_s, t1))
    yaw = np.unwrap(e.yaw_rad)
    heading = float(np.interp(t1, e.t_s, yaw) - np.interp(t_s, e.t_s, yaw))
    return ex.action_of(v0, v1, heading, lead_gap)


def evaluate(engine: str, episodes: list[Path]) -> dict[str, Any]:
    rows: dict[str, list[bool]] = {"lead present": [], "lead distance band": [], "scenario (when stated)": [],
                                   "action": [], "action (frames the verifier did not override)": []}
    stated_scenarios = frames = 0
    confusion: dict[str, dict[str, int]] = {}
    for path in episodes:
        ep = open_episode(path)
        for r in replay_episode(engine, ep):
            if not r["ran"]:
                continue
            frames += 1
            i, x = r["frame"], r["explanation"]
            facts = {f["kind"]: f for f in x["facts"]}
            gap = float(ep.frames.lead_gap_m[i])
            gap_known = math.isfinite(gap)
            gt_lead = gap_known and gap < schema.LEAD_DISTANCE_CAP_M
            if gap_known:
                rows["lead present"].append(("lead" in facts) == gt_lead)
            if gt_lead and "lead" in facts:
                rows["lead distance band"].append(band(float(facts["lead"]["value"])) == band(gap))
            sc = int(ep.frames.scenario[i])
            if "scenario" in facts:
                stated_scenarios += 1
                if sc >= 0:
                    rows["scenario (when stated)"].append(facts["scenario"]["value"] == schema.SCENARIOS[sc])
            want = expert_action(ep, float(r["t_s"]), gap if gt_lead else None)
            if want is not None:
                rows["action"].append(x["action"] == want)
                confusion.setdefault(want, {}).setdefault(x["action"], 0)
                confusion[want][x["action"]] += 1
                v = r["verdict"]
                if not v["fallback_used"] and v["chosen"] == v["top"]:
                    rows["action (frames the verifier did not override)"].append(x["action"] == want)
    return {"frames": frames, "episodes": len(episodes), "scenario_stated_share": stated_scenarios / max(frames, 1),
            "accuracy": {k: {"n": len(v), "accuracy": (sum(v) / len(v)) if v else None} for k, v in rows.items()},
            "action_confusion": confusion}


def main(argv: list[str] | None = None) -> int:
    from wayvert.training.data import generate_episode

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--engine", default=reference_engine_path())
    p.add_argument("--episodes", type=int, default=6)
    p.add_argument("--seed", type=int, default=96000, help="first world seed (held out: never used for training)")
    p.add_argument("--duration", type=float, default=20.0, help="seconds per episode")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        paths = [generate_episode(Path(tmp) / f"ep{k}", seed=a.seed + k, duration_s=a.duration)
                 for k in range(a.episodes)]
        print(json.dumps(evaluate(a.engine, paths), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
