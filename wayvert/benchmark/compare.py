"""The engine and its peers timed on the same inputs in one process, and their resident memory.

Rows: ``wayvert int8`` (the engine: one session with N intra-op threads, the latency of one frame; at N > 1 also
a throughput row, N single-thread sessions at once on N threads, latency per call while the others run and
frames/s of all together), and with ``compare``: ``torch fp32`` (eager), ``onnxruntime fp32`` and ``onnxruntime int8`` (static
QDQ) of the engine's float twin (``wayvert.graph.dequantized``), at N intra-op threads. Each row also carries its
outputs' agreement with the float twin (SQNR in dB of the first output, over all the feeds), so a peer that
computes something else cannot report a time.
"""
from __future__ import annotations

import os
import pickle
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from wayvert.engine import Engine
from wayvert.errors import InvalidArgumentError

from .inputs import EngineFeeds, engine_feeds
from .timing import Timing, concurrent_loop, time_loop

PEERS = ("torch", "onnxruntime")


@dataclass
class BenchRow:
    runtime: str
    precision: str
    threads: int
    timing: Timing
    throughput_fps: float
    sqnr_db: float | None = None  # first output vs the float twin (inf where identical)
    memory: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    energy: dict[str, Any] = field(default_factory=dict)  # measured (wayvert.benchmark.energy), CUDA rows only

    def as_dict(self) -> dict[str, Any]:
        t = self.timing
        return {"runtime": self.runtime, "precision": self.precision, "threads": self.threads, "p50_ms": t.p50,
                "p90_ms": t.p90, "p99_ms": t.p99, "mean_ms": t.mean, "min_ms": t.min, "calls": len(t.samples),
                "throughput_fps": self.throughput_fps, "memory": self.memory,
                # strict JSON: an exact match (infinite SQNR) is written as the string "inf"
                "sqnr_db_vs_fp32": "inf" if self.sqnr_db == float("inf") else self.sqnr_db,
                "note": self.note, "energy": self.energy}


def _sqnr(reference: Sequence[np.ndarray], test: Sequence[np.ndarray]) -> float:
    ref = np.concatenate([np.asarray(r, np.float64).ravel() for r in reference])
    err = ref - np.concatenate([np.asarray(t, np.float64).ravel() for t in test])
    noise = float((err ** 2).sum())
    return float("inf") if noise == 0 else float(10 * np.log10(float((ref ** 2).sum()) / noise))


def _peer_runners(path: str, compare: Sequence[str], threads: int, feeds: EngineFeeds, workdir: str) -> list[tuple[str, str, Callable[[Any], Any], str]]:
    """(runtime, precision, run(float feeds) -> {output: array} (one inference per call), model file for the memory
    probe)."""
    from wayvert.graph.dequantized import float_network

    net = float_network(path)
    out: list[tuple[str, str, Callable[[Any], Any], str]] = []
    if "torch" in compare:
        from .torch_peer import load_torch_peer

        TorchRunner = load_torch_peer().TorchRunner
        pkl = os.path.join(workdir, "twin.pkl")
        with open(pkl, "wb") as f:
            pickle.dump(net, f)
        tr = TorchRunner(net, threads)
        out.append(("torch", "fp32", tr.run, pkl))
    if "onnxruntime" in compare:
        try:
            import onnx

            from wayvert.benchmark.peers.onnx_model import OrtSession, onnx_model
            from wayvert.benchmark.peers.ort_int8 import quantize_qdq
        except ImportError as e:
            raise InvalidArgumentError(f"--compare onnxruntime needs onnx and onnxruntime (pip install 'wayvert[bench]'): {e}") from e
        model = onnx_model(net)
        fp32 = os.path.join(workdir, "twin_fp32.onnx")
        onnx.save(model, fp32)
        int8 = quantize_qdq(model, feeds.float, os.path.join(workdir, "twin_int8_qdq.onnx"))
        for precision, file in (("fp32", fp32), ("int8 QDQ", int8)):
            out.append(("onnxruntime", precision, OrtSession(file, threads).run, file))
    return out


