"""Evaluate several checkpoints beside the two reference rows and write the tables (Markdown + JSON)."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Sequence

from wayvert.training.data.dataset import EpisodeDataset
from wayvert.training.run.checkpoint import load_model

from .closed_loop import evaluate_closed_loop, expert_reference
from .open_loop import evaluate_open_loop
from .planners import ConstantVelocityPlanner, ModelPlanner

CV, EXPERT = "constant velocity", "expert"


def evaluate_models(models: Sequence[tuple[str, str]], data: str, routes: int = 10, duration_s: float = 40.0,
                    seed0: int = 90000, left_hand: bool = False, progress: bool = True) -> dict[str, Any]:
    """{"open_loop": {row: figures}, "closed_loop": {row: figures}, "setup": ...} for CV, expert and each model."""
    ds = EpisodeDataset(data)
    seeds = list(range(seed0, seed0 + routes))
    world_kwargs = {"left_hand": left_hand}
    t0 = time.perf_counter()
    open_loop: dict[str, Any] = {CV: evaluate_open_loop(ds), EXPERT: {"samples": len(ds), "ade_m": 0.0, "fde_m": 0.0,
                                                                      "miss_rate": 0.0, "note": "ground truth"}}
    closed: dict[str, Any] = {EXPERT: evaluate_closed_loop(None, seeds, duration_s, world_kwargs, progress=progress)}
    reference = expert_reference(closed[EXPERT])
    closed[CV] = evaluate_closed_loop(ConstantVelocityPlanner(), seeds, duration_s, world_kwargs, reference, progress)
    trained: dict[str, Any] = {}
    for name, path in models:
        model, state = load_model(path)
        kind = state["kind"]
        open_loop[name] = evaluate_open_loop(ds, model=model, kind=kind)
        closed[name] = evaluate_closed_loop(ModelPlanner(model, kind, name), seeds, duration_s, world_kwargs,
                                            reference, progress)
        trained[name] = {"checkpoint": str(path), "kind": kind, "parameters": sum(p.numel() for p in model.parameters()),
                         "train_config": state.get("train_config", {})}
    return {"setup": {"data": data, "samples": len(ds), "routes": routes, "route_seeds": [seeds[0], seeds[-1]],
                      "duration_s": duration_s, "left_hand": left_hand,
                      "seconds": round(time.perf_counter() - t0, 1)},
            "models": trained, "open_loop": open_loop, "closed_loop": closed}


def _fmt(v: Any, digits: int = 2) -> str:
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def markdown_tables(results: dict[str, Any]) -> str:
    s = results["setup"]
    lines = [f"Open loop on {s['samples']} held-out frames ({s['data']}); top-scored mode.", "",
             "| row | ADE (m) | FDE (m) | miss rate @2 m | min-over-modes ADE (m) | scenario accuracy |",
             "|---|---|---|---|---|---|"]
    for name, r in results["open_loop"].items():
        lines.append(f"| {name} | {_fmt(r['ade_m'])} | {_fmt(r['fde_m'])} | {_fmt(r['miss_rate'])} | "
                     f"{_fmt(r.get('min_ade_m', '-'))} | {_fmt(r.get('scenario_accuracy', '-'))} |")
    side = "left" if s["left_hand"] else "right"
    lines += ["", f"Closed loop: {s['routes']} routes of {s['duration_s']:.0f} s ({side}-hand traffic, world seeds "
              f"{s['route_seeds'][0]}-{s['route_seeds'][1]}); a route ends at a collision or lane departure.", "",
              "| row | km | collisions | collisions/km | lane departures | departures/km | route completion | "
              "uncomfortable s/km | max lateral accel (m/s²) |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name, r in results["closed_loop"].items():
        lines.append(f"| {name} | {_fmt(r['km'])} | {r['collisions']} | {_fmt(r['collisions_per_km'])} | "
                     f"{r['lane_departures']} | {_fmt(r['departures_per_km'])} | {_fmt(r['route_completion'])} | "
                     f"{_fmt(r['uncomfortable_s_per_km'], 1)} | {_fmt(r['max_lat_accel'])} |")
    return "\n".join(lines) + "\n"


def write_report(results: dict[str, Any], json_path: str | None = None, markdown_path: str | None = None) -> str:
    text = markdown_tables(results)
    print(text)
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(results, indent=2) + "\n")
    if markdown_path:
        Path(markdown_path).parent.mkdir(parents=True, exist_ok=True)
        Path(markdown_path).write_text(text)
    return text
