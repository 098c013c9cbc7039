"""benches/REPORT.md from pytest-benchmark JSON: per group, every peer's time and wayvert's ratio to it; the
reference network's memory; the machine's measured peaks and each hot kernel's fraction of that roofline; a plot.

Usage (from the repo root; ``make bench`` does this)::

    .venv/bin/pytest benches -q --benchmark-json=_build/bench.json
    .venv/bin/python benches/report.py _build/bench.json --plot benches/report.png > benches/REPORT.md

    # several runs of the same code (noisy machine): per benchmark, the best median and the best min
    .venv/bin/python benches/report.py run1.json run2.json run3.json

Ratios are ``wayvert / peer`` on the time per frame (median, and min): below 1 wayvert is faster, above 1 slower by
that factor. A row is compared with the wayvert row of the same thread count where the group has one (the reference
network: wayvert at 2 threads is two sessions at once), else with the group's wayvert row: the benchmark with
``extra_info["baseline"]``, else the first peer whose name contains "wayvert". A benchmark that does several frames per call (``extra_info["frames_per_call"]``, e.g.
two sessions on two threads) is divided by them. Only the standard library is needed, and matplotlib for ``--plot``.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

PEAKS = "machine peaks (1 thread)"
KERNELS = "reference network kernels (1 thread)"
E2E = "reference network"
LARGE_KERNELS = "large backbone kernels (1 thread)"
IN_NETWORK = "large backbone ops in the network (1 thread)"
INTERLEAVED = "peers interleaved: "
# Issue 12's targets: (network, wayvert peer, other peer, most wayvert / peer on the median).
NETWORK_TARGETS = [("large backbone", "wayvert_int8_t1", "ort_int8_t1", 0.95),
                   ("large backbone", "wayvert_int8_t2", "ort_int8_t2", 0.95),
                   ("large backbone", "wayvert_int8_t1", "executorch_int8_t1", 0.8),
                   ("large backbone", "wayvert_int8_t2", "executorch_int8_t2", 0.8),
                   ("shipped network", "wayvert_int8_t1", "ort_int8_t1", 1.0),
                   ("shipped network", "wayvert_int8_t2", "ort_int8_t2", 1.0)]
GEMM_TARGET = 0.85        # wayvert's int8 GEMM rate / the best peer's single-thread int8 GEMM rate, at least
# What holds a target back when it is missed (measured reasons; benches/NOTES.md, "Issue 12", has the numbers).
HELD_BACK = {
    "large backbone 1": "the VNNI micro-kernel runs at MLAS's and XNNPACK's rate (455 vs 434-447 GOP/s alone); 78% of "
                        "wayvert's run is in it, so only the other 22% can beat a peer: the exact 64-bit fixed-point "
                        "requantization (~8%), the conversion of each conv's input into the kernel's format (~3%), "
                        "pointer building (~3%), and the 3-channel stem (epilogue-bound: 0.8 M outputs for 21 M MACs)",
    "large backbone 2": "as at 1 thread, plus parallel efficiency (two hand-offs per conv: preparation, then the GEMM "
                        "tiles) and the machine: a 2-thread row is only valid when 'cores busy' is near 2",
    "convs": "the stem is bound by its epilogue (27 MACs per output) and the small 1x1 256->32 by its epilogue and "
             "a 32-column tile",
}

CONV_TARGET = 0.70        # every 3x3 and 1x1 conv of the large backbone / the same peer rate, at least
GPU_RUNS = Path(__file__).resolve().parent / "gpu"   # <gpu>-<date>/bench_*.json from benches/gpu/device_check.sh
GPU_TARGET = 1.0          # issue 16: wayvert's CUDA session / PyTorch fp16 with a CUDA Graph, p50, at most


def gpu_section(root: Path = GPU_RUNS) -> list[str]:
    """The newest lent-GPU run kept under benches/gpu/ (a folder per run: ``bench_<engine>.json`` written by
    ``wayvert bench --device cuda --compare torch --json``): latency, energy and the issue-16 ratio per engine.
    Empty when no run was kept. GPU figures are measured only on a lent machine, never by ``make bench``."""
    runs = sorted((d for d in root.glob("*-*") if d.is_dir() and any(d.glob("bench_*.json"))), key=lambda d: d.name[-10:])
    if not runs:
        return []
    run = runs[-1]
    out = ["## GPU (CUDA sessions)", "",
           f"Kept from the lent-GPU run in `benches/gpu/{run.name}/` (`benches/gpu/device_check.sh`; `make bench` does "
           "not measure a GPU). Batch 1; every row copies its inputs from the host and its outputs back; rows "
           "interleaved in one process; energy per frame from the meter named under each table. `wayvert / peer`: "
           f"the CUDA session's p50 over the row's (issue 16's target: at most {GPU_TARGET:.1f} against PyTorch fp16 "
           "with a CUDA Graph).", ""]
    for f in sorted(run.glob("bench_*.json")):
        d = json.loads(f.read_text())
        rows = d["rows"]
        ours = next(r for r in rows if r["runtime"] == "wayvert")
        out += [f"### {Path(d['engine']).name}", "",
                "| runtime | precision | p50 ms | p90 ms | p99 ms | min ms | wayvert / peer (p50) | J/frame | W | SQNR dB |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            e = r.get("energy") or {}
            jpf = f"{e['joules_per_frame']:.4f}" if "joules_per_frame" in e else ""
            w = f"{e['average_w']:.1f}" if "average_w" in e else ""
            sq = f"{r['sqnr_db_vs_fp32']:.1f}" if r.get("sqnr_db_vs_fp32") is not None else ""
            out.append(f"| {r['runtime']} | {r['precision']} | {r['p50_ms']:.3f} | {r['p90_ms']:.3f} | {r['p99_ms']:.3f} | "
                       f"{r['min_ms']:.3f} | {ours['p50_ms'] / r['p50_ms']:.2f} | {jpf} | {w} | {sq} |")
        sources = sorted({(r.get("energy") or {}).get("source", "") for r in rows} - {""})
        out += [""] + [f"energy: {s}" for s in sources] + [""]
    return out


def _peer(b: dict[str, Any]) -> str:
    return str(b.get("extra_info", {}).get("peer") or b.get("param") or b["name"])


def _frames(b: dict[str, Any]) -> int:
    return int(b.get("extra_info", {}).get("frames_per_call", 1))


def _ms(b: dict[str, Any], stat: str) -> float:
    """Milliseconds per frame of one statistic ("median", "min", or "p99" from the samples where saved)."""
    st = b["stats"]
    if stat == "p99":
        data = sorted(st.get("data") or [])
        if not data:
            return float("nan")
        value = data[min(len(data) - 1, int(math.ceil(0.99 * len(data))) - 1)]
    else:
        value = float(st[stat])
    return value * 1e3 / _frames(b)


def _ratio(num: float | None, den: float) -> str:
    return "–" if num is None or not den > 0 or math.isnan(num) else f"{num / den:.2f}"


def _baseline(peers: dict[str, dict[str, Any]]) -> str | None:
    for name, b in peers.items():
        if b.get("extra_info", {}).get("baseline"):
            return name
    return next((n for n in peers if "wayvert" in n), None)


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One document from several runs: per benchmark, the lowest median and the lowest min (best of N, as timeit
    does); header and extra_info from the first run holding that benchmark."""
    data = dict(runs[0])
    merged: dict[str, dict[str, Any]] = {}
    for run in runs:
        for b in run.get("benchmarks", []):
            key = b.get("fullname") or b["name"]
            if key not in merged:
                ei = b.get("extra_info", {})
                merged[key] = {**b, "stats": dict(b["stats"]),
                               "extra_info": {**ei, "peers": {n: dict(r) for n, r in ei["peers"].items()}} if "peers" in ei else ei}
                continue
            for stat in ("median", "min"):
                merged[key]["stats"][stat] = min(float(merged[key]["stats"][stat]), float(b["stats"][stat]))
            peers = merged[key].get("extra_info", {}).get("peers")
            for name, r in (b.get("extra_info", {}).get("peers") or {}).items():
                if peers is not None and name in peers:
                    for stat in ("median_ms", "min_ms"):
                        peers[name][stat] = min(float(peers[name][stat]), float(r[stat]))
                elif peers is not None:
                    peers[name] = r
    data["benchmarks"] = list(merged.values())
    data["runs"] = len(runs)
    return data


