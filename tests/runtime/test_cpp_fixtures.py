"""The engines the C++ tests read (cpp/tests/data) are what today's writer produces and what Python computes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import wayvert

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "cpp" / "tests" / "data"
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))

from make_cpp_fixtures import fixtures  # noqa: E402


def test_integer_only_fixture_is_byte_identical_to_the_writer() -> None:
    # conv_relu_linear depends on integer rng draws and the writer only, so any byte drift is a format change.
    for name, data in fixtures().items():
        if name.startswith("conv_relu_linear"):
            assert (DATA / name).read_bytes() == data, f"{name} is stale: run tests/fixtures/make_cpp_fixtures.py"


def test_committed_engines_reproduce_their_expected_outputs_in_python() -> None:
    for engine_file in DATA.glob("*.wvrt"):
        stem = engine_file.stem
        engine = wayvert.Engine.load(engine_file)
        inputs = {s.name: np.frombuffer((DATA / f"{stem}.in.{s.name}.bin").read_bytes(), dtype=s.dtype).reshape(s.shape)
                  for s in engine.inputs}
        out = engine.session().run(inputs)
        for s in engine.outputs:
            want = np.frombuffer((DATA / f"{stem}.out.{s.name}.bin").read_bytes(), dtype=s.dtype).reshape(s.shape)
            np.testing.assert_array_equal(out[s.name], want, err_msg=f"{stem}:{s.name}")
