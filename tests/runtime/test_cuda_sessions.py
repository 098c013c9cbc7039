"""CUDA sessions from Python: device strings, the typed error where there is no GPU, coverage answered without one,
and (on a machine with a GPU) the shipped reference engine on CUDA bit-identical to the CPU, run after run, two
sessions at once, reset. The per-op comparisons are test_cuda_gemm_ops.py and test_cuda_other_ops.py."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

import wayvert
from wayvert.errors import DeviceError, InvalidArgumentError, UnsupportedEngineError
from wayvert.inspect import describe_engine

HAS_GPU = wayvert.cuda_device_count() > 0
needs_gpu = pytest.mark.skipif(not HAS_GPU, reason="no CUDA device")


def _inputs(engine: wayvert.Engine, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for spec in engine.inputs:
        if spec.dtype in ("int8", "uint8"):
            info = np.iinfo(spec.dtype)
            out[spec.name] = rng.integers(info.min, info.max + 1, spec.shape).astype(spec.dtype)
        else:
            out[spec.name] = rng.standard_normal(spec.shape).astype(spec.dtype)
    return out


@pytest.mark.parametrize("device", ["gpu", "cuda:", "cuda:x", "CUDA", "cuda:-1", "", "cpu:0"])
def test_a_device_that_is_not_one_is_an_invalid_argument(device):
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    with pytest.raises(InvalidArgumentError, match="device must be"):
        engine.session(device=device)


def test_a_device_that_is_not_a_string_is_an_invalid_argument():
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    with pytest.raises(InvalidArgumentError, match="device must be"):
        engine.session(device=0)  # type: ignore[arg-type]


@pytest.mark.skipif(HAS_GPU, reason="this machine has a CUDA device")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:3"])
def test_a_cuda_session_without_a_gpu_raises_a_device_error_naming_cuda(device):
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    with pytest.raises(DeviceError, match=r"^CUDA: "):
        engine.session(device=device)
    assert engine.session().run(_inputs(engine, 0))  # the engine is unharmed: CPU sessions still run


def test_a_cuda_device_that_does_not_exist_raises_a_device_error():
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    with pytest.raises(DeviceError, match=r"CUDA"):
        engine.session(device="cuda:99")


def test_cpu_session_reports_its_device():
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    assert engine.session().device == "cpu"


def test_coverage_lists_each_gap_with_an_op_index_and_a_reason():
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    cov = engine.cuda_coverage()
    assert cov["built"] == wayvert.cuda_built()
    ops = engine.op_types
    for gap in cov["unsupported_ops"]:
        assert 0 <= gap["index"] < len(ops) and gap["op"] == ops[gap["index"]] and gap["reason"]
    if not cov["built"]:
        assert len(cov["unsupported_ops"]) == len(ops)


def test_inspect_reports_cuda_coverage_in_json_and_text():
    path = wayvert.reference_engine_path()
    s = json.loads(describe_engine(path, as_json=True))
    assert set(s["cuda"]) == {"built", "devices", "unsupported_ops"}
    assert s["cuda"]["unsupported_ops"] == wayvert.Engine.load(path).cuda_coverage()["unsupported_ops"]
    text = describe_engine(path)
    assert "\ncuda     " in text


def test_the_reference_engine_runs_every_op_on_cuda():
    """Issue 16's coverage: the shipped network has a CUDA kernel for each of its ops."""
    if not wayvert.cuda_built():
        pytest.skip("built without CUDA")
    gaps = wayvert.Engine.load(wayvert.reference_engine_path()).cuda_coverage()["unsupported_ops"]
    assert gaps == []


@needs_gpu
def test_reference_engine_on_cuda_is_bit_identical_to_the_cpu_run_after_run():
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    cpu, gpu = engine.session(), engine.session(device="cuda")
    assert gpu.device == "cuda:0"
    for seed in range(4):
        x = _inputs(engine, seed)
        want, got = cpu.run(x), gpu.run(x)
        for name in want:
            assert got[name].tobytes() == want[name].tobytes(), name


@needs_gpu
def test_two_cuda_sessions_run_at_once_in_two_threads():
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    xs = [_inputs(engine, 10 + k) for k in range(2)]
    want = [engine.session().run(x) for x in xs]
    sessions = [engine.session(device="cuda") for _ in xs]
    got: list[list[dict[str, np.ndarray]]] = [[], []]

    def drive(k: int) -> None:
        for _ in range(25):
            got[k].append(sessions[k].run(xs[k]))

    threads = [threading.Thread(target=drive, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(2):
        assert len(got[k]) == 25
        for out in got[k]:
            for name in want[k]:
                assert out[name].tobytes() == want[k][name].tobytes()


@needs_gpu
def test_cuda_session_profiling_is_refused_with_a_typed_error():
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    with pytest.raises(UnsupportedEngineError, match="CUDA Graph"):
        engine.session(device="cuda").profile(True)


@needs_gpu
def test_cuda_session_reset_then_run_matches_a_new_session():
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    s = engine.session(device="cuda")
    x = _inputs(engine, 3)
    first = s.run(x)
    s.run(_inputs(engine, 4))
    s.reset()
    again = s.run(x)
    for name in first:
        assert again[name].tobytes() == first[name].tobytes()
