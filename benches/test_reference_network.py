"""The shipped reference network end to end, batch 1, beside its peers on the same weights and inputs.

Group "reference network": one inference of ``wayvert/data/reference.wvrt`` (3 canonical cameras 128x256 int8,
ego, command -> 6 trajectories and the aux heads) per call:

* ``wayvert_int8_t1``: ``Session.run`` on one thread (the runtime starts no threads of its own);
* ``wayvert_int8_t2``: two sessions of the one engine on two persistent threads, 4 inferences each per call, at
  once (the bindings release the GIL): ``frames_per_call = 8``, so the report's per-frame time is the throughput
  of 2 threads;
* ``torch_fp32_t{1,2}``: PyTorch eager of the engine's float twin (its int8 weights dequantized,
  ``wayvert.graph.dequantized``), ``torch.set_num_threads``;
* ``ort_fp32_t{1,2}`` / ``ort_int8_t{1,2}``: ONNX Runtime CPU of the same twin in fp32, and quantized by ONNX
  Runtime (static QDQ, per-channel s8 weights, u8 activations, reduce_range, min-max on the 8 inputs), intra-op threads.

Inputs: 8 frames of the synthetic world through the canonical rig (``wayvert.benchmark.engine_feeds``), cycled.
``extra_info``: the SQNR of the trajectories against the float twin over the 8 inputs (asserted loosely, so a
broken peer cannot report a time) and, for the ``_t1`` peers, the resident memory of that runtime holding the
model (a fresh process each, ``wayvert.benchmark.memory``). Timings are recorded, never asserted.
"""
from __future__ import annotations

import itertools
import os
import pickle
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import wayvert
from wayvert.benchmark import engine_feeds
from wayvert.graph.dequantized import float_network

GROUP = "reference network"
PEERS = ["wayvert_int8_t1", "wayvert_int8_t2", "torch_fp32_t1", "torch_fp32_t2", "ort_fp32_t1", "ort_fp32_t2",
         "ort_int8_t1", "ort_int8_t2"]
SQNR_FLOOR_DB = {"fp32": 80.0, "int8": 20.0}  # sanity, not targets: fp32 peers run the twin itself


class Case:
    def __init__(self, workdir: Path) -> None:
        self.path = wayvert.reference_engine_path()
        self.engine = wayvert.Engine.load(self.path)
        self.feeds = engine_feeds(self.engine, count=8)
        self.twin = float_network(self.path)
        self.ref = [self.twin.run(f)["trajectories"] for f in self.feeds.float]
        self.workdir = workdir
        self._files: dict[str, str] = {}

    def sqnr(self, outs: list[np.ndarray]) -> float:
        ref = np.concatenate([r.ravel() for r in self.ref]).astype(np.float64)
        err = ref - np.concatenate([np.asarray(o).ravel() for o in outs]).astype(np.float64)
        return float("inf") if not err.any() else float(10 * np.log10((ref ** 2).sum() / (err ** 2).sum()))

    def onnx_file(self, precision: str) -> str:
        if precision not in self._files:
            import onnx

            from wayvert.benchmark.peers.onnx_model import onnx_model
            from wayvert.benchmark.peers.ort_int8 import quantize_qdq

            model = onnx_model(self.twin)
            fp32 = str(self.workdir / "twin_fp32.onnx")
            onnx.save(model, fp32)
            self._files["fp32"] = fp32
            self._files["int8"] = quantize_qdq(model, self.feeds.float, self.workdir / "twin_int8.onnx")
        return self._files[precision]

    def twin_pickle(self) -> str:
        path = str(self.workdir / "twin.pkl")
        if not os.path.exists(path):
            with open(path, "wb") as f:
                pickle.dump(self.twin, f)
        return path


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    return Case(tmp_path_factory.mktemp("reference_network"))


