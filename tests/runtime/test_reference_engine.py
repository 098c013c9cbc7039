"""The shipped reference engine loads without PyTorch, says how it was made, and runs on the canonical tensor."""
import subprocess
import sys

import numpy as np

import wayvert


def test_reference_engine_is_shipped_gated_and_runs():
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    meta = engine.meta
    assert meta["quantization"]["calibration"]["method"] == "entropy"
    acc = meta["accuracy"]
    assert acc["passed"] and acc["ade_engine"] <= acc["ade_fp32"] * (1 + acc["ade_tolerance"])
    assert meta["profile"]["name"] == "orin-class-75w" and meta["profile"]["meets_latency"]
    assert meta["profile"]["meets_power"] and not meta["profile"]["allow_over_budget"]
    rig = wayvert.Rig.from_dict(meta["canonical_rig"])
    image = next(s for s in engine.inputs if s.name == "image")
    assert image.shape == (len(rig.cameras), 3, rig.cameras[0].height, rig.cameras[0].width)
    feed = {s.name: np.zeros(s.shape, s.dtype) for s in engine.inputs}
    feed["ego"][:] = [10.0, 0.0]
    feed["command"][0, 0] = 1.0
    out = engine.session().run(feed)
    traj = out["trajectories"]
    assert traj.shape[-1] == 4 and np.isfinite(traj).all()
    assert (traj[0, :, -1, 0] > 0).all()          # every mode goes forward at 10 m/s


def test_reference_engine_needs_no_torch():
    code = ("import sys, numpy as np, wayvert; e = wayvert.Engine.load(wayvert.reference_engine_path()); "
            "e.session().run({s.name: np.zeros(s.shape, s.dtype) for s in e.inputs}); "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd="/")
