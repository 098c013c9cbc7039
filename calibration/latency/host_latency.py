"""Latency of an engine on this host, measured with the C++ runtime (``time.perf_counter`` around ``Session.run``)."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

import wayvert
from wayvert.build import EngineBuilder
from wayvert.errors import InvalidArgumentError


@dataclass(frozen=True)
class HostLatency:
    """Percentiles (ms) of ``runs`` timed runs per thread; ``samples_ms`` keeps every run, in order."""

    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    runs: int
    threads: int
    cpu_isa: str
    samples_ms: tuple[float, ...]

    def summary(self) -> dict[str, Any]:
        """The percentiles without the samples (for meta and reports)."""
        return {k: getattr(self, k) for k in ("p50_ms", "p90_ms", "p99_ms", "mean_ms", "max_ms", "runs", "threads", "cpu_isa")}


def _engine(engine: Any) -> wayvert.Engine:
    if isinstance(engine, wayvert.Engine):
        return engine
    if isinstance(engine, EngineBuilder):
        return wayvert.Engine.from_bytes(engine.to_bytes())
    if isinstance(engine, (str, os.PathLike)):
        return wayvert.Engine.load(engine)
    raise InvalidArgumentError(f"expected a .wvrt path, a wayvert.Engine or an EngineBuilder, got {type(engine).__name__}")


def measure_host_latency(engine_path: Any, inputs: Mapping[str, Any] | None = None, runs: int = 200, threads: int = 1,
                         warmup: int = 5) -> HostLatency:
    """Run the engine ``runs`` times per thread and return latency percentiles in milliseconds.

    ``engine_path``: a ``.wvrt`` path (or a ``wayvert.Engine`` / ``EngineBuilder``). ``inputs``: ``{name: array}``
    (zeros of each input's spec if None). ``threads`` sessions run concurrently, one per thread (the runtime releases
    the GIL in ``run``), each timed on its own: the percentiles are over all ``runs x threads`` samples.
    """
    if runs < 1 or threads < 1 or warmup < 0:
        raise InvalidArgumentError(f"runs and threads must be >= 1 and warmup >= 0, got {runs}, {threads}, {warmup}")
    engine = _engine(engine_path)
    feed = dict(inputs) if inputs is not None else {s.name: np.zeros(s.shape, dtype=s.dtype) for s in engine.inputs}
    sessions = [engine.session() for _ in range(threads)]
    for s in sessions:
        for _ in range(warmup):
            s.run(feed)  # bad inputs raise InputError here, before any thread starts
    samples = np.zeros((threads, runs))
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def body(i: int) -> None:
        s, row = sessions[i], samples[i]
        barrier.wait()
        try:
            for r in range(runs):
                t0 = time.perf_counter()
                s.run(feed)
                row[r] = time.perf_counter() - t0
        except BaseException as e:  # re-raised on the calling thread below
            errors.append(e)

    if threads == 1:
        body(0)
    else:
        pool = [threading.Thread(target=body, args=(i,)) for i in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    if errors:
        raise errors[0]
    ms = samples.reshape(-1) * 1e3
    p50, p90, p99 = (float(v) for v in np.percentile(ms, [50, 90, 99]))
    return HostLatency(p50, p90, p99, float(ms.mean()), float(ms.max()), runs, threads, wayvert.cpu_isa(),
                       tuple(float(v) for v in ms))
