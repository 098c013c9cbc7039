"""A timed loop: warm-up, then ``iterations`` calls, each timed with ``perf_counter_ns``; percentiles of those."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np


@dataclass(frozen=True)
class Timing:
    """Milliseconds per call: ``samples`` in call order, and their summary."""

    samples: tuple[float, ...]

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.samples, q))

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p90(self) -> float:
        return self.percentile(90)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    @property
    def mean(self) -> float:
        return float(np.mean(self.samples))

    @property
    def min(self) -> float:
        return float(np.min(self.samples))


def time_loop(call: Callable[[Any], Any], feeds: Sequence[Any], iterations: int, warmup: int = 5) -> Timing:
    """Time ``call(feeds[i % len(feeds)])`` ``iterations`` times after ``warmup`` untimed calls."""
    for i in range(warmup):
        call(feeds[i % len(feeds)])
    out = []
    for i in range(iterations):
        f = feeds[i % len(feeds)]
        t0 = time.perf_counter_ns()
        call(f)
        out.append((time.perf_counter_ns() - t0) / 1e6)
    return Timing(tuple(out))


def concurrent_loop(calls: Sequence[Callable[[Any], Any]], feeds: Sequence[Any], iterations: int,
                    warmup: int = 5) -> tuple[Timing, float]:
    """Per-call latency and total frames/s of ``len(calls)`` threads running at once, each its own call
    ``iterations`` times after ``warmup`` untimed calls (the wayvert bindings release the GIL while a session runs,
    so sessions run in parallel). An exception in any thread is re-raised here, after every thread has stopped."""
    samples: list[list[float]] = [[] for _ in calls]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(calls) + 1)

    def work(k: int) -> None:
        try:
            for i in range(warmup):
                calls[k](feeds[i % len(feeds)])
            barrier.wait()
            for i in range(iterations):
                t0 = time.perf_counter_ns()
                calls[k](feeds[i % len(feeds)])
                samples[k].append((time.perf_counter_ns() - t0) / 1e6)
        except threading.BrokenBarrierError:
            pass
        except BaseException as e:  # noqa: BLE001 - handed to the caller below
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(calls))]
    for t in threads:
        t.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    done = [s for per in samples for s in per]
    return Timing(tuple(done)), len(done) / elapsed
