"""A student with a scenario branch lowers to the int8 runtime, and calibrated on the same data its driving outputs
are bit-identical to the student's without the branch (the shipped engine swaps its scenario head only)."""
from __future__ import annotations

import numpy as np
import torch

import wayvert
from wayvert.calibration import lower_student, run_engine
from wayvert.calibration.sqnr import sqnr_db
from wayvert.training.models import Student

from conftest import CAMERAS, HEIGHT, WIDTH

DRIVING = ("trajectories", "mode_logits", "target_speed", "curvature", "lead_distance")


def test_branch_engine_keeps_every_driving_output_and_computes_the_branch(student, calibration_batches,
                                                                           evaluation_batches):
    torch.manual_seed(3)
    branched = Student(cameras=CAMERAS, height=HEIGHT, width=WIDTH, hidden=64, scenario_branch=True).eval()
    missing, unexpected = branched.load_state_dict(student.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith("scenario_branch.") for k in missing)
    plain_engine = wayvert.Engine.from_bytes(lower_student(student, calibration_batches, "entropy")[0].to_bytes())
    branch_engine = wayvert.Engine.from_bytes(lower_student(branched, calibration_batches, "entropy")[0].to_bytes())
    image, ego, command = evaluation_batches[0]
    a, b = run_engine(plain_engine, image, ego, command), run_engine(branch_engine, image, ego, command)
    for key in DRIVING:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    with torch.no_grad():
        want = branched(image, ego, command)["scenario_logits"].numpy()
    got = b["scenario_logits"]
    assert sqnr_db(float(np.sum(want.astype(np.float64) ** 2)), float(np.sum((want - got) ** 2))) > 20.0
    assert not np.array_equal(a["scenario_logits"], got)
