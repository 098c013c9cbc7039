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
        "state": [dict(s) for s in engine.meta.get("state", [])],   # recurrent state each session keeps
        "plan": engine.op_types,
        "ops": op_table(engine),
        "fast_path": fast_path_summary(engine),
        "arena_bytes": engine.arena_bytes,
        "naive_arena_bytes": engine.naive_arena_bytes,
        "packed_weight_bytes": engine.packed_weight_bytes,
        "cpu_isa": cpu_isa(),
        "cuda": cuda_summary(engine),
        # What the calibration gates recorded, also at the top level for scripts (absent for hand-built engines).
        **{k: engine.meta[k] for k in ("quantization", "accuracy", "profile") if k in engine.meta},
    }


def op_table(engine: Engine) -> list[dict[str, Any]] | None:
    """One row per op in execution order: type, output, MACs, ops (2 per MAC + elementwise) and bytes moved on the CPU
    (every input and output read or written once, float32 at 4 bytes; see wayvert.graph.costs). None for an engine
    loaded from bytes: the graph is read back from the engine's file."""
    import os

    from wayvert.graph import engine_ops, op_cost

    if not os.path.isfile(engine.source):
        return None
    rows = []
    for op in engine_ops(engine):
        c, y = op_cost(op), op.outputs[0]
        rows.append({"op": op.op_type, "output": y.name, "dtype": c.dtype, "shape": list(y.shape), "macs": c.macs,
                     "ops": c.ops, "bytes": c.bytes_on(4), "modelled": c.modelled})
    return rows


def cuda_summary(engine: Engine) -> dict[str, Any]:
    """The CUDA executor's coverage of this engine (no GPU needed): ``built`` (this build has it), ``devices``
    (CUDA devices visible now) and ``unsupported_ops`` (empty when every op has a CUDA kernel)."""
    from wayvert import cuda_device_count

    cov = engine.cuda_coverage()
    return {"built": cov["built"], "devices": cuda_device_count(), "unsupported_ops": cov["unsupported_ops"]}


def format_cuda(c: dict[str, Any], ops: int) -> list[str]:
    """The CUDA coverage as text lines."""
    if not c["built"]:
        return ["cuda     not in this build (built without nvcc): CPU sessions only"]
    gaps = c["unsupported_ops"]
    where = f"{c['devices']} device(s) visible" if c["devices"] else "no CUDA device visible here"
    if not gaps:
        return [f"cuda     every op of the plan has a CUDA kernel ({ops} ops; {where})"]
    lines = [f"cuda     {len(gaps)} of {ops} ops have no CUDA kernel, so device='cuda' is refused ({where}):"]
    lines += [f"  {g['index']:>3} {g['op']:<16} {g['reason']}" for g in gaps]
    return lines


def fast_path_summary(engine: Engine) -> dict[str, Any] | None:
    """Share of MACs on the int8 kernels and the layers off them (wayvert.graph.fast_path); None for an engine
    loaded from bytes."""
    import os

    from wayvert.graph import fast_path

    if not os.path.isfile(engine.source):
        return None
    return fast_path(engine).to_dict()


def format_fast_path(fp: dict[str, Any]) -> list[str]:
    """The fast-path summary as text lines."""
    lines = [f"fast     {100 * fp['int8_mac_share']:.1f}% of {fp['total_macs'] / 1e6:.3f} MMACs on the int8 kernels"]
    for r in fp["off_fast_path"]:
        lines.append(f"  off    {r['name']} ({r['dtype']} {r['op']}, {r['macs'] / 1e6:.3f} MMACs)")
    return lines


def _format_ops(rows: list[dict[str, Any]]) -> list[str]:
    width = max([len(r["output"]) for r in rows] + [6])
    lines = [f"  {'#':>3} {'op':<16} {'output':<{width}} {'dtype':<5} {'shape':<18} {'MMACs':>8} {'MFLOP':>8} {'KiB':>8} {'op/B':>6}"]
    for i, r in enumerate(rows):
        intensity = r["ops"] / r["bytes"] if r["bytes"] else 0.0
        lines.append(f"  {i:>3} {r['op']:<16} {r['output']:<{width}} {r['dtype']:<5} {str(r['shape']):<18} "
                     f"{r['macs'] / 1e6:>8.3f} {r['ops'] / 1e6:>8.3f} {r['bytes'] / 1024:>8.1f} {intensity:>6.1f}")
    macs, ops, nbytes = (sum(r[k] for r in rows) for k in ("macs", "ops", "bytes"))
    lines.append(f"  {'':>3} {'total':<16} {'':<{width}} {'':<5} {'':<18} {macs / 1e6:>8.3f} {ops / 1e6:>8.3f} {nbytes / 1024:>8.1f} "
                 f"{(ops / nbytes if nbytes else 0.0):>6.1f}")
    return lines


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
    if s["state"]:
        lines.append("state    (kept by each session from one run to the next; zero in a new session or after reset)")
        lines += [f"  {t['name']:<16} {t['dtype']:<8} {t['shape']}" + (f" scale={t['scale']:.6g} zero={t['zero_point']}" if "scale" in t else "") for t in s["state"]]
    counts = Counter(s["plan"])
    lines.append(f"plan     {len(s['plan'])} ops: " + ", ".join(f"{k} x{v}" for k, v in sorted(counts.items())))
    lines.append("ops      (MFLOP: 2 per MAC + elementwise; KiB: every tensor read or written once, float32 at 4 B)")
    lines += _format_ops(s["ops"]) if s["ops"] else ["  (not available: the engine was not loaded from a file)"]
    if s["fast_path"] is not None:
        lines += format_fast_path(s["fast_path"])
    lines.append(f"arena    {s['arena_bytes']:,} bytes planned ({s['naive_arena_bytes']:,} if no buffer were shared)")
    lines.append(f"packed   {s['packed_weight_bytes']:,} bytes of weights repacked at load for the {s['cpu_isa']} kernels "
                 "(once per engine, shared by its sessions)")
    lines.append(f"kernels  {s['cpu_isa']}")
    lines += format_cuda(s["cuda"], len(s["plan"]))
    for key in ("quantization", "accuracy", "profile"):
        if key in s["meta"]:
            lines.append(f"{key:<8} {json.dumps(s['meta'][key], sort_keys=True)}")
    return "\n".join(lines)
