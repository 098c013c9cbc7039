"""Two engines in one process, interleaved (benches/interleaved.py): the cost of a change to the network, as a ratio.

    python benches/engine_ab.py OLD.wvrt NEW.wvrt [--threads 1] [--rounds 40]

Both sessions get the same inputs: random int8 images of the engine's image shape, ego and command. Prints each
engine's median and minimum per call and the ratio NEW / OLD (used for the scenario branch, benches/NOTES.md).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from interleaved import TimedPeer, calls_per_block, interleave  # noqa: E402

import wayvert  # noqa: E402


def feeds_for(engine: wayvert.Engine, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for spec in engine.inputs:
        if spec.dtype == "int8":
            out[spec.name] = rng.integers(-128, 128, size=tuple(spec.shape), dtype=np.int8)
        else:
            out[spec.name] = rng.standard_normal(tuple(spec.shape)).astype(np.float32)
    return out


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
        feeds = feeds_for(engine)
        peers.append(TimedPeer(name, lambda s=session, f=feeds: s.run(f), args.threads, "int8", {"path": path}))
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
