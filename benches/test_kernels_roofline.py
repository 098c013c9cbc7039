"""The hot ops of the reference network, one at a time, against this machine's roofline measured in the same run.

Group "machine peaks (1 thread)" measures what one core can do:

* int8 GEMM 256x1024x1024 (``gemm_peers``): wayvert as a ``linear`` and as a 1x1 ``conv2d`` engine; ONNX Runtime
  ``MatMulInteger`` and ``QLinearConv`` 1x1 (MLAS); ExecuTorch XNNPACK int8 ``linear`` (PT2E): the peers' figures
  are the independent peak wayvert's GEMM is held against (issue 12: >= 85% of the best one);
* ``fp32_gemm_numpy``: numpy ``matmul`` (OpenBLAS sgemm, 1 thread) of the same size; ``fp32_gemm_wayvert`` too;
* ``copy_numpy``: ``np.copyto`` of 64 MiB (bytes read + written per second).

Each peak is checked to be one thread's: the process's CPU time over the wall time of a 0.3 s loop
(``extra_info["cpu_per_wall"]``) must stay below 1.3. The report takes, per kind, the best peer as the machine's
peak (ops/s from the min time).

Group "reference network kernels (1 thread)": every conv2d/linear of ``wayvert/data/reference.wvrt`` with at least
50 k multiply-accumulates, rebuilt as a one-op engine with the reference's own weights, multipliers and attributes
(``wayvert.graph``), and timed by ``Session.run``. ``extra_info`` carries the op's ops and bytes
(``wayvert.graph.costs``); the report divides the roofline time ``max(ops / peak, bytes / bandwidth)`` by the
measured time: the fraction of the roofline each kernel reaches.

Group "large backbone kernels (1 thread)": the same for every conv2d of the large reference backbone
(``benches/large_backbone.py``); the report holds each against the best peer's single-thread int8 GEMM rate
(issue 12: every 3x3 and 1x1 conv >= 70% of it). Timings are recorded, never asserted.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import wayvert
from wayvert.build import EngineBuilder
from wayvert.build.builder import Tensor
from wayvert.graph import OpInfo, engine_constants, engine_ops, op_cost

import gemm_peers
from gemm_peers import K, M, N

PEAKS = "machine peaks (1 thread)"
KERNELS = "reference network kernels (1 thread)"
LARGE_KERNELS = "large backbone kernels (1 thread)"
MIN_MACS = 50_000


def _peak(name: str) -> tuple[Any, str, float, float]:
    """(run, kind, ops, bytes) of one peak benchmark."""
    builders = {"int8_gemm_wayvert": lambda: gemm_peers.wayvert_linear("int8"),
                "int8_conv1x1_wayvert": gemm_peers.wayvert_conv1x1,
                "fp32_gemm_wayvert": lambda: gemm_peers.wayvert_linear("float32"),
                "int8_gemm_ort": gemm_peers.ort_matmul_integer, "int8_conv1x1_ort": gemm_peers.ort_qlinearconv1x1,
                "int8_gemm_executorch": gemm_peers.executorch_linear}
    if name in builders:
        if "_ort" in name:
            pytest.importorskip("onnxruntime")
        try:
            run = builders[name]()
        except ImportError as e:
            pytest.skip(str(e))
        return run, name.split("_")[0], gemm_peers.GEMM_OPS, 0.0
    if name == "fp32_gemm_numpy":
        a = np.random.default_rng(1).normal(size=(M, K)).astype(np.float32)
        w = np.random.default_rng(2).normal(size=(K, N)).astype(np.float32)
        out = np.empty((M, N), np.float32)
        return (lambda: np.matmul(a, w, out=out)), "fp32", gemm_peers.GEMM_OPS, 0.0
    src = np.ones(64 << 18, np.float32)  # 64 MiB
    dst = np.empty_like(src)
    return (lambda: np.copyto(dst, src)), "bandwidth", 0.0, 2.0 * src.nbytes


PEAK_PEERS = ["int8_gemm_wayvert", "int8_conv1x1_wayvert", "int8_gemm_ort", "int8_conv1x1_ort", "int8_gemm_executorch",
              "fp32_gemm_wayvert", "fp32_gemm_numpy", "copy_numpy"]
# A peak is a one-core figure: a peer whose process CPU time runs well ahead of the wall time used a second thread.
MOST_CPU_PER_WALL = 1.3


@pytest.mark.parametrize("peak", PEAK_PEERS)
def test_machine_peak(benchmark: Any, peak: str) -> None:
    run, kind, n_ops, n_bytes = _peak(peak)
    busy = gemm_peers.cpu_per_wall(run)
    assert busy < MOST_CPU_PER_WALL, f"{peak} kept {busy:.2f} cores busy: not a single-thread figure"
    benchmark.group = PEAKS
    benchmark.extra_info.update(peer=peak, kind=kind, ops=n_ops, bytes=n_bytes, threads=1, cpu_per_wall=busy)
    benchmark(run)


def single_op_engine(op: OpInfo, constants: dict[str, np.ndarray]) -> EngineBuilder:
    """``op`` alone: its activation inputs become graph inputs (same dtype, shape, scale, zero point)."""
    b = EngineBuilder(f"kernel_{op.outputs[0].name}", "1")
    slots: list[Tensor | None] = []
    for v in op.inputs:
        if v is None:
            slots.append(None)
        elif v.kind == "constant":
            slots.append(b.constant(v.name, constants[v.name], scale=v.scale, zero_point=v.zero_point))
        else:
            slots.append(b.input(v.name, v.dtype, v.shape, scale=v.scale, zero_point=v.zero_point))
    outs = b.op(op.op_type, slots, [Tensor(o.name, o.dtype, o.shape, o.scale, o.zero_point) for o in op.outputs], op.attrs)
    b.output(*outs)
    return b


def _hot_ops(path: str) -> list[tuple[int, OpInfo]]:
    return [(i, op) for i, op in enumerate(engine_ops(path)) if op.op_type in ("conv2d", "linear") and op_cost(op).macs >= MIN_MACS]


def _large_backbone_path() -> str:
    import large_backbone

    return str(large_backbone.engine_path())


HOT = _hot_ops(wayvert.reference_engine_path())
LARGE = _large_backbone_path()
LARGE_HOT = [(i, op) for i, op in _hot_ops(LARGE) if op.op_type == "conv2d"]


def _kernel(benchmark: Any, group: str, path: str, index: int, op: OpInfo) -> None:
    b = single_op_engine(op, engine_constants(path))
    engine = wayvert.Engine.from_bytes(b.to_bytes())
    session = engine.session()
    rng = np.random.default_rng(index)
    feeds = {s.name: (rng.integers(-100, 100, s.shape).astype(np.int8) if s.dtype == "int8"
                      else rng.normal(size=s.shape).astype(np.float32)) for s in engine.inputs}
    # the kernel is the engine's: the one-op engine must compute what numpy's reference computes
    from wayvert.reference import run as reference_run

    expected = reference_run(b, feeds)[engine.outputs[0].name]
    got = session.run(feeds)[engine.outputs[0].name]
    if got.dtype == np.int8:
        assert np.array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    c = op_cost(op)
    w = op.inputs[1]
    benchmark.group = group
    benchmark.extra_info.update(peer=f"{index:02d} {op.op_type} {op.outputs[0].name}", op=op.op_type, dtype=c.dtype,
                                shape=list(op.outputs[0].shape), weight=list(w.shape) if w else None,
                                kernel=(f"{w.shape[2]}x{w.shape[3]}" + (" depthwise" if op.attrs.get("groups", 1) > 1 else "")
                                        if w is not None and len(w.shape) == 4 else None),
                                macs=c.macs, ops=c.ops, bytes=c.bytes_on(4), threads=1, isa=wayvert.cpu_isa())
    benchmark(session.run, feeds)


@pytest.mark.parametrize("index,op", HOT, ids=[f"{i:02d}_{op.outputs[0].name}" for i, op in HOT])
def test_reference_kernel(benchmark: Any, index: int, op: OpInfo) -> None:
    _kernel(benchmark, KERNELS, wayvert.reference_engine_path(), index, op)


@pytest.mark.parametrize("index,op", LARGE_HOT, ids=[f"{i:02d}_{op.outputs[0].name}" for i, op in LARGE_HOT])
def test_large_backbone_kernel(benchmark: Any, index: int, op: OpInfo) -> None:
    _kernel(benchmark, LARGE_KERNELS, LARGE, index, op)


IN_NETWORK = "large backbone ops in the network (1 thread)"
PROFILE_BATCHES, PROFILE_RUNS = 20, 5


def test_large_backbone_ops_in_network(benchmark: Any) -> None:
    """Every op of the large backbone timed inside whole runs (``Session.profile()``): no layout change at a
    one-op engine's edges. Per op: the lowest, over PROFILE_BATCHES batches, of its mean time in PROFILE_RUNS runs."""
    from wayvert.benchmark import engine_feeds

    engine = wayvert.Engine.load(LARGE)
    session = engine.session()
    if not hasattr(session, "profile"):
        pytest.skip("Session.profile() is not in this runtime")
    ops = engine_ops(LARGE)
    assert [op.op_type for op in ops] == list(engine.op_types), "plan order differs from the file's op order"
    feeds = engine_feeds(engine, count=PROFILE_RUNS).engine
    best = [float("inf")] * len(ops)
    mean = [0.0] * len(ops)

    def measure() -> None:
        for _ in range(PROFILE_BATCHES):
            session.profile()
            for f in feeds:
                session.run(f)
            for t in session.op_times():
                best[t.index] = min(best[t.index], t.mean_ms)
                mean[t.index] += t.mean_ms / PROFILE_BATCHES
        session.profile(False)

    session.run(feeds[0])
    benchmark.group = IN_NETWORK
    benchmark.pedantic(measure, rounds=1, iterations=1)
    rows = []
    for i, op in enumerate(ops):
        c = op_cost(op)
        w = op.inputs[1] if len(op.inputs) > 1 else None
        kernel = (f"{w.shape[2]}x{w.shape[3]}" + (" depthwise" if op.attrs.get("groups", 1) > 1 else "")
                  if op.op_type == "conv2d" and w is not None and len(w.shape) == 4 else None)
        rows.append({"index": i, "name": op.outputs[0].name, "op": op.op_type, "kernel": kernel, "dtype": c.dtype,
                     "shape": list(op.outputs[0].shape), "macs": c.macs, "ops": c.ops, "min_ms": best[i],
                     "mean_ms": mean[i]})
    benchmark.extra_info.update(ops=rows, threads=1, runs=PROFILE_BATCHES * PROFILE_RUNS, isa=wayvert.cpu_isa())
