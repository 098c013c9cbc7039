"""Markdown report of a pytest-benchmark JSON from benches/: per group, each peer's time and wayvert's ratio to it.

Usage (from the repo root)::

    .venv/bin/python -m pytest benches -q --benchmark-json=/tmp/bench.json
    .venv/bin/python benches/report.py /tmp/bench.json > benches/REPORT.md

    # several runs of the same code (noisy machine): per benchmark, the best median and the best min
    .venv/bin/python benches/report.py /tmp/bench1.json /tmp/bench2.json /tmp/bench3.json

One table per benchmark group (network size). Columns: peer, threads, median and min time in ms,
``int8 / peer`` = median(wayvert_int8) / median(peer) and ``f32 / peer`` = median(wayvert_f32) / median(peer)
(below 1: wayvert is faster than that peer; above 1: slower, by that factor), the same two ratios on the
min times (``int8 / peer, min``: less sensitive to a noisy neighbour slowing part of the run), then the
accuracy of the peer's logits against the numpy float32 reference on a fixed input (max abs error,
relative L2 error). A second table lists the wayvert engines' planned vs naive arena bytes and engine
file sizes.

Only the standard library is needed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

PEER_ORDER = ["wayvert_int8", "wayvert_f32", "numpy_f32", "ort_f32_t1", "ort_f32_t2", "ort_int8_t1", "ort_int8_t2"]


def _peer(b: dict[str, Any]) -> str:
    return str(b.get("extra_info", {}).get("peer") or b.get("param") or b["name"])


def _order(name: str) -> tuple[int, str]:
    return (PEER_ORDER.index(name) if name in PEER_ORDER else len(PEER_ORDER), name)


def _ratio(num: float | None, den: float) -> str:
    return "–" if num is None or den <= 0 else f"{num / den:.2f}"


def _err(v: Any, fmt: str) -> str:
    return "–" if v is None else format(float(v), fmt)


def _group_key(g: str) -> tuple[int, str]:
    # "convnet 1x3x64x128" -> order by the element count of the shape, then by name
    n = 1
    try:
        for d in g.split()[-1].split("x"):
            n *= int(d)
    except ValueError:
        n = 0
    return (n, g)


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One pytest-benchmark document from several runs: per benchmark, the lowest median and the lowest min
    (best of N, as timeit does); header and extra_info from the first run holding that benchmark."""
    data = dict(runs[0])
    merged: dict[str, dict[str, Any]] = {}
    for run in runs:
        for b in run.get("benchmarks", []):
            key = b.get("fullname") or b["name"]
            if key not in merged:
                merged[key] = {**b, "stats": dict(b["stats"]), "runs": 1}
                continue
            m = merged[key]
            m["runs"] += 1
            for stat in ("median", "min"):
                m["stats"][stat] = min(float(m["stats"][stat]), float(b["stats"][stat]))
    data["benchmarks"] = list(merged.values())
    data["runs"] = len(runs)
    return data


def render(data: dict[str, Any]) -> str:
    groups: dict[str, dict[str, dict[str, Any]]] = {}
    for b in data.get("benchmarks", []):
        groups.setdefault(b.get("group") or "(no group)", {})[_peer(b)] = b
    mi = data.get("machine_info", {})
    cpu = mi.get("cpu", {}) if isinstance(mi.get("cpu"), dict) else {}
    commit = data.get("commit_info", {}) or {}
    out = [f"Run {data.get('datetime', '?')}, CPU {cpu.get('brand_raw', mi.get('processor', '?'))} "
           f"({cpu.get('count', '?')} logical CPUs), Python {mi.get('python_version', '?')}, "
           f"commit {str(commit.get('id', '?'))[:10]}{' (dirty)' if commit.get('dirty') else ''}"
           + (f"; best of {data['runs']} runs." if data.get("runs", 1) > 1 else "."), ""]
    out += ["Times are per inference, batch 1, float32 image in and float32 logits out. "
            "`int8 / peer` and `f32 / peer` are median(wayvert) / median(peer): above 1 wayvert is slower. "
            "Errors are of the logits vs the numpy float32 reference on one fixed input.", ""]
    arena_rows: list[str] = []
    for g in sorted(groups, key=_group_key):
        peers = groups[g]
        med = {p: float(b["stats"]["median"]) for p, b in peers.items()}
        mn = {p: float(b["stats"]["min"]) for p, b in peers.items()}
        wi, wf = med.get("wayvert_int8"), med.get("wayvert_f32")
        wim, wfm = mn.get("wayvert_int8"), mn.get("wayvert_f32")
        out += [f"### {g}", "",
                "| peer | threads | median ms | min ms | int8 / peer | f32 / peer | int8 / peer, min | f32 / peer, min "
                "| max abs err | rel L2 err |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for p in sorted(peers, key=_order):
            b = peers[p]
            ei = b.get("extra_info", {})
            out.append(f"| {p} | {ei.get('threads', '?')} | {med[p] * 1e3:.3f} | {mn[p] * 1e3:.3f} | "
                       f"{_ratio(wi, med[p])} | {_ratio(wf, med[p])} | {_ratio(wim, mn[p])} | {_ratio(wfm, mn[p])} | "
                       f"{_err(ei.get('max_abs_err'), '.2e')} | {_err(ei.get('rel_l2_err'), '.2e')} |")
            if "arena_bytes" in ei:
                a, n = int(ei["arena_bytes"]), int(ei.get("naive_arena_bytes", 0))
                saved = f"{100 * (1 - a / n):.0f}%" if n else "–"
                arena_rows.append(f"| {g} | {p} | {a:,} | {n:,} | {saved} | {int(ei.get('engine_file_bytes', 0)):,} |")
        out.append("")
    if arena_rows:
        out += ["### wayvert memory", "",
                "| group | engine | planned arena bytes | naive arena bytes | saved by planning | engine file bytes |",
                "|---|---|---:|---:|---:|---:|", *arena_rows, ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("json", nargs="+", help="file(s) written by pytest --benchmark-json (several: best of them)")
    args = ap.parse_args(argv)
    runs = []
    for path in args.json:
        with open(path, encoding="utf-8") as f:
            runs.append(json.load(f))
    sys.stdout.write(render(merge(runs) if len(runs) > 1 else runs[0]) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
