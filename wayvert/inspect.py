"""``wayvert inspect``: what an engine is, in a table or as JSON."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from wayvert.engine import Engine


def engine_summary(engine: Engine) -> dict[str, Any]:
    """Meta plus what the runtime derived at load: specs, op plan, arena bytes, CPU kernel ISA."""
    from wayvert import cpu_isa

    def spec(s: Any) -> dict[str, Any]:
        d: dict[str, Any] = {"name": s.name, "dtype": s.dtype, "shape": list(s.shape)}
        if s.dtype == "int8":
            d.update(scale=s.scale, zero_point=s.zero_point)
        return d

    return {
        "source": engine.source,
        "meta": engine.meta,
        "inputs": [spec(s) for s in engine.inputs],
        "outputs": [spec(s) for s in engine.outputs],
        "plan": engine.op_types,
        "arena_bytes": engine.arena_bytes,
        "naive_arena_bytes": engine.naive_arena_bytes,
        "cpu_isa": cpu_isa(),
        # What the calibration gates recorded, also at the top level for scripts (absent for hand-built engines).
        **{k: engine.meta[k] for k in ("quantization", "accuracy", "profile") if k in engine.meta},
    }


def describe_engine(path: str, as_json: bool = False) -> str:
    """Text (or JSON) description of the engine at ``path``."""
    s = engine_summary(Engine.load(path))
    if as_json:
        return json.dumps(s, indent=2, sort_keys=True)
    model = s["meta"].get("model", {})
    lines = [f"engine   {s['source']}", f"model    {model.get('name', '?')} v{model.get('version', '?')}",
             f"format   {s['meta'].get('format', {})}", "inputs"]
    lines += [f"  {i['name']:<16} {i['dtype']:<8} {i['shape']}" + (f" scale={i['scale']:.6g} zero={i['zero_point']}" if "scale" in i else "") for i in s["inputs"]]
    lines.append("outputs")
    lines += [f"  {o['name']:<16} {o['dtype']:<8} {o['shape']}" + (f" scale={o['scale']:.6g} zero={o['zero_point']}" if "scale" in o else "") for o in s["outputs"]]
    counts = Counter(s["plan"])
    lines.append(f"plan     {len(s['plan'])} ops: " + ", ".join(f"{k} x{v}" for k, v in sorted(counts.items())))
    lines.append(f"arena    {s['arena_bytes']:,} bytes planned ({s['naive_arena_bytes']:,} if no buffer were shared)")
    lines.append(f"kernels  {s['cpu_isa']}")
    for key in ("quantization", "accuracy", "profile"):
        if key in s["meta"]:
            lines.append(f"{key:<8} {json.dumps(s['meta'][key], sort_keys=True)}")
    return "\n".join(lines)
