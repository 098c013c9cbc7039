"""One int8 engine and every peer that runs the same network, ready for ``interleaved.interleave``.

The peers run the engine's float twin (``wayvert.graph.dequantized.float_network``: the engine's own int8 weights
dequantized), through the project's peer code in ``wayvert.benchmark.peers`` (PyTorch eager, the ONNX
graph, ONNX Runtime's static QDQ quantization) and ``executorch_peer`` here:

* ``wayvert_int8_t{1,2}``: ``Engine.session(threads=n)``, one inference per call;
* ``ort_int8_t{1,2}``: ONNX Runtime CPU, the twin quantized by ONNX Runtime (static QDQ, u8 activations, s8
  per-channel weights, reduce_range, min-max over the 8 benchmark inputs), intra-op threads;
* ``ort_fp32_t{1,2}``: ONNX Runtime CPU on the twin in fp32;
* ``executorch_{int8,fp32}_t{1,2}``: ExecuTorch 1.5 XNNPACK, PT2E int8 and fp32; ExecuTorch's threadpool is
  process-wide and fixed once a program is loaded, so this process runs it at one thread and the 2-thread peers run
  in a child process each, timed there, in their turn of the rounds (``executorch_peer``);
* ``torch_fp32_t{1,2}``: PyTorch eager of the twin, ``torch.set_num_threads``.

Inputs: 8 frames of the synthetic world through the canonical rig (``wayvert.benchmark.engine_feeds``), cycled.
Every peer's trajectories and mode logits over the 8 inputs are compared with the twin's (SQNR); a peer far from
the twin fails the test, so a broken peer cannot report a time. ONNX and .pte files are cached in ``_build/bench``
under the engine file's hash.
"""
from __future__ import annotations

import hashlib
import itertools
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

import wayvert
from wayvert.benchmark import engine_feeds
from wayvert.graph.dequantized import float_network

from interleaved import TimedPeer

CACHE = Path(__file__).resolve().parent.parent / "_build" / "bench"
PEERS = ["wayvert_int8_t1", "wayvert_int8_t2", "ort_int8_t1", "ort_int8_t2", "ort_fp32_t1", "ort_fp32_t2",
         "executorch_int8_t1", "executorch_int8_t2", "executorch_fp32_t1", "executorch_fp32_t2", "torch_fp32_t1",
         "torch_fp32_t2"]
EXECUTORCH_IN_PROCESS_THREADS = 1  # the rest run in a child process each
CHECKED_OUTPUTS = ("trajectories", "mode_logits")
# Sanity bounds, not accuracy targets: the fp32 peers run the twin itself; an int8 peer adds its own activation
# rounding (the large backbone's random weights make that costlier than the trained student's).
SQNR_FLOOR_DB = {"fp32": 60.0, "int8": 12.0}


class PeerSkipped(Exception):
    """This peer cannot run here (runtime missing, API absent); the message says why."""


def sqnr_db(ref: list[np.ndarray], got: list[np.ndarray]) -> float:
    r = np.concatenate([np.asarray(x, np.float64).ravel() for x in ref])
    e = r - np.concatenate([np.asarray(x, np.float64).ravel() for x in got])
    return float("inf") if not e.any() else float(10 * np.log10((r ** 2).sum() / (e ** 2).sum()))


def wayvert_session(engine: wayvert.Engine, threads: int) -> Any:
    """``engine.session(threads=n)``; for 1 thread the plain ``session()`` of a runtime without the argument."""
    try:
        return engine.session(threads=threads)
    except TypeError as e:
        if threads == 1:
            return engine.session()
        raise PeerSkipped(f"Engine.session(threads={threads}) is not in this runtime ({e})") from e


