"""Shared helpers for the runtime tests: build a graph, run it in C++ and in the numpy reference."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import numpy.typing as npt
import pytest

import wayvert
from wayvert import reference
from wayvert.build import EngineBuilder


def engine_of(b: EngineBuilder) -> wayvert.Engine:
    """Serialise the builder's graph and load it back as a runtime Engine."""
    return wayvert.Engine.from_bytes(b.to_bytes())


def run_engine(b: EngineBuilder, inputs: Mapping[str, npt.ArrayLike]) -> dict[str, npt.NDArray[Any]]:
    """Outputs of the C++ runtime for ``inputs``."""
    return engine_of(b).session().run(inputs)


def run_both(b: EngineBuilder, inputs: Mapping[str, npt.ArrayLike]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(C++ outputs, numpy reference outputs) of one graph on one set of inputs."""
    return run_engine(b, inputs), reference.run(b, inputs)


def describe_mismatch(got: npt.NDArray[Any], want: npt.NDArray[Any]) -> str:
    if got.shape != want.shape or got.dtype != want.dtype:
        return f"got {got.dtype}{list(got.shape)}, want {want.dtype}{list(want.shape)}"
    diff = np.argwhere(got != want)
    first = tuple(int(i) for i in diff[0]) if len(diff) else None
    return (f"{len(diff)} of {got.size} elements differ; first at {first}: got {got[first] if first else None}, "
            f"want {want[first] if first else None}")


def assert_bitexact(b: EngineBuilder, inputs: Mapping[str, npt.ArrayLike]) -> dict[str, Any]:
    """Every output of the C++ engine equals the reference bit for bit (same dtype, shape and values)."""
    got, want = run_both(b, inputs)
    assert list(got) == list(want)
    for name in want:
        g, w = np.asarray(got[name]), np.asarray(want[name])
        assert g.dtype == w.dtype and g.shape == w.shape, f"{name}: {describe_mismatch(g, w)}"
        assert np.array_equal(g.view(np.uint8) if g.dtype.kind == "f" else g,
                              w.view(np.uint8) if w.dtype.kind == "f" else w), f"{name}: {describe_mismatch(g, w)}"
    return got


def assert_close(b: EngineBuilder, inputs: Mapping[str, npt.ArrayLike], rtol: float = 1e-4,
                 atol: float = 1e-4) -> dict[str, Any]:
    """Float outputs match the reference within ``rtol`` and ``atol`` scaled by the output's magnitude."""
    got, want = run_both(b, inputs)
    for name in want:
        g, w = np.asarray(got[name]), np.asarray(want[name])
        assert g.dtype == w.dtype and g.shape == w.shape, f"{name}: {describe_mismatch(g, w)}"
        mag = max(1.0, float(np.max(np.abs(w)))) if w.size else 1.0
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol * mag, err_msg=name)
    return got


def int8_array(rng: np.random.Generator, shape: tuple[int, ...], extremes: float = 0.1) -> npt.NDArray[np.int8]:
    """Uniform int8 values with a share ``extremes`` of them forced to -128 or 127."""
    a = rng.integers(-128, 128, size=shape)
    mask = rng.random(shape) < extremes
    a = np.where(mask, rng.choice(np.array([-128, 127]), size=shape), a)
    return a.astype(np.int8)


class Kit:
    """The helpers above, handed to tests through the session-scoped ``kit`` fixture (hypothesis-friendly)."""

    engine_of = staticmethod(engine_of)
    run_engine = staticmethod(run_engine)
    run_both = staticmethod(run_both)
    assert_bitexact = staticmethod(assert_bitexact)
    assert_close = staticmethod(assert_close)
    int8_array = staticmethod(int8_array)
    describe_mismatch = staticmethod(describe_mismatch)


@pytest.fixture(scope="session")
def kit() -> type[Kit]:
    return Kit


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
