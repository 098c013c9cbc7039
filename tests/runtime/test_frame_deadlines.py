"""Frame deadlines (docs/verifier.md section 8): a frame past its budget drives the previous verified plan advanced
in time while it covers the minimum horizon, else the minimum-risk fallback; replays flag and count such frames,
tested with an injected slow stage."""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wayvert
from wayvert.control.deadline import FrameDeadline, advance_trajectory, budget_of
from wayvert.replay import replay_episode, summarize
from wayvert.safety import EgoState, Verifier


def _straight(speed: float = 10.0, horizon: float = 3.0, dt: float = 0.5) -> np.ndarray:
    t = np.arange(0.0, horizon + 1e-6, dt, dtype=np.float32)
    return np.stack([t, speed * t, 0 * t, 0 * t, speed + 0 * t], axis=1)


def test_a_held_plan_starts_now_in_the_frame_of_now():
    held = advance_trajectory(_straight(), 0.25, (2.5, 0.0, 0.0))
    assert held is not None
    np.testing.assert_allclose(held[0], [0.0, 0.0, 0.0, 0.0, 10.0], atol=1e-5)   # interpolated at t = 0, here
    np.testing.assert_allclose(held[1], [0.25, 2.5, 0.0, 0.0, 10.0], atol=1e-5)
    assert advance_trajectory(_straight(), 2.5) is None                           # 0.5 s left < 1 s horizon


@settings(max_examples=50, deadline=None)
@given(elapsed=st.floats(0.0, 1.9), dx=st.floats(-5, 5), dy=st.floats(-5, 5), dyaw=st.floats(-1, 1))
def test_a_held_plan_is_the_same_path_seen_from_the_new_pose(elapsed, dx, dy, dyaw):
    """Moving each held point back by the pose change gives the original path's points (a rigid motion)."""
    traj = _straight()
    traj[:, 2] = 0.1 * traj[:, 1] ** 1.2        # a curve
    held = advance_trajectory(traj, elapsed, (dx, dy, dyaw), min_horizon_s=0.5)
    assert held is not None and held[0, 0] == 0.0 and np.all(np.diff(held[:, 0]) > 0)
    c, s = math.cos(dyaw), math.sin(dyaw)
    back_x = c * held[:, 1] - s * held[:, 2] + dx
    back_y = s * held[:, 1] + c * held[:, 2] + dy
    for t, x, y in zip(held[1:, 0] + elapsed, back_x[1:], back_y[1:]):
        k = int(np.argmin(np.abs(traj[:, 0] - t)))
        assert abs(traj[k, 0] - t) < 1e-4 and abs(traj[k, 1] - x) < 1e-3 and abs(traj[k, 2] - y) < 1e-3


def test_fresh_then_held_then_fallback():
    d = FrameDeadline(Verifier(), budget_s=0.1, min_horizon_s=1.0)
    ego = EgoState(speed=10.0)
    assert d.decide(0.0, 0.02, _straight(), ego).source == "fresh"
    held = d.decide(0.5, 0.30, _straight() * 0, ego)        # past the budget: its own (garbage) plan is not used
    assert held.source == "held" and held.overrun and held.trajectory[-1, 0] == pytest.approx(2.5)
    late = d.decide(2.2, 0.30, None, ego)                    # the held plan covers 0.8 s < 1 s: fall back
    assert late.source == "fallback" and late.trajectory[0, 4] == pytest.approx(10.0)
    assert late.trajectory[-1, 4] < 10.0                     # braking
    assert d.counts == {"fresh": 1, "held": 1, "fallback": 1, "overrun": 2}


def test_budget_comes_from_the_profile():
    assert budget_of({"profile": {"frame_rate_hz": 20.0}}) == pytest.approx(0.05)
    assert budget_of({}) == pytest.approx(0.1)
    with pytest.raises(wayvert.InputError):
        FrameDeadline(Verifier(), budget_s=0.0)


def test_bad_trajectory_shape_is_an_input_error():
    with pytest.raises(wayvert.InputError, match=r"\[T, 5\]"):
        advance_trajectory(np.zeros((4, 4)), 0.1)


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from wayvert.training.data import generate_episode

    return generate_episode(tmp_path_factory.mktemp("deadline") / "episode", seed=11, duration_s=2.0)


def test_replay_flags_a_slow_frame_and_drives_the_held_plan(episode):
    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    slow = {2}
    # a budget no normal frame comes near, even on a loaded machine, and a stage far past it
    records = list(replay_episode(engine, episode, budget_s=0.5,
                                  slow_stage=lambda i: time.sleep(0.7) if i in slow else None))
    assert [r["deadline"]["overrun"] for r in records] == [r["frame"] in slow for r in records]
    assert [r["deadline"]["driven"] for r in records] == ["held" if r["frame"] in slow else "fresh" for r in records]
    assert all(("deadline_overrun" in r["degraded_reasons"]) == (r["frame"] in slow) for r in records)
    s = summarize(records)
    assert s["deadline_overruns"] == 1 and s["driven"] == {"fresh": len(records) - 1, "held": 1, "fallback": 0}


def test_closed_loop_drives_held_plans_and_the_fallback_when_every_frame_is_late():
    """A budget no frame can meet: no plan is ever verified in time, so there is none to hold and every frame drives
    the minimum-risk fallback (a late frame's own plan is never used)."""
    from wayvert.closed_loop import EnginePlanner, drive
    from wayvert.sensors import shipped_rig

    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    verifier = Verifier()
    log = drive(EnginePlanner(engine, shipped_rig("canonical_3cam")), 70002, 12, verifier=verifier,
                deadline=FrameDeadline(verifier, budget_s=1e-9))
    driven = [f.driven for f in log.frames]
    assert all(f.overrun for f in log.frames) and driven == ["fallback"] * len(driven)
    speeds = [s[0] for s in log.states]
    assert speeds[-1] < speeds[0]                  # braking


def test_closed_loop_with_a_generous_budget_drives_fresh_plans():
    from wayvert.closed_loop import EnginePlanner, drive
    from wayvert.sensors import shipped_rig

    engine = wayvert.Engine.load(wayvert.reference_engine_path())
    verifier = Verifier()
    log = drive(EnginePlanner(engine, shipped_rig("canonical_3cam")), 70002, 5, verifier=verifier,
                deadline=FrameDeadline(verifier, budget_s=60.0))
    assert [f.driven for f in log.frames] == ["fresh"] * 5 and not any(f.overrun for f in log.frames)
