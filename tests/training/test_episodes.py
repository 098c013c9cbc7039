"""Episode format (training/data): writer -> reader round trip, validation errors, targets, the generator."""
import json
import shutil
import tarfile

import numpy as np
import pytest

from wayvert import schema
from wayvert.episodes import EpisodeError, EpisodeWriter, open_episode, pack_tar
from wayvert.episodes.npy_stream import NpyAppender
from wayvert.episodes.reader import EgoLog, FrameTable
from wayvert.errors import InputError, WayvertError
from wayvert.sensors import shipped_rig
from wayvert.sensors.rig import Rig
from wayvert.training.data import episode_targets, future_trajectory, generate_episode, sample_frames

CANONICAL = shipped_rig(schema.CANONICAL_RIG)
SMALL_RIG = Rig.from_dict({"name": "small_2cam", "cameras": [
    {"name": "front", "width": 16, "height": 8, "pixel_format": "rgb8", "fps": 10,
     "model": {"type": "pinhole", "fx": 14.0, "fy": 14.0, "cx": 7.5, "cy": 3.5},
     "extrinsics": {"translation_m": [1.5, 0.0, 1.5], "rotation_rpy_rad": [0.0, 0.0, 0.0]}},
    {"name": "rear", "width": 16, "height": 8, "pixel_format": "nv12", "fps": 10,
     "model": {"type": "pinhole", "fx": 14.0, "fy": 14.0, "cx": 7.5, "cy": 3.5},
     "extrinsics": {"translation_m": [0.0, 0.0, 1.5], "rotation_rpy_rad": [0.0, 0.0, 3.14159]}}]})
SHAPES = {"front": (8, 16, 3), "rear": (12, 16)}


def write_small(path, n_frames=3, ego_rows=60, rng_seed=0):
    """A small valid episode: ego at 10 Hz, frames at 2 Hz with labels and objects; returns what was written."""
    rng = np.random.default_rng(rng_seed)
    states = rng.normal(size=(ego_rows, 7))
    frames = [{n: rng.integers(0, 256, SHAPES[n], dtype=np.uint8) for n in SHAPES} for _ in range(n_frames)]
    objects = [rng.normal(size=(k, 7)) for k in range(n_frames)]
    with EpisodeWriter(path, SMALL_RIG, episode_id="ep1", source="test", weather="rain", lighting="day",
                       bad_dreams=True, extra={"note": "hand made"}) as w:
        for i in range(ego_rows):
            w.add_ego(round(0.1 * i, 9), states[i], "straight" if i % 7 == 0 else "follow")
        for k in range(n_frames):
            w.add_frames(0.5 * k, frames[k], scenario=schema.SCENARIOS[k % 5], lead_gap=10.0 + k,
                         objects=objects[k])
    return states, frames, objects


def test_writer_reader_round_trip_is_bit_exact(tmp_path):
    states, frames, objects = write_small(tmp_path / "ep")
    ep = open_episode(tmp_path / "ep")
    assert len(ep) == 3 and ep.camera_names == ("front", "rear")
    assert ep.meta["id"] == "ep1" and ep.meta["weather"] == "rain" and ep.meta["bad_dreams"] is True
    assert ep.meta["traffic_side"] == "right" and ep.meta["note"] == "hand made" and ep.rig == SMALL_RIG
    got = np.stack([ep.ego.x_m, ep.ego.y_m, ep.ego.yaw_rad, ep.ego.speed_mps, ep.ego.accel_mps2,
                    ep.ego.yaw_rate_rps, ep.ego.steering_rad], 1)
    assert got.tobytes() == states.tobytes()
    assert ep.ego.t_s.tolist() == [round(0.1 * i, 9) for i in range(60)]
    assert ep.ego.command[0] == schema.command_index("straight") and ep.ego.command[1] == 0
    assert ep.frames.t_s.tolist() == [0.0, 0.5, 1.0]
    assert ep.frames.scenario.tolist() == [0, 1, 2] and ep.frames.lead_gap_m.tolist() == [10.0, 11.0, 12.0]
    for k in range(3):
        for name in SHAPES:
            assert ep.frame_set(k)[name].tobytes() == frames[k][name].tobytes()
        assert ep.objects(k).tobytes() == objects[k].tobytes()
    assert isinstance(ep.camera("front"), np.memmap)


def test_tar_episode_is_read_in_place(tmp_path):
    _, frames, _ = write_small(tmp_path / "ep")
    tar = pack_tar(tmp_path / "ep")
    shutil.rmtree(tmp_path / "ep")
    ep = open_episode(tar)
    assert isinstance(ep.camera("rear"), np.memmap) and str(ep.camera("rear").filename) == str(tar)
    assert ep.frame_set(2)["rear"].tobytes() == frames[2]["rear"].tobytes()
    assert ep.meta["id"] == "ep1" and ep.objects(1).shape == (1, 7)


