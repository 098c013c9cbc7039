"""Fixtures for the peer benchmarks: the sample convnet at each size, and every peer that runs it.

A *peer* is one implementation of the same float network (same weights, same input): the wayvert int8 and
float32 engines, a numpy float32 implementation (im2col + one matmul per conv), and ONNX Runtime in float32
and in int8 (static QDQ quantization) when ``onnx`` and ``onnxruntime`` are importable.

Each peer is built once per network size (session scope) and exposes a zero-argument ``run()`` returning
the float32 logits, plus the facts the report needs (threads, arena and file sizes) in ``info``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Timings are per-thread unless a peer says otherwise: keep numpy's BLAS on one thread. Must happen before
# numpy is imported anywhere in the process (pytest and its plugins do not import numpy).
_BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
NUMPY_THREADS = "1" if "numpy" not in sys.modules else "default"
for _k in _BLAS_ENV:
    os.environ.setdefault(_k, "1")


def _prefer_installed_wayvert() -> None:
    """``python -m pytest`` from the repo root puts the source tree first on sys.path; unless the extension
    was built in place, the source tree has no compiled ``_core``, so import the installed package instead
    (as ``.venv/bin/pytest`` would)."""
    from importlib.machinery import EXTENSION_SUFFIXES

    root = Path(__file__).resolve().parent.parent
    src = root / "wayvert"
    if src.is_dir() and not any((src / f"_core{suffix}").exists() for suffix in EXTENSION_SUFFIXES):
        sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != root]


_prefer_installed_wayvert()

import copy  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
import pytest  # noqa: E402

import wayvert  # noqa: E402
from wayvert.build import sample_nets  # noqa: E402
from wayvert.build.sample_nets import SampleConvNet  # noqa: E402

F32 = npt.NDArray[np.float32]

# Network sizes benchmarked: group label -> (height, width). Input is 1x3xHxW float32.
SIZES: dict[str, tuple[int, int]] = {"1x3x64x128": (64, 128), "1x3x128x256": (128, 256)}
SEED = 0               # sample_convnet seed (weights and calibration inputs)
INPUT_SEED = 12345     # the fixed input the accuracy columns are measured on
CALIBRATION_BATCHES = 4

# Largest relative L2 error of the logits vs the numpy float32 reference that still counts as a working peer.
# These are sanity bounds (a broken benchmark must not report numbers), not accuracy targets.
REL_L2_BOUND = {"f32": 1e-4, "int8": 0.1}


# ----------------------------------------------------------------------------------------------------------
# numpy float32 peer


def _im2col(x: F32, kh: int, kw: int, stride: int, pad: int) -> tuple[F32, int, int]:
    """[C*kh*kw, Ho*Wo] columns of one image x [C, H, W] (zero padding), plus Ho, Wo."""
    c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad))) if pad else x
    ho, wo = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    # win: [C, Ho, Wo, kh, kw] -> [C, kh, kw, Ho, Wo] -> [C*kh*kw, Ho*Wo] (one copy)
    return np.ascontiguousarray(win.transpose(0, 3, 4, 1, 2)).reshape(c * kh * kw, ho * wo), ho, wo


class NumpyConvNet:
    """The sample convnet in plain numpy float32: per conv one im2col and one (batched over groups) matmul."""

    def __init__(self, net: SampleConvNet) -> None:
        self.layers = []
        for c in net.convs:
            co, cig, kh, kw = c.weight.shape
            g = c.groups
            w = np.ascontiguousarray(c.weight.reshape(g, co // g, cig * kh * kw), dtype=np.float32)
            self.layers.append((w, c.bias.reshape(g, co // g, 1).astype(np.float32), kh, kw, c.stride, c.padding, g,
                                c.residual_from))
        self.head_wt = np.ascontiguousarray(net.head_weight.T, dtype=np.float32)
        self.head_b = net.head_bias.astype(np.float32)

    def __call__(self, x: F32) -> F32:
        assert x.shape[0] == 1, "batch 1 only"
        h = x[0]
        outs: list[F32] = []
        for w, b, kh, kw, s, p, g, res in self.layers:
            cols, ho, wo = _im2col(h, kh, kw, s, p)
            y = np.matmul(w, cols.reshape(g, -1, ho * wo))  # [g, Cog, P]
            y += b
            y = y.reshape(-1, ho, wo)
            if res is not None:
                y += outs[res]
            np.maximum(y, 0, out=y)
            h = y
            outs.append(h)
        pooled = h.reshape(h.shape[0], -1).mean(axis=1, dtype=np.float32)
        return (pooled @ self.head_wt + self.head_b)[None, :].astype(np.float32, copy=False)


# ----------------------------------------------------------------------------------------------------------
# ONNX model of the float network, and its int8 static QDQ quantization


def onnx_model(net: SampleConvNet) -> Any:
    """The float network as ONNX (opset 17): Conv(+bias) [+Add residual] -> Relu ..., GlobalAveragePool, Flatten, Gemm."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits, nodes = [], []
    h = "image"
    outs: list[str] = []
    for i, c in enumerate(net.convs):
        inits += [numpy_helper.from_array(c.weight.astype(np.float32), f"conv{i}.weight"),
                  numpy_helper.from_array(c.bias.astype(np.float32), f"conv{i}.bias")]
        k = c.weight.shape[2:]
        nodes.append(helper.make_node("Conv", [h, f"conv{i}.weight", f"conv{i}.bias"], [f"conv{i}.conv"],
                                      name=f"conv{i}", kernel_shape=list(k), strides=[c.stride] * 2,
                                      pads=[c.padding] * 4, group=c.groups))
        y = f"conv{i}.conv"
        if c.residual_from is not None:
            nodes.append(helper.make_node("Add", [y, outs[c.residual_from]], [f"conv{i}.add"], name=f"conv{i}_add"))
            y = f"conv{i}.add"
        nodes.append(helper.make_node("Relu", [y], [f"conv{i}.out"], name=f"conv{i}_relu"))
        h = f"conv{i}.out"
        outs.append(h)
    inits += [numpy_helper.from_array(net.head_weight.astype(np.float32), "head.weight"),
              numpy_helper.from_array(net.head_bias.astype(np.float32), "head.bias")]
    nodes += [helper.make_node("GlobalAveragePool", [h], ["pool"], name="pool"),
              helper.make_node("Flatten", ["pool"], ["pool.flat"], name="flatten", axis=1),
              helper.make_node("Gemm", ["pool.flat", "head.weight", "head.bias"], ["logits"], name="head", transB=1)]
    graph = helper.make_graph(
        nodes, "sample_convnet",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, list(net.input_shape))],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [net.input_shape[0], net.head_weight.shape[0]])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="wayvert-benches")
    model.ir_version = 8  # readable by every onnxruntime >= 1.14
    onnx.checker.check_model(model)
    return model


