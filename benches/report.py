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
from typing import Any

PEAKS = "machine peaks (1 thread)"
KERNELS = "reference network kernels (1 thread)"
E2E = "reference network"


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
                merged[key] = {**b, "stats": dict(b["stats"])}
                continue
            for stat in ("median", "min"):
                merged[key]["stats"][stat] = min(float(merged[key]["stats"][stat]), float(b["stats"][stat]))
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
    if E2E in groups:
        out += _timing_table(E2E, groups[E2E]) + _memory_table(groups[E2E])
    if PEAKS in groups:
        out += _roofline_tables(groups[PEAKS], groups.get(KERNELS, {}))[0]
    for g in sorted(groups):
        if g not in (E2E, PEAKS, KERNELS):
            out += _timing_table(g, groups[g])
    return "\n".join(out)


def plot(data: dict[str, Any], path: str) -> None:
    """Two panels: the reference network's median ms/frame per peer; each hot kernel's fraction of the roofline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = _groups(data)
    fig, (a, k) = plt.subplots(1, 2, figsize=(13, 4.8))
    e2e = groups.get(E2E, {})
    names = list(e2e)
    a.barh(names, [_ms(e2e[n], "median") for n in names], color=["tab:orange" if "wayvert" in n else "tab:blue" for n in names])
    a.barh(names, [_ms(e2e[n], "min") for n in names], color="none", edgecolor="black", linewidth=0.8)
    a.invert_yaxis()
    a.set_xlabel("ms per frame (bar: median, outline: min)")
    a.set_title("reference network, batch 1")
    _, fractions = _roofline_tables(groups.get(PEAKS, {}), groups.get(KERNELS, {})) if PEAKS in groups else ([], [])
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
        text += f"\n![reference network and kernel rooflines]({args.plot.split('/')[-1]})\n"
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
