"""Where a CUDA session's time goes, for a lent GPU (docs/cuda.md): the host's part of each call (checks and copies
into pinned staging, the Python binding, fetching the outputs) against the graph launch and the wait.

    python3 benches/gpu/session_phases.py ENGINE.wvrt [--iterations N] [--ncu]

Prints the median microseconds of each phase over N calls: ``set_input`` (every input), ``run`` (launch the plan's
CUDA Graph and wait for it), ``outputs`` (copy every output to numpy), and the whole ``Session.run``. With
``--ncu`` it runs 3 calls only, for ``ncu --graph-profiling node``, which then times every kernel node of the graph.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import wayvert
from wayvert.benchmark.inputs import engine_feeds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("engine")
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--ncu", action="store_true")
    args = ap.parse_args()
    engine = wayvert.Engine.load(args.engine)
    feeds = engine_feeds(engine, 4, 0).engine
    session = engine.session(device="cuda")
    if args.ncu:
        for f in feeds[:3]:
            session.run(f)
        return
    h = session._handle
    index = {s.name: i for i, s in enumerate(engine.inputs)}
    n_out = len(engine.outputs)
    arrays = [{k: np.ascontiguousarray(v) for k, v in f.items()} for f in feeds]
    phases: dict[str, list[float]] = {"set_input": [], "run": [], "outputs": [], "Session.run": []}
    for k in range(args.iterations):
        f = arrays[k % len(arrays)]
        t0 = time.perf_counter()
        for name, a in f.items():
            h.set_input(index[name], a)
        t1 = time.perf_counter()
        h.run()
        t2 = time.perf_counter()
        for i in range(n_out):
            h.output(i)
        t3 = time.perf_counter()
        session.run(f)
        t4 = time.perf_counter()
        for key, dt in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            phases[key].append(dt * 1e6)
    sizes = {s.name: int(np.prod(s.shape)) * np.dtype(s.dtype).itemsize for s in engine.inputs}
    print(f"{args.engine}: inputs {sizes} bytes, {n_out} outputs, {len(engine.op_types)} ops")
    for key, xs in phases.items():
        print(f"  {key:12s} median {statistics.median(xs):8.1f} us   min {min(xs):8.1f} us")


if __name__ == "__main__":
    main()
