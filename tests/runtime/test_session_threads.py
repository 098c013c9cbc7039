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
