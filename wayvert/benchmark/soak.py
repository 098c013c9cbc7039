"""Soak: one session runs an engine many times; resident memory must stay flat and the outputs unchanged.

``python -m wayvert.benchmark.soak [ENGINE] --runs N`` (``make soak``: the reference engine, 1,000,000 runs) feeds
the same seeded inputs every run (those of ``wayvert bench``), records the outputs of the first run, samples
``VmRSS`` (``/proc/self/status``) every ``--sample-every`` runs after ``--warmup`` runs, and at the end compares the
last run's outputs with the first's bit for bit. It prints one JSON object and exits 1 when resident memory grew by
more than ``--max-growth-kib`` (default 1024) after warm-up or an output changed. Linux only (``/proc``).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wayvert.engine import Engine

from .inputs import engine_feeds

DEFAULT_ENGINE = Path(__file__).resolve().parents[1] / "data" / "reference.wvrt"


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("VmRSS not in /proc/self/status")


@dataclass
class SoakResult:
    engine: str
    runs: int
    warmup: int
    seconds: float
    rss_after_warmup_kib: int
    rss_end_kib: int
    rss_min_kib: int
    rss_max_kib: int
    growth_kib: int          # largest sample minus the sample after warm-up
    identical: bool          # the last run's outputs equal the first's, bit for bit
    max_growth_kib: int

    @property
    def passed(self) -> bool:
        return self.identical and self.growth_kib <= self.max_growth_kib


def soak(engine_path: str | Path, runs: int, *, warmup: int = 1000, sample_every: int = 1000,
         max_growth_kib: int = 1024, threads: int = 1) -> SoakResult:
    """Run ``engine_path`` ``runs`` times (after ``warmup`` runs) in one session and measure as described above."""
    engine = Engine.load(engine_path)
    session = engine.session(threads=threads)
    feed = engine_feeds(engine, 1).engine[0]
    first = {k: np.array(v, copy=True) for k, v in session.run(feed).items()}
    for _ in range(warmup):
        session.run(feed)
    base = _rss_kib()
    samples = [base]
    t0 = time.perf_counter()
    last: dict[str, Any] = {}
    for i in range(1, runs + 1):
        last = session.run(feed)
        if i % sample_every == 0:
            samples.append(_rss_kib())
    seconds = time.perf_counter() - t0
    samples.append(_rss_kib())
    identical = bool(last) and all(np.array_equal(first[k], last[k]) for k in first) if runs else True
    return SoakResult(str(engine_path), runs, warmup, round(seconds, 2), base, samples[-1], min(samples), max(samples),
                      max(samples) - base, identical, max_growth_kib)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m wayvert.benchmark.soak", description=__doc__.split("\n\n")[0])
    p.add_argument("engine", nargs="?", default=str(DEFAULT_ENGINE), help="engine (default: the reference engine)")
    p.add_argument("--runs", type=int, default=1_000_000)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--sample-every", type=int, default=1000)
    p.add_argument("--max-growth-kib", type=int, default=1024)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    r = soak(a.engine, a.runs, warmup=a.warmup, sample_every=a.sample_every, max_growth_kib=a.max_growth_kib,
             threads=a.threads)
    print(json.dumps(asdict(r) | {"passed": r.passed}))
    return 0 if r.passed else 1


if __name__ == "__main__":
    sys.exit(main())