class NetworkCase:
    """An engine (``path``), its feeds, its float twin and the twin's outputs on the feeds."""

    def __init__(self, label: str, path: str | os.PathLike[str], frames: int = 8) -> None:
        self.label, self.path = label, str(path)
        self.engine = wayvert.Engine.load(self.path)
        self.feeds = engine_feeds(self.engine, count=frames)
        self.twin = float_network(self.path)
        self.ref = [self.twin.run(f) for f in self.feeds.float]
        self.key = hashlib.sha256(Path(self.path).read_bytes()).hexdigest()[:16]
        self._closers: list[Callable[[], None]] = []
        self.info = {"engine": os.path.basename(self.path), "engine_file_bytes": os.path.getsize(self.path),
                     "feeds": self.feeds.source, "macs": self._macs()}

    def _macs(self) -> int:
        from wayvert.graph import engine_ops, op_cost

        return int(sum(op_cost(op).macs for op in engine_ops(self.path)))

    def sqnr(self, single: Callable[[int], dict[str, np.ndarray]]) -> dict[str, float]:
        outs = [single(i) for i in range(len(self.feeds.engine))]
        return {k: sqnr_db([r[k] for r in self.ref], [o[k] for o in outs]) for k in CHECKED_OUTPUTS}

    # ------------------------------------------------------------------------------------------------------
    def _onnx_file(self, precision: str) -> str:
        import onnx

        from wayvert.benchmark.peers.onnx_model import onnx_model

        fp32 = CACHE / f"{self.key}_fp32.onnx"
        int8 = CACHE / f"{self.key}_int8_qdq.onnx"
        CACHE.mkdir(parents=True, exist_ok=True)
        if not fp32.exists():
            onnx.save(onnx_model(self.twin), str(fp32))
        if precision == "int8" and not int8.exists():
            from wayvert.benchmark.peers.ort_int8 import quantize_qdq

            tmp = int8.with_suffix(".tmp")
            quantize_qdq(onnx.load(str(fp32)), self.feeds.float, tmp)
            os.replace(tmp, int8)
        return str(int8 if precision == "int8" else fp32)

    def peer(self, name: str) -> TimedPeer:
        """The named peer, its accuracy against the twin in ``info["sqnr_db"]``; raises PeerSkipped."""
        runtime, precision, t = name.split("_")
        threads = int(t[1:])
        info: dict[str, Any] = {}
        prepare = None
        if runtime == "wayvert":
            session = wayvert_session(self.engine, threads)
            cycle = itertools.cycle(self.feeds.engine)
            run: Callable[[], Any] = lambda: session.run(next(cycle))  # noqa: E731
            single: Callable[[int], dict[str, np.ndarray]] = lambda i: session.run(self.feeds.engine[i])  # noqa: E731
            info.update(arena_bytes=self.engine.arena_bytes, isa=wayvert.cpu_isa())
        else:
            cycle = itertools.cycle(self.feeds.float)
            if runtime == "ort":
                try:
                    import onnxruntime as ort

                    from wayvert.benchmark.peers.onnx_model import OrtSession
                except ImportError as e:
                    raise PeerSkipped(f"onnxruntime not importable ({e})") from e
                runner: Any = OrtSession(self._onnx_file(precision), threads)
                info["ort_version"] = ort.__version__
            elif runtime == "torch":
                import torch

                from wayvert.calibration.torch_peer import TorchRunner

                runner = TorchRunner(self.twin, threads)
                prepare = lambda: torch.set_num_threads(threads)  # noqa: E731
            elif runtime == "executorch":
                import executorch_peer

                why = executorch_peer.available()
                if why:
                    raise PeerSkipped(why)
                pte = CACHE / f"{self.key}_{precision}.pte"
                if threads == EXECUTORCH_IN_PROCESS_THREADS:
                    runner, et_info = executorch_peer.executorch_peer(self.twin, self.feeds.float, precision, threads, pte)
                    info.update(et_info)
                else:
                    return self._executorch_process(name, pte, precision, threads)
            else:
                raise KeyError(name)
            run = lambda: runner.run(next(cycle))  # noqa: E731
            single = lambda i: runner.run(self.feeds.float[i])  # noqa: E731
        info["sqnr_db"] = self.sqnr(single)
        return TimedPeer(name, run, threads, precision, info, prepare)

    def _executorch_process(self, name: str, pte: Path, precision: str, threads: int) -> TimedPeer:
        """ExecuTorch at ``threads`` in a child process (its threadpool is process-wide: executorch_peer)."""
        import executorch_peer

        path, inputs, outputs = executorch_peer.pte_file(self.twin, self.feeds.float, precision, pte)
        proc = executorch_peer.ExecuTorchProcess(path, self.feeds.float, inputs, outputs, threads, CACHE / "tmp")
        self._closers.append(proc.close)
        info = {**executorch_peer.peer_info(path.read_bytes(), precision), "threadpool_threads": proc.threads,
                "process": "a child process, timed there"}
        info["sqnr_db"] = self.sqnr(lambda i: proc.outputs[i])
        return TimedPeer(name, lambda: proc.block(1), threads, precision, info, None, proc.block)

    def close(self) -> None:
        """Stop the child processes of the peers."""
        for close in self._closers:
            close()
        self._closers.clear()
