"""Intra-op threads: Engine.session(threads=N) gives the same bytes for every N, and bad N is a typed error."""

from __future__ import annotations

import numpy as np
import pytest

import wayvert
from wayvert.errors import InvalidArgumentError, WayvertError


def _inputs(engine: wayvert.Engine, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for spec in engine.inputs:
        if spec.dtype == "int8":
            out[spec.name] = rng.integers(-128, 128, spec.shape).astype(np.int8)
        else:
            out[spec.name] = rng.standard_normal(spec.shape).astype(spec.dtype)
    return out


def test_reference_engine_outputs_are_bit_identical_for_every_thread_count():
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    inputs = [_inputs(engine, seed) for seed in range(3)]
    single = engine.session(threads=1)
    want = [single.run(x) for x in inputs]
    for threads in (2, 3, 4, 8):
        session = engine.session(threads=threads)
        assert session.threads == threads
        for x, w in zip(inputs, want):
            got = session.run(x)
            for name in w:
                assert got[name].tobytes() == w[name].tobytes(), f"{name} differs at {threads} threads"


def test_default_session_runs_on_one_thread():
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    assert engine.session().threads == 1


@pytest.mark.parametrize("threads", [0, -2, 65, 10**6])
def test_out_of_range_threads_raise_invalid_argument(threads):
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    with pytest.raises(InvalidArgumentError, match="threads"):
        engine.session(threads=threads)


@pytest.mark.parametrize("threads", [1.5, "2", None, True])
def test_non_integer_threads_raise_invalid_argument(threads):
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    with pytest.raises(WayvertError, match="threads"):
        engine.session(threads=threads)


def test_packed_weights_are_held_once_per_engine():
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    packed = engine.packed_weight_bytes
    assert packed > 0
    engine.session(threads=2)
    engine.session()
    assert engine.packed_weight_bytes == packed


def test_profile_times_every_op_of_the_runs_that_follow():
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    session = engine.session(threads=2)
    x = _inputs(engine, 0)
    session.run(x)
    want = session.run(x)   # from the second run of x on, recurrent state (the previous frame set) is x's too
    assert all(t.runs == 0 and t.total_ms == 0 for t in session.op_times())  # off by default
    session.profile()
    for _ in range(4):
        got = session.run(x)
    times = session.op_times()
    assert [t.op for t in times] == engine.op_types
    assert all(t.runs == 4 and t.total_ms >= 0 for t in times)
    assert sum(t.total_ms for t in times) > 0
    convs = [t for t in times if t.op == "conv2d"]
    assert convs and max(t.mean_ms for t in convs) > 0
    assert all(got[k].tobytes() == want[k].tobytes() for k in want)  # profiling changes no result
    session.profile(False)
    session.run(x)
    assert all(t.runs == 0 for t in session.op_times())
