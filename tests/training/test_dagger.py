"""DAgger (training/data/dagger.py): the deployed engine drives, the expert labels the states it reaches; each
fork episode is one training sample whose history is the engine's and whose future is the expert's."""
import copy
import json
from pathlib import Path

import numpy as np
import pytest

from wayvert import schema
from wayvert.closed_loop.loop import world_for
from wayvert.episodes.reader import Episode, find_episodes
from wayvert.errors import InvalidArgumentError
from wayvert.training.data import dagger
from wayvert.training.data.dataset import EpisodeDataset
from wayvert.training.data.targets import episode_targets

REFERENCE = str(Path(__file__).resolve().parents[2] / "wayvert" / "data" / "reference.wvrt")


def test_expert_fork_leaves_the_world_alone_and_covers_the_horizon():
    w = world_for(31000)
    for _ in range(7):
        w.step(schema.FRAME_DT_S, ego_action=(0.0, 0.08))    # a policy steering off the lane centre
    before = (copy.copy(w.ego), w.t, w.ego_lane, [(a.s, a.d, a.v) for a in w.traffic])
    rows = dagger.expert_fork(w)
    assert (copy.copy(w.ego), w.t, w.ego_lane, [(a.s, a.d, a.v) for a in w.traffic]) == before
    ticks = int(round(schema.HORIZON_S / schema.FRAME_DT_S))
    assert len(rows) == ticks + 1
    assert rows[0][0] == pytest.approx(w.t) and rows[-1][0] == pytest.approx(w.t + schema.HORIZON_S)
    assert (rows[0][1].x, rows[0][1].y) == (w.ego.x, w.ego.y)
    # the expert steers back towards the lane centre the policy left
    lane = w.road.lanes[w.ego_lane]
    from wayvert.sim.road import frenet
    off0 = abs(frenet(lane, rows[0][1].x, rows[0][1].y, rows[0][1].yaw)[1])
    off_end = abs(frenet(lane, rows[-1][1].x, rows[-1][1].y, rows[-1][1].yaw)[1])
    assert off0 > 0.1 and off_end < off0


def test_a_fork_taken_during_the_experts_lane_change_settles_into_the_lane_the_car_is_in():
    """The fork's expert keeps to the lane the car is in now: a lane change the world's expert had begun does not
    carry over, or the label would steer along a quintic aimed at a lane the car is not heading for."""
    w = world_for(31000)
    w.step(schema.FRAME_DT_S)
    w.lane_change_from, w.last_lane_change = 3.5, w.t   # as if the expert had just begun a change from 3.5 m
    rows = dagger.expert_fork(w)
    assert w.lane_change_from == 3.5                      # the world itself is left alone
    lane = w.road.lanes[w.ego_lane]
    from wayvert.sim.road import frenet
    assert max(abs(frenet(lane, r[1].x, r[1].y, r[1].yaw)[1]) for r in rows) < 0.5


@pytest.fixture(scope="module")
def round_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("dagger")
    summary = dagger.collect(REFERENCE, out, routes=1, round_=1, frames=11, workers=1, progress=False)
    return out, summary


def test_a_round_writes_one_fork_episode_per_labelled_state(round_dir):
    out, summary = round_dir
    assert summary["episodes"] == 3 and summary["routes"][0]["ticks"] == 11          # ticks 0, 5, 10
    eps = find_episodes(out)
    assert [p.name for p in eps] == [f"fork_r1_{dagger.DAGGER_SEED0 + 1000:06d}_{k:04d}" for k in (0, 5, 10)]
    ds = EpisodeDataset(out)
    assert len(ds) == 3                                                              # one sample per fork episode
    for p in eps:
        ep = Episode(p)
        meta = json.loads((p / "episode.json").read_text())
        assert meta["dagger"]["round"] == 1 and meta["frame_count"] == min(1 + meta["dagger"]["tick"] // 5, 2)
        t = episode_targets(ep.ego, ep.frames)
        assert list(t.frame) == [ep.frames.t_s.size - 1]                             # only the last frame set
        assert ep.ego.t_s[0] == pytest.approx(ep.frames.t_s[-1])                      # the log starts at the fork
        assert ep.ego.t_s[-1] == pytest.approx(ep.frames.t_s[-1] + schema.HORIZON_S)


def test_the_label_is_the_experts_drive_from_the_state_the_engine_reached(round_dir):
    """Re-drive route and engine to tick 10 (the loop is deterministic), fork the expert there by hand: the
    sample's trajectory target is that drive, in the ego frame."""
    from wayvert.closed_loop.loop import drive
    from wayvert.closed_loop.planners import EnginePlanner
    from wayvert.engine import Engine
    from wayvert.sensors import shipped_rig

    out, _ = round_dir
    seen = {}

    def grab(world, rec):
        seen[round(world.t, 6)] = (copy.deepcopy(world), dict(planner.last_frames))

    planner = EnginePlanner(Engine.load(REFERENCE), shipped_rig(schema.CANONICAL_RIG))
    drive(planner, dagger.DAGGER_SEED0 + 1000, 11, on_frame=grab)
    world, frames = seen[1.0]
    rows = dagger.expert_fork(world)
    e0, e4 = rows[0][1], rows[-1][1]
    c, s = np.cos(e0.yaw), np.sin(e0.yaw)
    dx, dy = e4.x - e0.x, e4.y - e0.y
    ep = Episode(find_episodes(out)[-1])
    t = episode_targets(ep.ego, ep.frames)
    np.testing.assert_allclose(t.trajectory[0, -1, :2], [c * dx + s * dy, -s * dx + c * dy], atol=1e-3)
    for cam, img in frames.items():                                                 # the engine's own frames
        np.testing.assert_array_equal(ep.camera(cam)[-1], img)


def test_bad_arguments_are_typed_errors(tmp_path):
    with pytest.raises(InvalidArgumentError, match="routes >= 1"):
        dagger.collect(REFERENCE, tmp_path, routes=0, progress=False)
    with pytest.raises(InvalidArgumentError, match="no engine file"):
        dagger.collect(str(tmp_path / "missing.wvrt"), tmp_path, routes=1, progress=False)
