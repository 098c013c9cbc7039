"""The C example builds against the installed CMake package and prints what the Python API returns."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

import wayvert
from wayvert.build import sample_nets

def _parse(stdout: str) -> dict[str, np.ndarray]:
    out = {}
    for line in stdout.strip().splitlines():
        head, values = line.split(":", 1)
        name, dtype, _shape = head.split(" ", 2)
        out[name] = np.array([float(v) for v in values.split()], dtype=np.float64 if dtype == "float32" else np.int64)
    return out


def test_c_example_prints_the_same_outputs_as_python(c_example: Path, tmp_path: Path) -> None:
    builder = sample_nets.conv_relu_linear(seed=3)
    engine_path = tmp_path / "net.wvrt"
    builder.write(engine_path)
    x = np.random.default_rng(0).integers(-128, 128, size=(1, 3, 16, 16)).astype(np.int8)
    (tmp_path / "image.bin").write_bytes(x.tobytes())
    proc = subprocess.run([str(c_example), str(engine_path), str(tmp_path / "image.bin")], check=True, capture_output=True, text=True)
    from_c = _parse(proc.stdout)
    from_py = wayvert.Engine.load(engine_path).session().run({"image": x})
    assert set(from_c) == set(from_py) == {"fc", "logits"}
    np.testing.assert_array_equal(from_c["fc"], from_py["fc"].ravel().astype(np.int64))
    # %.9g round-trips float32 exactly
    np.testing.assert_array_equal(from_c["logits"].astype(np.float32), from_py["logits"].ravel())


def test_c_example_reports_a_bad_engine_with_status_and_message(c_example: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.wvrt"
    bad.write_bytes(b"WAYVERT\x00" + b"\x00" * 10)
    proc = subprocess.run([str(c_example), str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "WV_ERR_ENGINE_FORMAT" in proc.stderr and "truncated" in proc.stderr
