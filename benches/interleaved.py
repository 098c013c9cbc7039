"""Peers timed in one process, interleaved: round 1 runs peer A, B, C, ..., round 2 again (in another order, shuffled
with a fixed seed so no peer always follows the same one), and so on, so a burst of load from the other users of a shared machine lands on every peer alike instead of on
whichever one pytest-benchmark happened to be timing.

Each round gives every peer one *block*: one untimed call (its threads wake, its caches refill after the previous
peer) and then ``calls`` timed calls, each timed with ``perf_counter_ns``. Around the block the process's CPU time
(``time.process_time``: every thread of the process) is read, so ``cpu_per_wall`` says how many cores the peer kept
busy: about 1 for a single-threaded peer, up to the thread count otherwise. Between blocks the harness sleeps
``SETTLE_S``, long enough for the previous peer's spinning workers to stop competing with the next one: ONNX
Runtime's intra-op workers spin on a core for 10-50 ms after a 2-thread run (measured here: 0.95 / 0.59 / 0.0 cores
busy in the 50 ms after gaps of 0 / 10 / 50 ms), PyTorch's OpenMP workers for a few ms; wayvert's pool sleeps at
once.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

SETTLE_S = 0.06  # measured here: ONNX Runtime's 2-thread pool keeps one core spinning for 10-50 ms after a run


@dataclass
class TimedPeer:
    """One runtime running the network: ``run()`` does one inference; ``prepare()`` (optional) runs before each of
    its blocks (e.g. ``torch.set_num_threads``)."""

    name: str
    run: Callable[[], Any]
    threads: int
    precision: str
    info: dict[str, Any] = field(default_factory=dict)
    prepare: Callable[[], None] | None = None
    # a peer in another process times its own block: block(n) -> (n samples in ms, CPU s, wall s) of that process
    block: Callable[[int], tuple[list[float], float, float]] | None = None


@dataclass
class PeerTimes:
    samples_ms: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    wall_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        s = np.asarray(self.samples_ms, np.float64)
        return {"median_ms": float(np.median(s)), "min_ms": float(s.min()), "mean_ms": float(s.mean()),
                "p90_ms": float(np.percentile(s, 90)), "p99_ms": float(np.percentile(s, 99)), "n": int(s.size),
                "cpu_per_wall": self.cpu_s / self.wall_s if self.wall_s > 0 else float("nan")}


def interleave(peers: list[TimedPeer], rounds: int, calls: int | dict[str, int]) -> dict[str, PeerTimes]:
    """Time every peer ``rounds`` times, ``calls`` (per peer, or one number) timed calls per block; the peers'
    order is shuffled every round (seeded: the same orders every run)."""
    times = {p.name: PeerTimes() for p in peers}
    rng = random.Random(0)
    for _ in range(rounds):
        order = list(peers)
        rng.shuffle(order)
        for p in order:
            n = calls[p.name] if isinstance(calls, dict) else calls
            if p.prepare is not None:
                p.prepare()
            time.sleep(SETTLE_S)
            t = times[p.name]
            if p.block is not None:
                samples, cpu, wall = p.block(n)
                t.samples_ms += samples
                t.cpu_s += cpu
                t.wall_s += wall
                continue
            p.run()
            c0, w0 = time.process_time(), time.perf_counter()
            for _ in range(n):
                s = time.perf_counter_ns()
                p.run()
                t.samples_ms.append((time.perf_counter_ns() - s) / 1e6)
            t.cpu_s += time.process_time() - c0
            t.wall_s += time.perf_counter() - w0
    return times


def calls_per_block(peer: TimedPeer, target_ms: float = 30.0, most: int = 20) -> int:
    """Timed calls per block so a block lasts about ``target_ms`` (from three calls now), 1 to ``most``."""
    if peer.block is not None:
        samples, _, _ = peer.block(3)
        return int(max(1, min(most, round(target_ms / max(sum(samples) / 3, 1e-3)))))
    if peer.prepare is not None:
        peer.prepare()
    peer.run()
    s = time.perf_counter()
    for _ in range(3):
        peer.run()
    per_call_ms = (time.perf_counter() - s) * 1e3 / 3
    return int(max(1, min(most, round(target_ms / max(per_call_ms, 1e-3)))))