def _groups(data: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    groups: dict[str, dict[str, dict[str, Any]]] = {}
    for b in data.get("benchmarks", []):
        groups.setdefault(b.get("group") or "(no group)", {})[_peer(b)] = b
    return groups


def _accuracy(ei: dict[str, Any]) -> str:
    if "sqnr_db" in ei:
        return "exact" if ei["sqnr_db"] == float("inf") else f"SQNR {float(ei['sqnr_db']):.1f} dB"
    if "rel_l2_err" in ei:
        return f"rel L2 {float(ei['rel_l2_err']):.1e}"
    if "mean_abs_codes" in ei:
        return f"mean abs {float(ei['mean_abs_codes']):.2f} codes"
    return ""


def _timing_table(name: str, peers: dict[str, dict[str, Any]]) -> list[str]:
    base = _baseline(peers)
    by_threads = {b.get("extra_info", {}).get("threads"): p for p, b in peers.items() if "wayvert" in p}
    out = [f"### {name}", "", "| peer | threads | median ms/frame | min ms/frame | p99 ms/frame | wayvert / peer | "
           "wayvert / peer, min | agreement |", "|---|---:|---:|---:|---:|---:|---:|---|"]
    for p, b in peers.items():
        ei = b.get("extra_info", {})
        ref = by_threads.get(ei.get("threads"), base) if len(by_threads) > 1 else base
        bm = _ms(peers[ref], "median") if ref else None
        bn = _ms(peers[ref], "min") if ref else None
        med, mn, p99 = _ms(b, "median"), _ms(b, "min"), _ms(b, "p99")
        out.append(f"| {p}{' (baseline)' if p == ref else ''} | {ei.get('threads', '?')} | {med:.3f} | {mn:.3f} | "
                   f"{'–' if math.isnan(p99) else f'{p99:.3f}'} | {_ratio(bm, med)} | {_ratio(bn, mn)} | {_accuracy(ei)} |")
    if any(_frames(b) > 1 for b in peers.values()):
        out += ["", "Rows with several frames per timed call (two sessions at once) show times per call divided by "
                "the frames: their p99 is of batches, not a per-frame latency tail."]
    return out + [""]


def _memory_table(peers: dict[str, dict[str, Any]]) -> list[str]:
    rows = [(p, b["extra_info"]) for p, b in peers.items() if "memory" in b.get("extra_info", {})]
    if not rows:
        return []
    base = next((ei["memory"]["resident_kib"] for p, ei in rows if p.startswith("wayvert")), None)
    out = ["### reference network: resident memory", "",
           "Each runtime holding the model in a fresh process, after 20 runs: RSS minus the RSS after importing the "
           "runtime (`wayvert.benchmark.memory`). For wayvert that is the mapped engine pages touched plus the "
           "session's arena plus the run's bookkeeping.", "",
           "| runtime | model file bytes | resident MiB | peak MiB | wayvert / runtime | wayvert arena bytes |",
           "|---|---:|---:|---:|---:|---:|"]
    for p, ei in rows:
        m = ei["memory"]
        fb = ei.get("engine_file_bytes", m.get("file_bytes", 0))
        out.append(f"| {p} | {int(fb):,} | {m['resident_kib'] / 1024:.1f} | {m['peak_kib'] / 1024:.1f} | "
                   f"{_ratio(base, float(m['resident_kib']))} | {int(ei['arena_bytes']):,} |" if "arena_bytes" in ei else
                   f"| {p} | {int(fb):,} | {m['resident_kib'] / 1024:.1f} | {m['peak_kib'] / 1024:.1f} | "
                   f"{_ratio(base, float(m['resident_kib']))} | – |")
    return out + [""]


def machine_peaks(peaks: dict[str, dict[str, Any]]) -> dict[str, tuple[float, str]]:
    """kind ("int8", "fp32", "bandwidth") -> (best rate: ops/s or bytes/s, from the min time; the peer that gave it)."""
    best: dict[str, tuple[float, str]] = {}
    for p, b in peaks.items():
        ei = b["extra_info"]
        amount = float(ei["bytes"] if ei["kind"] == "bandwidth" else ei["ops"])
        rate = amount / float(b["stats"]["min"])
        if rate > best.get(ei["kind"], (0.0, ""))[0]:
            best[ei["kind"]] = (rate, p)
    return best


def _roofline_tables(peaks: dict[str, dict[str, Any]], kernels: dict[str, dict[str, Any]]) -> tuple[list[str], list[tuple[str, float]]]:
    best = machine_peaks(peaks)
    out = [f"### {PEAKS}", "", "| peer | kind | min ms | rate (min) |", "|---|---|---:|---:|"]
    for p, b in peaks.items():
        ei = b["extra_info"]
        amount = float(ei["bytes"] if ei["kind"] == "bandwidth" else ei["ops"])
        unit = "GB/s" if ei["kind"] == "bandwidth" else "GOP/s"
        out.append(f"| {p} | {ei['kind']} | {float(b['stats']['min']) * 1e3:.3f} | {amount / float(b['stats']['min']) / 1e9:.1f} {unit} |")
    out += ["", "Machine peak per kind = the best peer above: " + ", ".join(
        f"{k} {v / 1e9:.1f} {'GB/s' if k == 'bandwidth' else 'GOP/s'} ({p})" for k, (v, p) in sorted(best.items())), ""]
    fractions: list[tuple[str, float]] = []
    if not kernels or "bandwidth" not in best:
        return out, fractions
    out += [f"### {KERNELS}", "",
            "Roofline time = max(ops / peak of the op's dtype, bytes / bandwidth), with the peaks above; "
            "fraction = roofline time / measured min time (1.0 = at the roofline). The bandwidth is a 64 MiB copy (DRAM): "
            "an op whose operands stay in cache can beat it, so a memory-bound fraction above 1 means cache-resident.", "",
            "| kernel | output shape | MMACs | KiB moved | min µs | median µs | achieved GOP/s | roofline µs | bound | fraction of roofline |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|---:|"]
    for p, b in sorted(kernels.items()):
        ei = b["extra_info"]
        kind = "int8" if ei["dtype"] == "int8" else "fp32"
        peak = best.get(kind, (float("nan"), ""))[0]
        compute, memory = float(ei["ops"]) / peak, float(ei["bytes"]) / best["bandwidth"][0]
        roof = max(compute, memory)
        t = float(b["stats"]["min"])
        fractions.append((p, roof / t))
        out.append(f"| {p} | {ei['shape']} | {ei['macs'] / 1e6:.3f} | {ei['bytes'] / 1024:.1f} | {t * 1e6:.1f} | "
                   f"{float(b['stats']['median']) * 1e6:.1f} | {float(ei['ops']) / t / 1e9:.1f} | {roof * 1e6:.1f} | "
                   f"{'compute' if compute >= memory else 'memory'} | {roof / t:.2f} |")
    total_t = sum(float(b["stats"]["min"]) for b in kernels.values())
    out += ["", f"Sum of the kernels' min times: {total_t * 1e3:.3f} ms.", ""]
    return out, fractions


def _interleaved(groups: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """network -> the extra_info of its interleaved run (peers, skipped, rounds, macs)."""
    out = {}
    for g, peers in groups.items():
        if g.startswith(INTERLEAVED):
            for b in peers.values():
                out[g[len(INTERLEAVED):]] = b.get("extra_info", {})
    return out


def _sqnr(r: dict[str, Any]) -> str:
    q = r.get("sqnr_db") or {}
    return " / ".join("exact" if v == float("inf") else f"{float(v):.1f}" for v in q.values())


def _interleaved_table(network: str, ei: dict[str, Any]) -> list[str]:
    peers = ei.get("peers", {})
    base = {r["threads"]: n for n, r in peers.items() if n.startswith("wayvert_int8")}
    macs = float(ei.get("macs", 0))
    out = [f"### {network}: peers in one process, interleaved", "",
           f"`{ei.get('engine', '?')}` ({macs / 1e9:.2f} GMAC per frame), inputs: {ei.get('feeds', '?')}; "
           f"{ei.get('rounds', '?')} rounds, every peer once per round (benches/interleaved.py). `wayvert / peer`: "
           "wayvert int8 at the same thread count over the peer (below 1: wayvert is faster). `cores busy`: the "
           "process's CPU time over the wall time of the peer's timed calls. SQNR (dB) of trajectories / mode logits "
           "against the float twin.", "",
           "| peer | threads | median ms | min ms | p90 ms | GOP/s (median) | cores busy | wayvert / peer | wayvert / peer, min | SQNR dB | notes |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for n, r in peers.items():
        ref = peers.get(base.get(r["threads"], "wayvert_int8_t1"))
        note = r.get("lowering", "")
        out.append(f"| {n} | {r['threads']} | {r['median_ms']:.3f} | {r['min_ms']:.3f} | {r.get('p90_ms', float('nan')):.3f} | "
                   f"{2 * macs / r['median_ms'] / 1e6:.0f} | {r.get('cpu_per_wall', float('nan')):.2f} | "
                   f"{_ratio(ref['median_ms'] if ref else None, r['median_ms'])} | {_ratio(ref['min_ms'] if ref else None, r['min_ms'])} | "
                   f"{_sqnr(r)} | {note} |")
    for n, why in (ei.get("skipped") or {}).items():
        out.append(f"| {n} | – | – | – | – | – | – | – | – | – | skipped: {why} |")
    return out + [""]


def _best_int8_rates(peaks: dict[str, dict[str, Any]]) -> tuple[tuple[float, str], tuple[float, str]]:
    """((wayvert's best int8 GEMM rate, peer), (the best other runtime's single-thread int8 GEMM rate, peer)), ops/s
    from the min time; (0, "") where none."""
    way, other = (0.0, ""), (0.0, "")
    for p, b in peaks.items():
        ei = b["extra_info"]
        if ei.get("kind") != "int8":
            continue
        rate = float(ei["ops"]) / float(b["stats"]["min"])
        if "wayvert" in p:
            way = max(way, (rate, p))
        else:
            other = max(other, (rate, p))
    return way, other


def _mark(ok: bool | None) -> str:
    return "–" if ok is None else ("**met**" if ok else "**missed**")


def targets(groups: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """The issue-12 targets table, each met or missed with its measured figure."""
    nets = _interleaved(groups)
    out = ["## Issue 12 targets", "",
           "Network targets are on the median time per frame of the interleaved runs below (min in brackets); the GEMM "
           "and conv targets on rates from the min time, against the best *other* runtime's single-thread int8 GEMM "
           "(`machine peaks`, each checked to keep one core busy).", "",
           "| target | measured | threshold | status |", "|---|---:|---:|---|"]
    for network, w, p, most in NETWORK_TARGETS:
        peers = nets.get(network, {}).get("peers", {})
        label = f"{network}: {w} / {p} (median)"
        if w in peers and p in peers:
            r, rmin = peers[w]["median_ms"] / peers[p]["median_ms"], peers[w]["min_ms"] / peers[p]["min_ms"]
            why = "" if r <= most else HELD_BACK.get(f"{network} {w[-1]}", "")
            out.append(f"| {label} | {r:.2f} ({rmin:.2f}) | ≤ {most:.2f} | {_mark(r <= most)}{': ' + why if why else ''} |")
        elif network in nets:
            why = (nets[network].get("skipped") or {}).get(p) or (nets[network].get("skipped") or {}).get(w) or "not measured"
            if p == "executorch_int8_t2" and p not in (nets[network].get("skipped") or {}):
                why = "not measured: ExecuTorch's threadpool size is fixed per process (benches/executorch_peer.py)"
            out.append(f"| {label} | – | ≤ {most:.2f} | – ({why}) |")
    peaks = groups.get(PEAKS, {})
    (wr, wp), (pr, pp) = _best_int8_rates(peaks)
    if wr and pr:
        out.append(f"| int8 GEMM 256x1024x1024, 1 thread: {wp} {wr / 1e9:.0f} GOP/s / {pp} {pr / 1e9:.0f} GOP/s | "
                   f"{wr / pr:.2f} | ≥ {GEMM_TARGET:.2f} | {_mark(wr / pr >= GEMM_TARGET)} |")
    fr = _conv_fractions(groups, pr)
    if fr:
        where = "in the network" if IN_NETWORK in groups else "one-op engines"
        met = sum(1 for f, _ in fr if f >= CONV_TARGET)
        out.append(f"| large backbone convs (3x3, 1x1), 1 thread, {where}: each / {pp} | {met} of {len(fr)} met; worst "
                   f"{fr[0][1]} {fr[0][0]:.2f} | ≥ {CONV_TARGET:.2f} each | {_mark(met == len(fr))}"
                   f"{'' if met == len(fr) else ': ' + HELD_BACK['convs']} |")
    return out + [""]


def _in_network_rows(groups: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [r for b in groups.get(IN_NETWORK, {}).values() for r in b.get("extra_info", {}).get("ops", [])]


def _conv_fractions(groups: dict[str, dict[str, dict[str, Any]]], peer_rate: float) -> list[tuple[float, str]]:
    """(rate / peer_rate, name) of every non-depthwise conv of the large backbone, lowest first: from the per-op
    times inside whole runs where measured, else from the one-op engines."""
    if not peer_rate:
        return []
    rows = _in_network_rows(groups)
    if rows:
        convs = [(float(r["ops"]) / (float(r["min_ms"]) * 1e-3), f"{r['index']:02d} {r['name']}") for r in rows
                 if r["op"] == "conv2d" and r.get("kernel") and "depthwise" not in r["kernel"]]
    else:
        convs = [(float(b["extra_info"]["ops"]) / float(b["stats"]["min"]), p) for p, b in groups.get(LARGE_KERNELS, {}).items()
                 if b["extra_info"].get("op") == "conv2d" and "depthwise" not in str(b["extra_info"].get("kernel"))]
    return sorted((rate / peer_rate, name) for rate, name in convs)


def _in_network_table(groups: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    rows = _in_network_rows(groups)
    if not rows:
        return []
    _, (pr, pp) = _best_int8_rates(groups.get(PEAKS, {}))
    out = [f"### {IN_NETWORK}", "",
           "Each op's time inside whole runs of the large backbone engine (`Session.profile()`, the lowest of 20 "
           f"five-run means), against {pp or 'no peer'}'s single-thread int8 GEMM rate (target: ≥ 0.70 for every 3x3 "
           "and 1x1 conv). Ops under 0.5 MMAC are left out of the table, not of the sum.", "",
           "| op | kernel | output shape | MMACs | min µs | mean µs | GOP/s (min) | / best peer GEMM | share of the run |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    total = sum(float(r["min_ms"]) for r in rows)
    for r in rows:
        if r["macs"] < 5e5:
            continue
        rate = float(r["ops"]) / (float(r["min_ms"]) * 1e-3)
        out.append(f"| {r['index']:02d} {r['op']} {r['name']} | {r.get('kernel') or '–'} | {r['shape']} | "
                   f"{r['macs'] / 1e6:.1f} | {r['min_ms'] * 1e3:.0f} | {r['mean_ms'] * 1e3:.0f} | {rate / 1e9:.0f} | "
                   f"{_ratio(rate, pr) if pr else '–'} | {float(r['min_ms']) / total:.0%} |")
    return out + ["", f"Sum of the ops' min times: {total:.3f} ms (all {len(rows)} ops).", ""]


def _large_kernels_table(peaks: dict[str, dict[str, Any]], kernels: dict[str, dict[str, Any]]) -> list[str]:
    if not kernels:
        return []
    _, (pr, pp) = _best_int8_rates(peaks)
    out = [f"### {LARGE_KERNELS}", "",
           f"Each conv of the large backbone alone (one-op engine, its own weights; NCHW in and out, so two layout "
           f"changes a chain of convs does not pay), against {pp or 'no peer'}'s "
           "single-thread int8 GEMM rate (target: ≥ 0.70 for every 3x3 and 1x1 conv).", "",
           "| kernel | kernel size | output shape | MMACs | min µs | median µs | GOP/s (min) | / best peer GEMM |",
           "|---|---|---|---:|---:|---:|---:|---:|"]
    total = 0.0
    for p, b in sorted(kernels.items()):
        ei = b["extra_info"]
        t = float(b["stats"]["min"])
        total += t
        rate = float(ei["ops"]) / t
        out.append(f"| {p} | {ei.get('kernel') or '–'} | {ei['shape']} | {ei['macs'] / 1e6:.1f} | {t * 1e6:.0f} | "
                   f"{float(b['stats']['median']) * 1e6:.0f} | {rate / 1e9:.0f} | {_ratio(rate, pr) if pr else '–'} |")
    return out + ["", f"Sum of the kernels' min times: {total * 1e3:.3f} ms.", ""]


def render(data: dict[str, Any]) -> str:
    groups = _groups(data)
    mi = data.get("machine_info", {})
    cpu = mi.get("cpu", {}) if isinstance(mi.get("cpu"), dict) else {}
    commit = data.get("commit_info", {}) or {}
    out = ["# Benchmark report", "", f"Run {data.get('datetime', '?')}, CPU {cpu.get('brand_raw', mi.get('processor', '?'))} "
           f"({cpu.get('count', '?')} logical CPUs), Python {mi.get('python_version', '?')}, "
           f"commit {str(commit.get('id', '?'))[:10]}{' (dirty)' if commit.get('dirty') else ''}"
           + (f"; best of {data['runs']} runs." if data.get("runs", 1) > 1 else "."), "",
           "Written by `make bench` (benches/report.py); what each benchmark does is in its module's docstring and in "
           "benches/NOTES.md. `wayvert / peer` below 1: wayvert is faster. Timings on a shared 2-vCPU machine are "
           "noisy: read the min columns next to the medians.", ""]
    out += targets(groups)
    for network, ei in _interleaved(groups).items():
        out += _interleaved_table(network, ei)
    if E2E in groups:
        out += _timing_table(E2E, groups[E2E]) + _memory_table(groups[E2E])
    if PEAKS in groups:
        out += _roofline_tables(groups[PEAKS], groups.get(KERNELS, {}))[0]
        out += _in_network_table(groups)
        out += _large_kernels_table(groups[PEAKS], groups.get(LARGE_KERNELS, {}))
    for g in sorted(groups):
        if g not in (E2E, PEAKS, KERNELS, LARGE_KERNELS, IN_NETWORK) and not g.startswith(INTERLEAVED):
            out += _timing_table(g, groups[g])
    out += gpu_section()
    return "\n".join(out)


def plot(data: dict[str, Any], path: str) -> None:
    """Panels: median ms per frame of each network's peers (interleaved runs; the reference network group where
    those are absent), and each hot kernel's fraction of the roofline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = _groups(data)
    panels: list[tuple[str, list[str], list[float], list[float]]] = []
    for network, ei in _interleaved(groups).items():
        peers = ei.get("peers", {})
        names = list(peers)
        panels.append((f"{network}, batch 1 (interleaved)", names, [peers[n]["median_ms"] for n in names],
                       [peers[n]["min_ms"] for n in names]))
    if not panels and E2E in groups:
        e2e = groups[E2E]
        names = list(e2e)
        panels.append(("reference network, batch 1", names, [_ms(e2e[n], "median") for n in names],
                       [_ms(e2e[n], "min") for n in names]))
    _, fractions = _roofline_tables(groups.get(PEAKS, {}), groups.get(KERNELS, {})) if PEAKS in groups else ([], [])
    fig, axes = plt.subplots(1, len(panels) + 1, figsize=(6.5 * (len(panels) + 1), 4.8), squeeze=False)
    for a, (title, names, med, mn) in zip(axes[0], panels):
        a.barh(names, med, color=["tab:orange" if "wayvert" in n else "tab:blue" for n in names])
        a.barh(names, mn, color="none", edgecolor="black", linewidth=0.8)
        a.invert_yaxis()
        a.set_xscale("log")
        a.set_xlabel("ms per frame, log scale (bar: median, outline: min)")
        a.set_title(title)
    k = axes[0][-1]
    if fractions:
        k.barh([n for n, _ in fractions], [f for _, f in fractions], color="tab:green")
        k.axvline(1.0, color="black", linewidth=0.8)
        k.invert_yaxis()
        k.set_xlabel("fraction of this machine's roofline (1 = at the roofline)")
        k.set_title("hot kernels of the reference network")
        k.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("json", nargs="+", help="file(s) written by pytest --benchmark-json (several: best of them)")
    ap.add_argument("--plot", metavar="PNG", help="also draw the reference network and roofline panels to PNG")
    args = ap.parse_args(argv)
    runs = []
    for path in args.json:
        with open(path, encoding="utf-8") as f:
            runs.append(json.load(f))
    data = merge(runs) if len(runs) > 1 else runs[0]
    text = render(data)
    if args.plot:
        plot(data, args.plot)
        text += f"\n![peers per network and kernel rooflines]({args.plot.split('/')[-1]})\n"
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
