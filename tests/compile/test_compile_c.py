"""docs/compile.md's path: an ONNX file -> ``wayvert compile`` -> the engine running from C (examples/c_api)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np


def test_compiled_onnx_engine_runs_from_c_as_from_python(byom, c_example, tmp_path):
    engine = tmp_path / "fusion.wvrt"
    r = subprocess.run([sys.executable, "-m", "wayvert.cli", "compile", str(byom["FusionNet.onnx"]), "-o", str(engine),
                        "--calibration", str(byom["FusionNet.npz"]), "--quiet"], capture_output=True, text=True,
                       timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    rng = np.random.default_rng(3)
    cam, state = rng.normal(size=(1, 3, 24, 24)).astype(np.float32), rng.normal(size=(1, 6)).astype(np.float32)
    (tmp_path / "cam.bin").write_bytes(cam.tobytes())
    (tmp_path / "state.bin").write_bytes(state.tobytes())
    proc = subprocess.run([str(c_example), str(engine), str(tmp_path / "cam.bin"), str(tmp_path / "state.bin")],
                          capture_output=True, text=True, check=True)
    from_c = {}
    for line in proc.stdout.strip().splitlines():
        head, values = line.split(":", 1)
        from_c[head.split(" ")[0]] = np.array([float(v) for v in values.split()], np.float32)
    import wayvert

    from_py = wayvert.Engine.load(engine).session().run({"cam": cam, "state": state})
    assert list(from_c) == ["steer", "speed"]
    for k in from_c:
        np.testing.assert_array_equal(from_c[k], from_py[k].ravel())   # %.9g round-trips float32
