"""Mirror augmentation (training/data/mirror.py): the camera pairing is geometry (a point and its mirror image
land on mirrored pixels), targets change sign where a mirror changes them, and mirroring twice is the identity."""
import dataclasses

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from wayvert import schema
from wayvert.sensors import camera_models, shipped_rig
from wayvert.training.config import ConfigError, load_config
from wayvert.training.data.mirror import mirror_batch, mirror_permutation

CANONICAL = shipped_rig(schema.CANONICAL_RIG)


def _batch(b=5, seed=0, history=2):
    g = torch.Generator().manual_seed(seed)
    v = len(CANONICAL.cameras)
    cmd = torch.nn.functional.one_hot(torch.randint(0, len(schema.COMMANDS), (b,), generator=g),
                                      len(schema.COMMANDS)).float()
    return {"image": torch.randint(0, 256, (b, v, 3, 4, 6), generator=g, dtype=torch.uint8),
            "history": torch.randint(0, 256, (b, history, v, 3, 4, 6), generator=g, dtype=torch.uint8),
            "ego": torch.randn(b, 2, generator=g), "command": cmd,
            "trajectory": torch.randn(b, schema.N_WAYPOINTS, len(schema.WAYPOINT_FIELDS), generator=g),
            "curvature": torch.randn(b, generator=g), "target_speed": torch.rand(b, generator=g),
            "lead_distance": torch.rand(b, generator=g) * 80, "scenario": torch.randint(0, 5, (b,), generator=g),
            "index": torch.arange(b)}


def test_canonical_rig_pairs_left_and_right_cameras():
    names = [c.name for c in CANONICAL.cameras]
    perm = mirror_permutation(CANONICAL)
    assert sorted(perm) == list(range(len(names)))
    for i, j in enumerate(perm):
        a, b = names[i], names[j]
        assert a.replace("left", "X").replace("right", "left").replace("X", "right") == b


@settings(max_examples=60, deadline=None)
@given(x=st.floats(2.0, 60.0), y=st.floats(-20.0, 20.0), z=st.floats(-1.0, 3.0))
def test_a_point_and_its_mirror_land_on_mirrored_pixels(x, y, z):
    """Slot i of a mirrored frame set is camera perm[i]'s image flipped: what camera i would see of the mirrored
    world at column u, camera perm[i] sees of the real world at column width - 1 - u."""
    perm = mirror_permutation(CANONICAL)
    for i, cam in enumerate(CANONICAL.cameras):
        other = CANONICAL.cameras[perm[i]]

        def pixel(c, p):
            r = c.extrinsics.R_vehicle_from_optical.T @ (np.asarray(p) - np.asarray(c.extrinsics.translation_m))
            uv, ok = camera_models.project(c.model, r[None])
            return uv[0], bool(ok[0]) and r[2] > 0.1

        uv_m, ok_m = pixel(cam, (x, -y, z))
        uv, ok = pixel(other, (x, y, z))
        assert ok == ok_m
        if ok:
            assert uv[0] == pytest.approx(cam.width - 1 - uv_m[0], abs=1e-6)
            assert uv[1] == pytest.approx(uv_m[1], abs=1e-6)


def test_a_rig_without_mirror_pairs_is_refused():
    cams = list(CANONICAL.cameras)
    left = cams[-1]
    ext = dataclasses.replace(left.extrinsics, rotation_rpy_rad=(0.0, 0.0, 0.7))
    rig = dataclasses.replace(CANONICAL, cameras=(*cams[:-1], dataclasses.replace(left, extrinsics=ext)))
    with pytest.raises(ValueError, match="no mirror camera"):
        mirror_permutation(rig)


def test_brown_conrady_p2_changes_sign_in_the_mirror_camera():
    cams = list(CANONICAL.cameras)
    right, front, left = cams
    with_p2 = lambda c, p2: dataclasses.replace(c, model=dataclasses.replace(c.model, coeffs=(0.0, 0.0, 0.0, p2, 0.0)))  # noqa: E731
    good = dataclasses.replace(CANONICAL, cameras=(with_p2(right, 0.01), with_p2(front, 0.0), with_p2(left, -0.01)))
    assert mirror_permutation(good) == [2, 1, 0]
    bad = dataclasses.replace(CANONICAL, cameras=(with_p2(right, 0.01), with_p2(front, 0.0), with_p2(left, 0.01)))
    with pytest.raises(ValueError, match="no mirror camera"):
        mirror_permutation(bad)


def test_mirrored_targets_and_inputs():
    batch = _batch()
    which = torch.tensor([True, False, True, False, True])
    out = mirror_batch(batch, mirror_permutation(CANONICAL), which)
    m = which
    assert torch.equal(out["image"][m], batch["image"][m].flip(1).flip(-1))       # canonical perm is a reversal
    assert torch.equal(out["history"][m], batch["history"][m].flip(2).flip(-1))
    assert torch.equal(out["image"][~m], batch["image"][~m])
    assert torch.equal(out["ego"][m, 0], batch["ego"][m, 0]) and torch.equal(out["ego"][m, 1], -batch["ego"][m, 1])
    y, h = schema.WAYPOINT_FIELDS.index("y"), schema.WAYPOINT_FIELDS.index("heading")
    assert torch.equal(out["trajectory"][m][..., y], -batch["trajectory"][m][..., y])
    assert torch.equal(out["trajectory"][m][..., h], -batch["trajectory"][m][..., h])
    assert torch.equal(out["trajectory"][..., 0], batch["trajectory"][..., 0])
    assert torch.equal(out["curvature"][m], -batch["curvature"][m])
    left, right = schema.command_index("left"), schema.command_index("right")
    assert torch.equal(out["command"][m][:, left], batch["command"][m][:, right])
    assert torch.equal(out["command"][m][:, right], batch["command"][m][:, left])
    for key in ("target_speed", "lead_distance", "scenario", "index"):
        assert torch.equal(out[key], batch[key])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), mask=st.lists(st.booleans(), min_size=5, max_size=5))
def test_mirroring_twice_is_the_identity(seed, mask):
    batch = _batch(seed=seed)
    which = torch.tensor(mask)
    perm = mirror_permutation(CANONICAL)
    twice = mirror_batch(mirror_batch(batch, perm, which), perm, which)
    for key, value in batch.items():
        assert torch.equal(twice[key], value), key


@pytest.mark.parametrize("overrides, message", [
    (["data.mirror=1.5"], "data.mirror is the share"),
    (["data.mirror=-0.1"], "data.mirror is the share"),
])
def test_mirror_config_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)


def test_mirror_is_refused_with_distillation(tmp_path):
    from wayvert.training.run.loop import train
    cfg = load_config(None, ["data.mirror=0.5", f"out={tmp_path / 'o'}", "data.train=/nonexistent",
                                "distill.teacher=/nonexistent/t.pt"])
    with pytest.raises(ConfigError, match="data.mirror with distill"):
        train(cfg, distill=True, progress=False)
