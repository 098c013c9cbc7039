"""Measured peaks of this host through the wayvert runtime: int8 and fp32 GEMM, copy bandwidth, per-op dispatch.

The host profile's compute figures are these measurements, not typed numbers (docs/profiles.md): the int8 and fp32
peaks time one large ``linear`` engine built with ``wayvert.build`` and run by ``wayvert.Engine``, so they are what
this runtime's kernels reach on this CPU, not a datasheet's.
"""
from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

import numpy as np

import wayvert
from wayvert.build import EngineBuilder, ops


@dataclass(frozen=True)
class HostPeaks:
    """What one measurement found: peaks over ``threads`` concurrent sessions (each session runs on one thread)."""

    int8_tops: float  # 1e12 int8 ops/s (2 per multiply-accumulate), int32 accumulation
    fp32_tflops: float
    memory_bandwidth_gbs: float  # numpy copy: (bytes read + bytes written) / s
    launch_overhead_us: float  # per-op cost of the runtime's plan dispatch (tiny int8 adds)
    threads: int
    cpu_isa: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _gemm_engine(dtype: str, m: int, k: int, n: int, seed: int = 0) -> wayvert.Engine:
    rng = np.random.default_rng(seed)
    b = EngineBuilder(f"host_peak_{dtype}", "1")
    if dtype == "int8":
        x = b.input("x", "int8", (m, k), scale=1 / 64, zero_point=0)
        w = rng.integers(-127, 128, size=(n, k), dtype=np.int8)
        y = ops.linear(b, x, w, None, weight_scales=np.full(n, 1e-3), out_scale=1.0, out_zero_point=0)
    else:
        x = b.input("x", "float32", (m, k))
        y = ops.linear(b, x, rng.normal(size=(n, k)).astype(np.float32), None)
    b.output(y)
    return wayvert.Engine.from_bytes(b.to_bytes())


def _dispatch_engine(n_ops: int) -> wayvert.Engine:
    """``n_ops`` int8 adds of a 16-element tensor: almost nothing to compute, so the run time is per-op overhead.

    (Adds, not reshapes: the plan may turn a reshape into an alias of its input, which would time nothing.)
    """
    b = EngineBuilder("host_dispatch", "1")
    h = b.input("x", "int8", (1, 16), scale=1.0, zero_point=0)
    for i in range(n_ops):
        h = ops.add(b, h, h, out_scale=1.0, name=f"a{i}")
    b.output(h)
    return wayvert.Engine.from_bytes(b.to_bytes())


def _concurrent_seconds(work: Callable[[int], None], threads: int) -> float:
    """Wall time of ``work(i)`` run at once in ``threads`` threads (the runtime releases the GIL while running)."""
    if threads == 1:
        t0 = time.perf_counter()
        work(0)
        return time.perf_counter() - t0
    barrier = threading.Barrier(threads + 1)

    def body(i: int) -> None:
        barrier.wait()
        work(i)

    pool = [threading.Thread(target=body, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    return time.perf_counter() - t0


def _gemm_ops_per_s(dtype: str, m: int, k: int, n: int, threads: int, repeats: int, runs: int) -> float:
    engine = _gemm_engine(dtype, m, k, n)
    rng = np.random.default_rng(1)
    x = rng.integers(-64, 64, size=(m, k), dtype=np.int8) if dtype == "int8" else rng.normal(size=(m, k)).astype(np.float32)
    sessions = [engine.session() for _ in range(threads)]
    for s in sessions:
        s.run({"x": x})  # first run: arena and packed weights warm

    def work(i: int) -> None:
        for _ in range(runs):
            sessions[i].run({"x": x})

    best = min(_concurrent_seconds(work, threads) for _ in range(repeats))
    return 2.0 * m * k * n * runs * threads / best


def _copy_bytes_per_s(mib: int, threads: int, repeats: int) -> float:
    n = mib * (1 << 20) // 8
    src = [np.ones(n) for _ in range(threads)]
    dst = [np.empty(n) for _ in range(threads)]
    for i in range(threads):
        np.copyto(dst[i], src[i])  # fault the pages in

    def work(i: int) -> None:
        np.copyto(dst[i], src[i])

    best = min(_concurrent_seconds(work, threads) for _ in range(repeats))
    return 2.0 * src[0].nbytes * threads / best


def _dispatch_seconds_per_op(n_ops: int, runs: int, repeats: int) -> float:
    x = np.zeros((1, 16), dtype=np.int8)

    def per_run(engine: wayvert.Engine) -> float:
        s = engine.session()
        s.run({"x": x})
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(runs):
                s.run({"x": x})
            times.append((time.perf_counter() - t0) / runs)
        return float(np.min(times))

    one, many = per_run(_dispatch_engine(1)), per_run(_dispatch_engine(1 + n_ops))
    return max(0.0, (many - one) / n_ops)


def measure_host_peaks(threads: int = 1, m: int = 256, k: int = 1024, n: int = 1024, repeats: int = 3,
                       runs: int = 4, copy_mib: int = 64, dispatch_ops: int = 200) -> HostPeaks:
    """Time this host: int8 and fp32 ``linear`` [m, k] x [k, n] engines, a numpy copy, and per-op dispatch.

    ``threads`` sessions (one thread each) run concurrently; the peaks are their sum. Each figure is the best of
    ``repeats`` rounds, so a briefly busy machine reads closer to its true peak. Takes about a second at the defaults.
    """
    if threads < 1 or min(m, k, n, repeats, runs, copy_mib, dispatch_ops) < 1:
        raise wayvert.InvalidArgumentError("measure_host_peaks: threads, sizes, repeats and runs must be >= 1")
    int8 = _gemm_ops_per_s("int8", m, k, n, threads, repeats, runs)
    fp32 = _gemm_ops_per_s("float32", m, k, n, threads, repeats, runs)
    bandwidth = _copy_bytes_per_s(copy_mib, threads, repeats)
    dispatch = _dispatch_seconds_per_op(dispatch_ops, runs=200, repeats=repeats)
    return HostPeaks(int8_tops=int8 / 1e12, fp32_tflops=fp32 / 1e12, memory_bandwidth_gbs=bandwidth / 1e9,
                     launch_overhead_us=dispatch * 1e6, threads=threads, cpu_isa=wayvert.cpu_isa())