def bench_engine(path: str | os.PathLike[str], compare: Sequence[str] = (), threads: Sequence[int] = (1,),
                 iterations: int = 200, feeds_count: int = 8, memory: bool = True, seed: int = 0,
                 device: str = "cpu") -> list[BenchRow]:
    """Time the engine at ``path`` (and the peers in ``compare``) at each thread count, each row on the same
    ``feeds_count`` inputs (``engine_feeds``); resident memory of each runtime at the lowest thread count.
    ``device="cuda"`` (or ``"cuda:N"``): the engine's CUDA session and the GPU peers instead (``bench_cuda``)."""
    unknown = sorted(set(compare) - set(PEERS))
    if unknown:
        raise InvalidArgumentError(f"unknown peer(s) {unknown}; choose from {list(PEERS)}")
    if iterations < 1 or feeds_count < 1 or not threads or min(threads) < 1:
        raise InvalidArgumentError("iterations, feeds and every thread count must be >= 1")
    path = os.fspath(path)
    if device != "cpu":
        from .cuda_bench import bench_cuda

        return bench_cuda(path, compare, iterations, feeds_count, seed, device)
    engine = Engine.load(path)
    feeds = engine_feeds(engine, feeds_count, seed)
    from wayvert.graph.dequantized import float_network

    net = float_network(path) if compare else None
    reference = [net.run(f)[net.outputs[0]] for f in feeds.float] if net is not None else None
    first = engine.outputs[0].name
    rows: list[BenchRow] = []
    with tempfile.TemporaryDirectory() as workdir:
        for n in threads:
            session = engine.session(threads=n)
            timing = time_loop(session.run, feeds.engine, iterations)
            sq = _sqnr(reference, [session.run(f)[first] for f in feeds.engine]) if reference is not None else None
            rows.append(BenchRow("wayvert", "int8", n, timing, 1e3 / timing.mean, sq,
                                 note=f"{n} intra-op thread{'s' if n > 1 else ''}"))
            if n > 1:
                sessions = [engine.session() for _ in range(n)]
                timing, fps = concurrent_loop([s.run for s in sessions], feeds.engine, iterations)
                rows.append(BenchRow("wayvert", "int8", n, timing, fps, sq,
                                     note=f"{n} sessions at once, one thread each (throughput)"))
            for runtime, precision, run, model in _peer_runners(path, compare, n, feeds, workdir):
                timing = time_loop(run, feeds.float, iterations)
                assert reference is not None
                sq = _sqnr(reference, [run(f)[first] for f in feeds.float])
                rows.append(BenchRow(runtime, precision, n, timing, 1e3 / timing.mean, sq,
                                     note=f"{n} intra-op thread{'s' if n > 1 else ''}", memory={"model_file": model}))
        if memory:
            _measure_memory(path, engine, rows)
    for r in rows:
        r.memory.pop("model_file", None)
    return rows


def _measure_memory(path: str, engine: Engine, rows: list[BenchRow]) -> None:
    from .memory import measure

    for r in rows:
        if r.threads != min(x.threads for x in rows):
            continue
        if r.runtime == "wayvert":  # one engine, one session (each further session adds one arena)
            m = measure("wayvert", path)
            m.update(arena_bytes=engine.arena_bytes, sessions=1)
        else:
            m = measure(r.runtime, r.memory["model_file"], threads=r.threads)
        r.memory.update(m)


def format_table(rows: Sequence[BenchRow]) -> str:
    """Markdown: latency, throughput, wayvert's p50 over the row's at the same threads (below 1: wayvert is faster),
    agreement with the float twin, resident memory."""
    base: dict[int, BenchRow] = {}
    for r in rows:  # the intra-op row of each thread count (it comes first)
        if r.runtime == "wayvert":
            base.setdefault(r.threads, r)
    energy = any(r.energy for r in rows)
    head = "| runtime | precision | threads | p50 ms | p90 ms | p99 ms | frames/s | wayvert / peer (p50) | SQNR vs fp32 dB | resident MiB |"
    rule = "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    if energy:
        head, rule = head + " J/frame | W |", rule + "---:|---:|"
    lines = [head + " note |", rule + "---|"]
    for r in rows:
        t, w = r.timing, base.get(r.threads)
        ratio = f"{w.timing.p50 / t.p50:.2f}" if w is not None else ""
        sq = "" if r.sqnr_db is None else ("exact" if r.sqnr_db == float("inf") else f"{r.sqnr_db:.1f}")
        mem = f"{r.memory['resident_kib'] / 1024:.1f}" if "resident_kib" in r.memory else ""
        e = ""
        if energy:
            e = (f" {r.energy['joules_per_frame']:.4f} | {r.energy['average_w']:.1f} |" if "joules_per_frame" in r.energy
                 else " | |")
        lines.append(f"| {r.runtime} | {r.precision} | {r.threads} | {t.p50:.3f} | {t.p90:.3f} | {t.p99:.3f} | "
                     f"{r.throughput_fps:.0f} | {ratio} | {sq} | {mem} |{e} {r.note} |")
    return "\n".join(lines)
