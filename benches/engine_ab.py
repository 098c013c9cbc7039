"""Two engines in one process, interleaved (benches/interleaved.py): the cost of a change to the network, as a ratio.

    python benches/engine_ab.py OLD.wvrt NEW.wvrt [--threads 1] [--rounds 40]

Each session gets the inputs ``wayvert bench`` uses (wayvert.benchmark.inputs.engine_feeds: frames of the synthetic
world through the engine's canonical rig), cycled. Prints each engine's median and minimum per call and the ratio
NEW / OLD (used for the scenario branch, benches/NOTES.md).
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from interleaved import TimedPeer, calls_per_block, interleave  # noqa: E402

import wayvert  # noqa: E402
from wayvert.benchmark.inputs import engine_feeds  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=40)
    args = ap.parse_args()
    peers = []
    for name, path in (("old", args.old), ("new", args.new)):
        engine = wayvert.Engine.load(path)
        session = engine.session(threads=args.threads)
        feeds = itertools.cycle(engine_feeds(engine).engine)
        peers.append(TimedPeer(name, lambda s=session, f=feeds: s.run(next(f)), args.threads, "int8", {"path": path}))
    calls = {p.name: calls_per_block(p) for p in peers}
    times = interleave(peers, args.rounds, calls)
    rows = {name: t.summary() for name, t in times.items()}
    for name, r in rows.items():
        print(f"{name}: {peers[0 if name == 'old' else 1].info['path']}  median {r['median_ms']:.3f} ms  "
              f"min {r['min_ms']:.3f} ms  cpu/wall {r['cpu_per_wall']:.2f}  n {r['n']}")
    print(f"new / old: median {rows['new']['median_ms'] / rows['old']['median_ms']:.2f}x, "
          f"min {rows['new']['min_ms'] / rows['old']['min_ms']:.2f}x ({args.threads} thread(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