def test_compressed_tar_is_refused(tmp_path):
    write_small(tmp_path / "ep")
    with tarfile.open(tmp_path / "ep.tar.gz", "w:gz") as tf:
        tf.add(tmp_path / "ep", arcname="ep")
    with pytest.raises(EpisodeError, match="uncompressed"):
        open_episode(tmp_path / "ep.tar.gz")


def test_episode_error_is_a_wayvert_input_error():
    assert issubclass(EpisodeError, InputError) and issubclass(EpisodeError, WayvertError)


def _edit(path, name, fn):
    p = path / name
    p.write_text(fn(p.read_text()))


def _set_cell(path, line, column, value):
    rows = [r.split(",") for r in path.read_text().splitlines()]
    rows[line - 1][rows[0].index(column)] = value
    path.write_text("\n".join(",".join(r) for r in rows) + "\n")


def _break_meta(key, value):
    def fn(text):
        d = json.loads(text)
        d[key] = value
        return json.dumps(d)
    return fn


MALFORMED = {
    "missing ego.csv": (lambda p: (p / "ego.csv").unlink(), "missing file ego.csv"),
    "missing camera file": (lambda p: (p / "cameras/rear.npy").unlink(), "missing file cameras/rear.npy"),
    "camera dtype": (lambda p: np.save(p / "cameras/front.npy", np.zeros((3, 8, 16, 3), np.float32)),
                     "front.npy: dtype must be uint8"),
    "camera shape": (lambda p: np.save(p / "cameras/rear.npy", np.zeros((3, 8, 16), np.uint8)),
                     r"rear.npy: shape must be \[3, 12, 16\]"),
    "camera frame count": (lambda p: np.save(p / "cameras/front.npy", np.zeros((2, 8, 16, 3), np.uint8)),
                           r"front.npy: shape must be \[3, 8, 16, 3\]"),
    "ego time goes back": (lambda p: _edit(p, "ego.csv", lambda t: t.replace("\n0.3,", "\n0.05,", 1)),
                           "ego.csv: line 5, column t_s: timestamps must increase strictly"),
    "frame time goes back": (lambda p: _edit(p, "frames.csv", lambda t: t.replace("\n2,1.0,", "\n2,0.4,")),
                             "frames.csv: line 4, column t_s: timestamps must increase strictly"),
    "nan in ego.csv": (lambda p: _set_cell(p / "ego.csv", 4, "x_m", "nan"),
                       "ego.csv: line 4, column x_m: nan is not finite"),
    "unknown command": (lambda p: _edit(p, "ego.csv", lambda t: t.replace(",follow\n", ",fly\n", 1)),
                        "ego.csv: line 3, column command: unknown value 'fly'"),
    "unknown scenario": (lambda p: _edit(p, "frames.csv", lambda t: t.replace("following", "parking")),
                         "frames.csv: line 3, column scenario: unknown value 'parking'"),
    "frame count mismatch": (lambda p: _edit(p, "episode.json", _break_meta("frame_count", 4)),
                             "frames.csv: 3 frame rows but episode.json says frame_count 4"),
    "camera not in the rig": (lambda p: _edit(p, "episode.json", _break_meta("cameras", ["front", "side"])),
                              "differ from the cameras of rig.json"),
    "newer format version": (lambda p: _edit(p, "episode.json", _break_meta("version", 2)),
                             "format version 2 is not supported"),
    "bad traffic side": (lambda p: _edit(p, "episode.json", _break_meta("traffic_side", "middle")),
                         "'traffic_side' must be one of"),
    "rig name mismatch": (lambda p: _edit(p, "episode.json", _break_meta("rig", "other")),
                          "'rig' is 'other' but rig.json is rig 'small_2cam'"),
    "unfinished (no episode.json)": (lambda p: (p / "episode.json").unlink(), "missing file episode.json"),
    "bad json": (lambda p: _edit(p, "episode.json", lambda t: t[:-3]), "episode.json: line .*invalid JSON"),
    "missing ego column": (lambda p: _edit(p, "ego.csv", lambda t: t.replace("steering_rad", "steer")),
                           r"ego.csv: missing column\(s\) \['steering_rad'\]"),
    "bad rig": (lambda p: _edit(p, "rig.json", lambda t: t.replace('"width": 16', '"width": 0', 1)),
                r"rig.json: .*width"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_episode_raises_episode_error_naming_the_problem(tmp_path, case):
    write_small(tmp_path / "ep")
    breaker, message = MALFORMED[case]
    breaker(tmp_path / "ep")
    with pytest.raises(EpisodeError, match=message):
        open_episode(tmp_path / "ep")


def test_malformed_objects_raise_on_first_use(tmp_path):
    write_small(tmp_path / "ep")
    _edit(tmp_path / "ep", "objects.jsonl", lambda t: t.replace('{"index": 1, "objects": [[', '{"index": 1, "objects": [[1, '))
    ep = open_episode(tmp_path / "ep")
    with pytest.raises(EpisodeError, match="objects.jsonl: line 2: each object is a list of 7 finite numbers"):
        ep.objects(0)


def test_writer_rejects_bad_frames_times_and_commands(tmp_path):
    w = EpisodeWriter(tmp_path / "ep", SMALL_RIG, episode_id="x", source="test")
    good = {n: np.zeros(s, np.uint8) for n, s in SHAPES.items()}
    with pytest.raises(EpisodeError, match=r"rear.npy: frames must be uint8 \[12, 16\]"):
        w.add_frames(0.0, {**good, "rear": np.zeros((8, 16), np.uint8)})
    with pytest.raises(EpisodeError, match="exactly the rig's cameras"):
        w.add_frames(0.0, {"front": good["front"]})
    w.add_frames(0.0, good)
    with pytest.raises(EpisodeError, match="does not follow"):
        w.add_frames(0.0, good)
    w.add_ego(0.0, [0.0] * 7)
    with pytest.raises(EpisodeError, match="does not follow"):
        w.add_ego(0.0, [0.0] * 7)
    with pytest.raises(EpisodeError, match="not one of"):
        w.add_ego(0.1, [0.0] * 7, "reverse")
    with pytest.raises(EpisodeError, match="non-finite"):
        w.add_ego(0.2, [np.nan] + [0.0] * 6)
    w.close()
    assert len(open_episode(tmp_path / "ep")) == 1


def test_aborted_writer_leaves_an_unreadable_episode(tmp_path):
    with pytest.raises(RuntimeError):
        with EpisodeWriter(tmp_path / "ep", SMALL_RIG, episode_id="x", source="test") as w:
            w.add_ego(0.0, [0.0] * 7)
            raise RuntimeError("crash while recording")
    with pytest.raises(EpisodeError, match="missing file episode.json"):
        open_episode(tmp_path / "ep")


def test_npy_appender_header_holds_the_final_count(tmp_path):
    app = NpyAppender(tmp_path / "a.npy", (2, 3), np.uint8)
    rows = [np.full((2, 3), k, np.uint8) for k in range(5)]
    for r in rows:
        app.append(r)
    app.close()
    a = np.load(tmp_path / "a.npy")
    assert a.shape == (5, 2, 3) and (a == np.stack(rows)).all()
    assert np.load(tmp_path / "a.npy", mmap_mode="r").offset % 64 == 0


# ---- targets ---------------------------------------------------------------------------------------------

def _ego_log(t, x, y, yaw, speed, yaw_rate, command=None):
    z = np.zeros_like(t)
    return EgoLog(t, x, y, yaw, speed, z, yaw_rate, z, np.zeros(len(t), np.int64) if command is None else command)


def test_straight_line_at_constant_speed_gives_x_equal_v_t():
    t = np.round(np.arange(0, 101) * 0.1, 9)           # 10 s at 10 Hz
    v, yaw = 8.0, 0.7                                   # heading 0.7 rad in the world: the ego frame undoes it
    ego = _ego_log(t, 3.0 + v * t * np.cos(yaw), -2.0 + v * t * np.sin(yaw), np.full_like(t, yaw),
                   np.full_like(t, v), np.zeros_like(t))
    traj = future_trajectory(ego, np.array([1.0, 2.5]))
    wt = schema.waypoint_times()
    for k in range(2):
        np.testing.assert_allclose(traj[k, :, 0], v * wt, atol=1e-9)
        np.testing.assert_allclose(traj[k, :, 1:3], 0.0, atol=1e-9)
        np.testing.assert_allclose(traj[k, :, 3], v, atol=1e-12)
    assert traj.shape == (2, schema.N_WAYPOINTS, 4) and traj[0, -1, 0] == pytest.approx(32.0, abs=1e-9)


def test_constant_turn_gives_the_arc_and_its_curvature():
    t = np.round(np.arange(0, 101) * 0.1, 9)
    v, w = 10.0, 0.25                                    # radius 40 m, turning left
    R, yaw = v / w, 1.0 + w * t
    x0, y0 = 5.0 - R * np.sin(1.0), 7.0 + R * np.cos(1.0)   # centre of the circle
    yaw_wrapped = (yaw + np.pi) % (2 * np.pi) - np.pi        # the reader unwraps
    ego = _ego_log(t, x0 + R * np.sin(yaw), y0 - R * np.cos(yaw), yaw_wrapped, np.full_like(t, v), np.full_like(t, w))
    frames = FrameTable(np.array([0.0, 0.5, 6.0, 6.5]), np.array([1, -1, 2, 0]), np.array([12.0, np.nan, 200.0, 3.0]))
    tg = episode_targets(ego, frames)
    assert tg.frame.tolist() == [0, 1, 2]                  # 6.5 + 4 s is beyond the 10 s log
    wt = schema.waypoint_times()
    for k in range(3):
        np.testing.assert_allclose(tg.trajectory[k, :, 0], R * np.sin(w * wt), atol=1e-9)
        np.testing.assert_allclose(tg.trajectory[k, :, 1], R * (1 - np.cos(w * wt)), atol=1e-9)
        np.testing.assert_allclose(tg.trajectory[k, :, 2], w * wt, atol=1e-9)
    np.testing.assert_allclose(tg.trajectory[2, -1, :3], [40 * np.sin(1.0), 40 * (1 - np.cos(1.0)), 1.0], atol=1e-9)
    np.testing.assert_allclose(tg.curvature, w / v, atol=1e-12)
    np.testing.assert_allclose(tg.ego, [[v, w]] * 3)
    np.testing.assert_allclose(tg.target_speed, v)
    assert tg.has_lead_distance.tolist() == [True, False, True]
    assert tg.lead_distance.tolist() == [12.0, schema.LEAD_DISTANCE_CAP_M, schema.LEAD_DISTANCE_CAP_M]
    assert tg.has_scenario.tolist() == [True, False, True] and tg.scenario.tolist() == [1, 0, 2]


def test_aux_targets_follow_the_log_two_seconds_ahead():
    t = np.round(np.arange(0, 81) * 0.1, 9)
    speed = 5.0 + 0.5 * t                                # accelerating at 0.5 m/s^2
    yaw_rate = np.where(t < 3.0, 0.0, 0.1)
    command = np.where(t >= 1.05, 3, 0)                  # "straight" from t = 1.1 s
    x = 5.0 * t + 0.25 * t ** 2
    ego = _ego_log(t, x, np.zeros_like(t), np.zeros_like(t), speed, yaw_rate, command)
    tg = episode_targets(ego, FrameTable(np.array([0.0, 1.0, 1.1, 2.0]), np.full(4, -1), np.full(4, np.nan)))
    np.testing.assert_allclose(tg.target_speed, 5.0 + 0.5 * (np.array([0.0, 1.0, 1.1, 2.0]) + 2.0))
    assert tg.command.tolist() == [0, 0, 3, 3]
    # frame at 2.0 s: samples 2.0..4.0 s every 0.1 s; yaw rate 0.1 from 3.0 s (11 of 21 samples)
    expected = np.mean([0.1 / (5.0 + 0.5 * s) if s >= 3.0 - 1e-9 else 0.0 for s in np.round(2.0 + 0.1 * np.arange(21), 9)])
    assert tg.curvature[3] == pytest.approx(expected, rel=1e-9) and tg.curvature[0] == 0.0
    assert not tg.has_lead_distance.any() and not tg.has_scenario.any()


def test_sample_frames_need_the_whole_horizon():
    ego_t = np.round(np.arange(0, 51) * 0.1, 9)          # 0 .. 5 s
    assert sample_frames(ego_t, np.array([-0.5, 0.0, 0.5, 1.0, 1.5])).tolist() == [1, 2, 3]


# ---- the generator ---------------------------------------------------------------------------------------

def _all_bytes(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_generator_is_deterministic_and_frames_have_their_future(tmp_path):
    a = generate_episode(tmp_path / "a", seed=11, duration_s=1.0)
    b = generate_episode(tmp_path / "b", seed=11, duration_s=1.0)
    c = generate_episode(tmp_path / "c", seed=12, duration_s=1.0, bad_dreams=True, weather="rain")
    assert _all_bytes(a) == _all_bytes(b)
    assert _all_bytes(a)["ego.csv"] != _all_bytes(c)["ego.csv"]
    ep = open_episode(a)
    assert len(ep) == 2 and ep.frames.t_s.tolist() == [0.0, 0.5]
    assert len(ep.ego.t_s) == 46 and ep.ego.t_s[-1] == 4.5   # 10 Hz, 4 s beyond the last frame
    assert ep.meta["source"] == "synthetic world seed 11" and ep.meta["rig"] == schema.CANONICAL_RIG
    assert ep.camera("front").shape == (2, 128, 256, 3)
    assert len(episode_targets(ep.ego, ep.frames)) == 2
    assert np.isfinite(ep.frames.lead_gap_m).all() and (ep.frames.scenario >= 0).all()
    assert ep.objects(0).shape[1] == 7
    epc = open_episode(c)
    assert epc.meta["bad_dreams"] is True and epc.meta["weather"] == "rain"
    assert (epc.frames.scenario == schema.scenario_index("rain")).all()
