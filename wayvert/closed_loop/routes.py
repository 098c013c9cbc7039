"""``wayvert eval --engine``: the deployed stack, the expert and constant velocity driven on the same held-out
routes, per route and in total (JSON-ready dicts and a Markdown report)."""
from __future__ import annotations

import time
from typing import Any, Callable, Sequence

from wayvert import schema
from wayvert.safety import CHECK_NAMES, Verifier

from .comfort import comfort_of
from .loop import DriveLog, drive
from .planners import ConstantVelocityPlanner, Planner

# Evaluation routes start here: far from every seed used to make or select a model (training episodes 1000..,
# held-out episodes 9000.., left-hand-traffic episodes 5000.., the training run's closed-loop table 90000..,
# the demo 90003). Keep them out of training and model selection.
EVAL_SEED0 = 70000
EXPERT, CV = "expert", "constant velocity"


def _by_reason(masks: Sequence[int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for m in masks:
        for i, name in enumerate(CHECK_NAMES):
            if m >> i & 1:
                out[name] = out.get(name, 0) + 1
    return out


def route_figures(log: DriveLog, expert_progress_m: float | None) -> dict[str, Any]:
    """Per-route figures of one drive (``expert_progress_m``: the expert's distance on the same seed)."""
    ticks = len(log.states)
    r: dict[str, Any] = {"seed": log.seed, "ticks": ticks, "progress_m": round(log.progress_m, 2),
                         "collided": log.collided, "departed": log.departed,
                         "comfort": comfort_of(log.states, schema.FRAME_DT_S)}
    if expert_progress_m is not None:
        ratio = log.progress_m / max(expert_progress_m, 1e-6)
        r.update(expert_progress_m=round(expert_progress_m, 2), progress_ratio=round(ratio, 4),
                 route_completion=round(min(max(ratio, 0.0), 1.0), 4))
    if log.frames:
        overridden = [f for f in log.frames if f.fallback or f.chosen != f.top]
        r.update(fallback_frames=sum(f.fallback for f in log.frames),
                 repaired_frames=sum(f.repaired for f in log.frames),
                 smoothed_frames=sum(f.variant == "smoothed" for f in log.frames),
                 nudged_frames=sum(f.variant.startswith("nudged") for f in log.frames),
                 slowed_frames=sum(f.variant.endswith("slowed") for f in log.frames), interventions=len(overridden),
                 interventions_by_reason=_by_reason([f.reasons[f.top] for f in overridden]))
    if log.expert_checks:
        r.update(expert_plans_checked=len(log.expert_checks),
                 expert_plans_rejected=sum(1 for m in log.expert_checks if m),
                 expert_rejections_by_reason=_by_reason(log.expert_checks))
    return r


def totals(routes: list[dict[str, Any]]) -> dict[str, Any]:
    """Sums and rates over a row's routes."""
    km = max(sum(max(r["progress_m"], 0.0) for r in routes) / 1000.0, 1e-9)
    t: dict[str, Any] = {"routes": len(routes), "km": round(km, 3), "ticks": sum(r["ticks"] for r in routes)}
    t["collisions"] = sum(r["collided"] for r in routes)
    t["lane_departures"] = sum(r["departed"] for r in routes)
    t["collisions_per_km"] = round(t["collisions"] / km, 3)
    t["departures_per_km"] = round(t["lane_departures"] / km, 3)
    t["uncomfortable_share"] = round(sum(r["comfort"]["uncomfortable_share"] * r["ticks"] for r in routes)
                                     / max(t["ticks"], 1), 4)
    t["comfortable_routes"] = sum(r["comfort"]["comfortable"] for r in routes)
    if "expert_progress_m" in routes[0]:
        expert_m = sum(r["expert_progress_m"] for r in routes)
        t["progress_ratio"] = round(sum(r["progress_m"] for r in routes) / max(expert_m, 1e-6), 4)
        t["route_completion"] = round(sum(r["route_completion"] for r in routes) / len(routes), 4)
    if "fallback_frames" in routes[0]:
        t["fallback_share"] = round(sum(r["fallback_frames"] for r in routes) / max(t["ticks"], 1), 4)
        for kind in ("repaired", "smoothed", "nudged", "slowed"):
            t[f"{kind}_share"] = round(sum(r.get(f"{kind}_frames", 0) for r in routes) / max(t["ticks"], 1), 4)
        t["interventions"] = sum(r["interventions"] for r in routes)
        t["interventions_by_reason"] = _sum_dicts(r["interventions_by_reason"] for r in routes)
    if "expert_plans_checked" in routes[0]:
        checked = sum(r["expert_plans_checked"] for r in routes)
        t["expert_plans_checked"] = checked
        t["expert_plans_rejected"] = sum(r["expert_plans_rejected"] for r in routes)
        t["expert_rejection_rate"] = round(t["expert_plans_rejected"] / max(checked, 1), 4)
        t["expert_rejections_by_reason"] = _sum_dicts(r["expert_rejections_by_reason"] for r in routes)
    return t


def _sum_dicts(ds: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in ds:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def evaluate_routes(planners: Sequence[Planner], seeds: Sequence[int], frames: int, *, expert_every: int = 1,
                    repair: bool = True, expert_on_policy: int = 0,
                    progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """{"setup", "rows": {name: {"total", "per_route"}}}: the expert (its plans checked by the verifier every
    ``expert_every`` ticks), constant velocity, then each planner, on every seed (``repair``: slowed variants of
    every planner's modes go to the verifier too; ``loop.drive``). ``expert_on_policy`` > 0: every that many ticks
    the expert's own plan from the state each planner reached is checked too (a diagnostic: are the states bad,
    or the plans?)."""
    t0 = time.perf_counter()
    verifier = Verifier()
    expert_logs = {}
    for seed in seeds:
        expert_logs[seed] = drive(None, seed, frames, verifier=verifier, expert_every=expert_every)
        if progress:
            progress(f"{EXPERT} route {seed}: {expert_logs[seed].progress_m:.0f} m")
    rows: dict[str, Any] = {EXPERT: [route_figures(expert_logs[s], None) for s in seeds]}
    for planner in [ConstantVelocityPlanner(), *planners]:
        per = []
        for seed in seeds:
            reset = getattr(planner, "reset", None)
            if reset is not None:
                reset()
            log = drive(planner, seed, frames, verifier=verifier, repair=repair, expert_every=expert_on_policy)
            per.append(route_figures(log, expert_logs[seed].progress_m))
            if progress:
                progress(f"{planner.name} route {seed}: {log.progress_m:.0f} m, "
                         f"fallback {per[-1]['fallback_frames']}/{per[-1]['ticks']}")
        rows[planner.name] = per
    return {"setup": {"seeds": list(seeds), "frames": frames, "frame_dt_s": schema.FRAME_DT_S,
                      "expert_every": expert_every, "repair": repair, "expert_on_policy": expert_on_policy,
                      "seconds": round(time.perf_counter() - t0, 1)},
            "rows": {name: {"total": totals(per), "per_route": per} for name, per in rows.items()}}


def _f(v: Any, digits: int = 2) -> str:
    return "-" if v is None else (f"{v:.{digits}f}" if isinstance(v, float) else str(v))


def _reasons(d: dict[str, int] | None) -> str:
    return ", ".join(f"{k} {v}" for k, v in (d or {}).items()) or "-"


def _repaired(t: dict[str, Any]) -> str:
    if t.get("repaired_share") is None:
        return "-"
    return (f"{_f(t['repaired_share'])} ({_f(t.get('smoothed_share'))}, {_f(t.get('nudged_share'))}, "
            f"{_f(t.get('slowed_share'))})")


def markdown_report(results: dict[str, Any]) -> str:
    s = results["setup"]
    seeds = s["seeds"]
    lines = [f"Deployed stack, closed loop: {len(seeds)} routes (world seeds {seeds[0]}-{seeds[-1]}), "
             f"{s['frames']} ticks of {s['frame_dt_s']} s each; a route ends at a collision or lane departure. "
             "Progress is along the road against the expert's on the same seed."
             + (f" Rig {s['rig']}: share of each canonical view its cameras fill: "
                + ", ".join(f"{k} {v:.0%}" for k, v in s["view_coverage"].items()) + "."
                if s.get("view_coverage") else ""), "",
             "| row | km | progress vs expert | route completion | fallback share | repaired share (smoothed, nudged, slowed) "
             "| collisions/km "
             "| departures/km | uncomfortable share | comfortable routes | expert plans rejected |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, row in results["rows"].items():
        t = row["total"]
        rej = (f"{t['expert_rejection_rate']:.1%} ({t['expert_plans_rejected']}/{t['expert_plans_checked']})"
               if "expert_rejection_rate" in t else "-")
        lines.append(f"| {name} | {_f(t['km'])} | {_f(t.get('progress_ratio'))} | {_f(t.get('route_completion'))} | "
                     f"{_f(t.get('fallback_share'))} | {_repaired(t)} | "
                     f"{_f(t['collisions_per_km'])} ({t['collisions']}) | "
                     f"{_f(t['departures_per_km'])} ({t['lane_departures']}) | {_f(t['uncomfortable_share'])} | "
                     f"{t['comfortable_routes']}/{t['routes']} | {rej} |")
    lines += ["", "Interventions (the top mode not driven) by the top mode's failed checks; the expert's own plans "
              "rejected, by check:", ""]
    for name, row in results["rows"].items():
        t = row["total"]
        if "interventions_by_reason" in t:
            lines.append(f"- {name}: {t['interventions']} interventions: {_reasons(t['interventions_by_reason'])}")
        if "expert_rejections_by_reason" in t:
            whose = "its own plans rejected" if name == EXPERT else "the expert's plans from its states rejected"
            lines.append(f"- {name}: {whose}: {_reasons(t['expert_rejections_by_reason'])}")
    lines += ["", "Per route:", "", "| row | seed | m | expert m | progress | fallback | repaired (smoothed, nudged, slowed) | incident "
              "| expert plans rejected |", "|---|---|---|---|---|---|---|---|---|"]
    for name, row in results["rows"].items():
        for r in row["per_route"]:
            inc = "collision" if r["collided"] else ("departure" if r["departed"] else "-")
            fb = f"{r['fallback_frames']}/{r['ticks']}" if "fallback_frames" in r else "-"
            rp = (f"{r['repaired_frames']}/{r['ticks']} ({r.get('smoothed_frames', 0)}, {r.get('nudged_frames', 0)}, "
                  f"{r.get('slowed_frames', 0)})"
                  if "repaired_frames" in r else "-")
            rej = f"{r['expert_plans_rejected']}/{r['expert_plans_checked']}" if "expert_plans_checked" in r else "-"
            lines.append(f"| {name} | {r['seed']} | {_f(r['progress_m'], 0)} | {_f(r.get('expert_progress_m'), 0)} | "
                         f"{_f(r.get('progress_ratio'))} | {fb} | {rp} | {inc} | {rej} |")
    return "\n".join(lines) + "\n"


PlannerFactory = Callable[[], Planner]


def _engine_planner(engine_path: str, rig: str) -> Planner:
    from wayvert.engine import Engine
    from wayvert.sensors import shipped_rig
    from wayvert.sensors.rig import Rig

    from .planners import EnginePlanner

    engine = Engine.load(engine_path)
    car_rig = Rig.load(rig) if rig.endswith(".json") else shipped_rig(rig)
    model = engine.meta.get("model")
    name = f"engine {model.get('name', '')}".strip() if isinstance(model, dict) else "engine"
    return EnginePlanner(engine, car_rig, name=name)


def _routes_job(job: tuple[str, str, list[int], int, int, bool, int, Sequence[PlannerFactory]]) -> dict[str, Any]:
    engine_path, rig, seeds, frames, expert_every, repair, on_policy, factories = job
    planners = [_engine_planner(engine_path, rig), *(f() for f in factories)]
    res = evaluate_routes(planners, seeds, frames, expert_every=expert_every, repair=repair,
                          expert_on_policy=on_policy)
    res["setup"]["view_coverage"] = getattr(planners[0], "coverage", None)
    return res


def merge_results(parts: Sequence[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """One result from ``evaluate_routes`` results on disjoint seeds (rows in the first part's order, routes by
    seed, totals recomputed)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for part in parts:
        for name, row in part["rows"].items():
            rows.setdefault(name, []).extend(row["per_route"])
    setup = dict(parts[0]["setup"])
    setup.update(seeds=sorted(s for p in parts for s in p["setup"]["seeds"]), seconds=round(seconds, 1))
    return {"setup": setup, "rows": {name: {"total": totals(sorted(per, key=lambda r: r["seed"])),
                                            "per_route": sorted(per, key=lambda r: r["seed"])}
                                     for name, per in rows.items()}}


def evaluate_engine(engine_path: str, rig: str, routes: int, seed0: int = EVAL_SEED0, frames: int = 200, *,
                    expert_every: int = 1, extra_planners: Sequence[Planner] = (),
                    extra_factories: Sequence[PlannerFactory] = (), workers: int = 1, repair: bool = True,
                    expert_on_policy: int = 0, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """``wayvert eval --engine``: the engine behind rig ``rig`` (a shipped rig's name or a rig JSON file), beside
    the expert and constant velocity (and ``extra_planners``, or ``extra_factories`` that make them), on routes
    ``seed0`` .. ``seed0 + routes - 1``. ``workers`` > 1: routes are shared among that many processes, each
    building its own planners (``extra_factories`` must then be picklable; ``extra_planners`` are not allowed);
    the figures are the same as with one process, since every drive is a function of its seed."""
    import multiprocessing
    from pathlib import Path

    from wayvert.errors import InvalidArgumentError

    if routes < 1 or frames < 1 or workers < 1:
        raise InvalidArgumentError(f"--routes, --frames and --workers must be >= 1, got {routes}, {frames}, {workers}")
    if not Path(engine_path).is_file():
        raise InvalidArgumentError(f"no engine file {engine_path}")
    seeds = list(range(seed0, seed0 + routes))
    if workers == 1 or routes == 1:
        planners = [_engine_planner(engine_path, rig), *extra_planners, *(f() for f in extra_factories)]
        res = evaluate_routes(planners, seeds, frames, expert_every=expert_every, repair=repair,
                              expert_on_policy=expert_on_policy, progress=progress)
        res["setup"]["view_coverage"] = getattr(planners[0], "coverage", None)
    else:
        if extra_planners:
            raise InvalidArgumentError("evaluate_engine: with workers > 1 pass extra_factories, not planner objects")
        t0 = time.perf_counter()
        n = min(workers, routes)
        jobs = [(str(engine_path), rig, seeds[i::n], frames, expert_every, repair, expert_on_policy,
                 tuple(extra_factories)) for i in range(n)]
        parts = []
        with multiprocessing.get_context().Pool(n) as pool:
            for part in pool.imap_unordered(_routes_job, jobs):
                parts.append(part)
                if progress:
                    progress(f"routes {part['setup']['seeds']} done")
        res = merge_results(parts, time.perf_counter() - t0)
    res["setup"].update(engine=str(engine_path), rig=rig, workers=workers)
    return res


def write_results(results: dict[str, Any], json_path: str | None, markdown_path: str | None) -> str:
    """Print the Markdown report and write it and the JSON where asked."""
    import json
    from pathlib import Path

    text = markdown_report(results)
    print(text)
    for path, body in ((json_path, json.dumps(results, indent=2) + "\n"), (markdown_path, text)):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(body)
    return text
