"""Resident memory of a runtime holding one model, each measured in a fresh Python process.

``python -m wayvert.benchmark.memory RUNTIME MODEL [--threads N]`` imports the runtime, reads ``VmRSS`` from
``/proc/self/status`` (the baseline: interpreter and libraries), loads the model, runs it ``--runs`` times on
zeros, and prints JSON: ``loaded_kib`` and ``resident_kib`` (RSS minus the baseline after loading and after the
runs) and ``peak_kib`` (``VmHWM`` minus the baseline). RUNTIME is ``wayvert`` (MODEL a ``.wvrt``),
``onnxruntime`` (an ``.onnx``) or ``torch`` (a pickled ``FloatNet``, the engine's float twin). Linux only.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from typing import Any, Callable

import numpy as np


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/self/status")


def _loader(runtime: str, model: str, threads: int) -> Callable[[], Callable[[], Any]]:
    """Import the runtime now (part of the baseline); the returned function loads the model and returns a run()."""
    if runtime == "wayvert":
        import wayvert

        def load_wayvert() -> Callable[[], Any]:
            engine = wayvert.Engine.load(model)
            session = engine.session(threads=threads)
            feeds = {s.name: np.zeros(s.shape, np.dtype(s.dtype)) for s in engine.inputs}
            return lambda: session.run(feeds)
        return load_wayvert
    if runtime == "onnxruntime":
        import onnxruntime  # noqa: F401  (imported now: part of the baseline)

        from wayvert.benchmark.peers.onnx_model import cpu_inference_session

        def load_ort() -> Callable[[], Any]:
            session = cpu_inference_session(model, threads)
            feeds = {i.name: np.zeros(i.shape, np.float32) for i in session.get_inputs()}
            return lambda: session.run(None, feeds)
        return load_ort
    if runtime == "torch":  # PyTorch is imported by the toolchain's peer module (the train extra), never by the runtime
        from .torch_peer import load_torch_peer

        loader: Callable[[], Callable[[], Any]] = load_torch_peer().pickled_twin_loader(model, threads)
        return loader
    raise SystemExit(f"unknown runtime {runtime!r}")


def probe(runtime: str, model: str, threads: int = 1, runs: int = 20) -> dict[str, Any]:
    """Measure in this process (call it in a fresh one: see ``measure``)."""
    load = _loader(runtime, model, threads)
    base = _status_kib("VmRSS")
    run = load()
    loaded = _status_kib("VmRSS") - base
    for _ in range(runs):
        run()
    return {"runtime": runtime, "threads": threads, "baseline_kib": base, "loaded_kib": loaded,
            "resident_kib": _status_kib("VmRSS") - base, "peak_kib": _status_kib("VmHWM") - base}


def measure(runtime: str, model: str | os.PathLike[str], threads: int = 1, timeout_s: float = 300.0) -> dict[str, Any]:
    """``probe`` in a fresh interpreter (so one runtime's allocations cannot count against another's)."""
    from wayvert.errors import InternalError

    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    command = [sys.executable, "-m", "wayvert.benchmark.memory", runtime, os.path.abspath(model), "--threads", str(threads)]
    try:  # cwd: not a source checkout, whose wayvert/ would shadow the installed package
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, env=env, cwd=tempfile.gettempdir())
    except subprocess.TimeoutExpired as e:
        raise InternalError(f"memory probe of {runtime} did not finish in {timeout_s:.0f} s") from e
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise InternalError(f"memory probe of {runtime} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except json.JSONDecodeError as e:
        raise InternalError(f"memory probe of {runtime} printed no JSON: {lines[-1][:200]!r}") from e
    result["file_bytes"] = os.path.getsize(model)
    return result


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m wayvert.benchmark.memory", description=__doc__.split("\n\n")[1])
    p.add_argument("runtime", choices=["wayvert", "onnxruntime", "torch"])
    p.add_argument("model")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=20)
    a = p.parse_args()
    print(json.dumps(probe(a.runtime, a.model, a.threads, a.runs)))


if __name__ == "__main__":
    main()