def quantize_qdq(fp32_path: Path, int8_path: Path, calibration: list[F32]) -> None:
    """Static int8 QDQ quantization (MinMax calibration over ``calibration``): uint8 activations, int8
    per-channel weights, reduce_range (7-bit weights, the x86 u8s8 setting)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self._it = iter([{"image": b} for b in calibration])

        def get_next(self) -> dict[str, F32] | None:
            return next(self._it, None)

    quantize_static(str(fp32_path), str(int8_path), Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                    reduce_range=True)


def ort_session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])


def have_ort() -> bool:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        from onnxruntime import quantization  # noqa: F401
    except ImportError:
        return False
    return True


# ----------------------------------------------------------------------------------------------------------
# One network size with all its peers


def calibration_inputs(net: SampleConvNet, seed: int = SEED, batches: int = CALIBRATION_BATCHES) -> list[F32]:
    """The calibration inputs sample_convnet(seed) drew (uniform[-1, 1]): replay its generator past the weights."""
    rng = np.random.default_rng(seed)
    for c in net.convs:
        rng.normal(size=c.weight.shape)
        rng.normal(size=c.bias.shape)
    rng.normal(size=net.head_weight.shape)
    rng.normal(size=net.head_bias.shape)
    return [rng.uniform(-1, 1, size=net.input_shape).astype(np.float32) for _ in range(batches)]


def accuracy(out: npt.ArrayLike, ref: F32) -> dict[str, float]:
    d = np.asarray(out, dtype=np.float64) - ref.astype(np.float64)
    return {"max_abs_err": float(np.abs(d).max()),
            "rel_l2_err": float(np.linalg.norm(d) / max(np.linalg.norm(ref.astype(np.float64)), 1e-30))}


@dataclass
class Peer:
    name: str
    run: Callable[[], F32]
    info: dict[str, Any]
    kind: str  # "f32" or "int8": picks the accuracy sanity bound

    @property
    def rel_l2_bound(self) -> float:
        return REL_L2_BOUND[self.kind]


@dataclass
class ConvNetCase:
    label: str
    net: SampleConvNet
    x: F32
    ref: F32
    calibration: list[F32]
    workdir: Path
    info: dict[str, Any]
    _peers: dict[str, Peer] = field(default_factory=dict)
    _onnx: dict[str, Path] = field(default_factory=dict)

    def accuracy(self, out: npt.ArrayLike) -> dict[str, float]:
        """max abs and relative L2 error of ``out`` vs the numpy float32 logits on the fixed input."""
        return accuracy(out, self.ref)

    def peer(self, name: str) -> Peer:
        """The named peer (built on first use; skips the test when its runtime is not installed)."""
        if name not in self._peers:
            self._peers[name] = self._make(name)
        return self._peers[name]

    def _wayvert(self, name: str, builder: Any) -> Peer:
        path = self.workdir / f"{name}.wvt"
        path.write_bytes(builder.to_bytes())
        engine = wayvert.Engine.load(path)
        sess = engine.session()
        x = self.x

        def run() -> F32:
            return sess.run({"image": x})["logits"]

        info = {"threads": 1, "arena_bytes": engine.arena_bytes, "naive_arena_bytes": engine.naive_arena_bytes,
                "engine_file_bytes": path.stat().st_size, "isa": wayvert.cpu_isa()}
        return Peer(name, run, info, "int8" if name.endswith("int8") else "f32")

    def _onnx_path(self, precision: str) -> Path:
        if precision not in self._onnx:
            import onnx

            fp32 = self.workdir / "sample_convnet_f32.onnx"
            if not fp32.exists():
                onnx.save(onnx_model(self.net), str(fp32))
            self._onnx["f32"] = fp32
            if precision == "int8":
                int8 = self.workdir / "sample_convnet_int8_qdq.onnx"
                quantize_qdq(fp32, int8, self.calibration)
                self._onnx["int8"] = int8
        return self._onnx[precision]

    def _make(self, name: str) -> Peer:
        if name == "wayvert_int8":
            return self._wayvert(name, self.net.build_int8())
        if name == "wayvert_f32":
            return self._wayvert(name, self.net.build_f32())
        if name == "numpy_f32":
            model, x = NumpyConvNet(self.net), self.x
            return Peer(name, lambda: model(x), {"threads": NUMPY_THREADS, "impl": "im2col + matmul (OpenBLAS)"},
                        "f32")
        if name.startswith("ort_"):
            if not have_ort():
                pytest.skip("onnx / onnxruntime not importable (pip install '.[bench]')")
            import onnxruntime as ort

            _, precision, t = name.split("_")  # ort_f32_t1 -> ("f32", "t1")
            threads = int(t[1:])
            path = self._onnx_path(precision)
            sess, x = ort_session(path, threads), self.x

            def run() -> F32:
                return sess.run(None, {"image": x})[0]

            info = {"threads": threads, "ort_version": ort.__version__, "model_file_bytes": path.stat().st_size}
            if precision == "int8":
                info["quantization"] = "static QDQ, MinMax, u8 act / s8 per-channel weights, reduce_range"
            return Peer(name, run, info, precision)
        raise KeyError(name)


class _Cases(dict):  # type: ignore[type-arg]
    """Size label -> ConvNetCase, built on first use."""

    def __init__(self, tmp: pytest.TempPathFactory) -> None:
        super().__init__()
        self._tmp = tmp

    def __missing__(self, label: str) -> ConvNetCase:
        h, w = SIZES[label]
        net = sample_nets.sample_convnet(seed=SEED, height=h, width=w, calibration_batches=CALIBRATION_BATCHES)
        calib = calibration_inputs(net)
        check = copy.deepcopy(net)
        check.calibrate(calib)
        info: dict[str, Any] = {"calibration": "sample_convnet's own inputs (replayed)"}
        if check.scales != net.scales:  # sample_nets changed how it draws: calibrate both runtimes on ours
            net.calibrate(calib)
            info["calibration"] = "recalibrated on the benchmark's inputs"
        x = np.random.default_rng(INPUT_SEED).uniform(-1, 1, size=net.input_shape).astype(np.float32)
        ref = NumpyConvNet(net)(x)
        f64 = net.forward_f32(x)["head"]
        err = accuracy(ref, f64)
        assert err["rel_l2_err"] < 1e-5, f"numpy im2col peer disagrees with forward_f32: {err}"
        info["numpy_vs_forward_f32_max_abs_err"] = err["max_abs_err"]
        case = ConvNetCase(label, net, x, ref, calib, self._tmp.mktemp(f"convnet_{label}"), info)
        self[label] = case
        return case


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test taking ``convnet_size`` runs once per entry of SIZES."""
    if "convnet_size" in metafunc.fixturenames:
        metafunc.parametrize("convnet_size", list(SIZES))


@pytest.fixture(scope="session")
def convnet_cases(tmp_path_factory: pytest.TempPathFactory) -> _Cases:
    return _Cases(tmp_path_factory)