class _SessionPool:
    """``threads`` sessions on persistent threads; ``run()`` makes each do ``per_thread`` inferences at once and
    returns when all are done (two barrier waits per call, amortised over ``threads x per_thread`` frames)."""

    def __init__(self, case: Case, threads: int, per_thread: int) -> None:
        self.sessions = [case.engine.session() for _ in range(threads)]
        self.feeds = case.feeds.engine
        self.per_thread = per_thread
        self.start, self.done = threading.Barrier(threads + 1), threading.Barrier(threads + 1)
        self.stop = False
        self.error: BaseException | None = None
        self.workers = [threading.Thread(target=self._work, args=(k,), daemon=True) for k in range(threads)]
        for w in self.workers:
            w.start()

    def _work(self, k: int) -> None:
        i = k
        try:
            while True:
                self.start.wait()
                if self.stop:
                    return
                for _ in range(self.per_thread):
                    self.sessions[k].run(self.feeds[i % len(self.feeds)])
                    i += 1
                self.done.wait()
        except threading.BrokenBarrierError:
            return
        except BaseException as e:  # noqa: BLE001 - re-raised by run()
            self.error = e
            self.start.abort()
            self.done.abort()

    def run(self) -> None:
        try:
            self.start.wait()
            self.done.wait()
        except threading.BrokenBarrierError:
            raise RuntimeError(f"a session thread failed: {self.error!r}") from self.error

    def close(self) -> None:
        self.stop = True
        if not self.start.broken:
            self.start.wait()
        for w in self.workers:
            w.join()


PER_THREAD = 4  # inferences per thread per timed call of the 2-thread wayvert case


def _wayvert(case: Case, threads: int) -> tuple[Callable[[], Any], Callable[[int], np.ndarray], dict[str, Any], Any]:
    pool = None
    if threads == 1:
        session = case.engine.session()
        cycle = itertools.cycle(case.feeds.engine)
        run: Callable[[], Any] = lambda: session.run(next(cycle))  # noqa: E731
        frames = 1
    else:
        pool = _SessionPool(case, threads, PER_THREAD)
        session, run, frames = pool.sessions[0], pool.run, threads * PER_THREAD
    info = {"frames_per_call": frames, "arena_bytes": case.engine.arena_bytes,
            "engine_file_bytes": os.path.getsize(case.path), "isa": wayvert.cpu_isa()}
    return run, lambda i: session.run(case.feeds.engine[i])["trajectories"], info, pool


def _peer(case: Case, runtime: str, precision: str, threads: int) -> tuple[Callable[[], Any], Callable[[int], np.ndarray], dict[str, Any]]:
    cycle = itertools.cycle(case.feeds.float)
    if runtime == "torch":
        pytest.importorskip("torch")
        from wayvert.calibration.torch_peer import TorchRunner

        runner: Any = TorchRunner(case.twin, threads)
    else:
        pytest.importorskip("onnxruntime")
        from wayvert.benchmark.peers.onnx_model import OrtSession

        runner = OrtSession(case.onnx_file(precision), threads)
    return (lambda: runner.run(next(cycle)), lambda i: runner.run(case.feeds.float[i])["trajectories"],
            {"frames_per_call": 1})


def _memory(case: Case, peer: str) -> dict[str, Any]:
    from wayvert.benchmark.memory import measure

    if peer.startswith("wayvert"):
        return measure("wayvert", case.path)
    if peer.startswith("torch"):
        return measure("torch", case.twin_pickle())
    return measure("onnxruntime", case.onnx_file("int8" if "int8" in peer else "fp32"))


@pytest.mark.parametrize("peer", PEERS)
def test_reference_network(benchmark: Any, case: Case, peer: str) -> None:
    runtime, precision, t = peer.split("_")
    threads = int(t[1:])
    pool = None
    if runtime == "wayvert":
        run, single, info, pool = _wayvert(case, threads)
    else:
        run, single, info = _peer(case, "torch" if runtime == "torch" else "onnxruntime", precision, threads)
    sqnr = case.sqnr([single(i) for i in range(len(case.feeds.engine))])
    assert sqnr > SQNR_FLOOR_DB["int8" if "int8" in precision else "fp32"], f"{peer}: trajectories far from the twin ({sqnr:.1f} dB)"
    for _ in range(3):  # warm-up: first-run allocations, lazy kernel selection, caches
        run()
    benchmark.group = GROUP
    benchmark.extra_info.update(peer=peer, threads=threads, precision=precision, sqnr_db=sqnr,
                                feeds=case.feeds.source, baseline=peer == "wayvert_int8_t1", **info)
    if threads == 1:
        benchmark.extra_info["memory"] = _memory(case, peer)
    try:
        benchmark(run)
    finally:
        if pool is not None:
            pool.close()
