"""EpisodeDataset (training/data/dataset.py), generate_dataset and the log converter."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from wayvert import schema
from wayvert.episodes import open_episode, pack_tar
from wayvert.sensors.rig import Rig
from wayvert.training.data import generate_dataset, generate_episode
from wayvert.training.data.convert_log import main as convert_main
from wayvert.training.data.dataset import EpisodeDataset, history_indices, normalize_image


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """Two generated episodes of 3 frame sets each (the second a bad dream), made with 2 worker processes."""
    out = tmp_path_factory.mktemp("dataset")
    paths = generate_dataset(out, n_episodes=2, seed0=39, bad_dreams_fraction=0.5, workers=2, progress=False,
                             duration_s=1.5)
    assert [p.name for p in paths] == ["episode_000039", "episode_000040"]
    return out


def _bytes(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_dataset_is_the_same_whatever_the_number_of_workers(root, tmp_path):
    generate_dataset(tmp_path, n_episodes=2, seed0=39, bad_dreams_fraction=0.5, workers=1, progress=False,
                     duration_s=1.5)
    assert _bytes(tmp_path) == _bytes(root)
    assert [open_episode(p).meta["bad_dreams"] for p in sorted(tmp_path.iterdir())] == [True, False]


def test_samples_have_the_documented_shapes_and_dtypes(root):
    ds = EpisodeDataset(root)
    assert len(ds) == 6
    s = ds[4]
    want = {"image": (torch.uint8, (3, 3, 128, 256)), "history": (torch.uint8, (2, 3, 3, 128, 256)),
            "ego": (torch.float32, (2,)), "command": (torch.float32, (4,)),
            "trajectory": (torch.float32, (schema.N_WAYPOINTS, 4)), "target_speed": (torch.float32, ()),
            "curvature": (torch.float32, ()), "lead_distance": (torch.float32, ()), "scenario": (torch.int64, ()),
            "has_lead_distance": (torch.bool, ()), "has_scenario": (torch.bool, ()), "episode": (torch.int64, ()),
            "frame": (torch.int64, ()), "has_previous": (torch.bool, ())}
    assert set(s) == set(want)
    for k, (dtype, shape) in want.items():
        assert s[k].dtype == dtype and tuple(s[k].shape) == shape, k
    assert s["episode"] == 1 and s["frame"] == 1 and s["command"].sum() == 1
    assert bool(s["has_lead_distance"]) and bool(s["has_scenario"])
    ep = open_episode(root / "episode_000040")
    assert torch.equal(s["image"][1], torch.from_numpy(np.ascontiguousarray(ep.camera("front")[1].transpose(2, 0, 1))))
    assert s["ego"][0] == pytest.approx(float(ep.ego.speed_mps[5]), rel=1e-6)
    assert s["trajectory"][-1, 0] > 10.0    # the expert drives on


def test_history_is_oldest_first_and_repeats_the_first_frame_at_the_start(root):
    ds = EpisodeDataset(root, history=3)
    s0, s2 = ds[0], ds[2]
    assert torch.equal(s0["history"][0], s0["history"][2]) and torch.equal(s0["history"][2], s0["image"])
    assert torch.equal(s2["history"][-1], s2["image"])
    assert torch.equal(s2["history"][1], ds[1]["image"]) and torch.equal(s2["history"][0], s0["image"])
    # whether an earlier frame set exists (a remembering scenario branch sees zeros without one)
    assert [bool(ds[i]["has_previous"]) for i in range(3)] == [False, True, True]


def test_history_indices_follow_time_not_rows():
    t = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 1.1])
    assert history_indices(t, 6, 2).tolist() == [1, 6]
    assert history_indices(t, 7, 3).tolist() == [1, 6, 7]
    assert history_indices(t, 2, 2).tolist() == [0, 2]


def test_where_selects_episodes_by_their_tags(root):
    ds = EpisodeDataset(root, where=lambda meta: not meta["bad_dreams"])
    assert len(ds) == 3 and ds.paths[0].endswith("episode_000040")


def test_dataloader_gives_the_same_batches_with_0_and_2_workers(root):
    ds = EpisodeDataset(root)
    batches = {}
    for workers in (0, 2):
        dl = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=workers, shuffle=False)
        batches[workers] = list(dl)
    assert [b["image"].shape for b in batches[0]] == [(4, 3, 3, 128, 256), (2, 3, 3, 128, 256)]
    for a, b in zip(batches[0], batches[2]):
        for k in a:
            assert torch.equal(a[k], b[k]), k


def test_tar_episodes_load_like_folders(root, tmp_path):
    tar = pack_tar(root / "episode_000039", tmp_path / "e.tar")
    a, b = EpisodeDataset(root / "episode_000039")[2], EpisodeDataset(tar)[2]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_non_canonical_rig_is_converted_to_canonical_rgb(tmp_path):
    nu = generate_episode(tmp_path / "nu", seed=5, duration_s=0.5, rig="nuscenes_like_6cam", max_internal_width=64)
    ca = generate_episode(tmp_path / "ca", seed=5, duration_s=0.5)
    assert open_episode(nu).camera("front").shape == (1, 1350, 1600)           # NV12
    a, b = EpisodeDataset(nu)[0], EpisodeDataset(ca)[0]
    assert a["image"].shape == (3, 3, 128, 256) and a["image"].dtype == torch.uint8
    # the same world seen through another rig, resampled by the sensor adapter: close to the canonical render
    diff = (a["image"].int() - b["image"].int()).abs().float().mean(dim=(1, 2, 3))
    assert (diff < 8.0).all(), diff
    assert torch.equal(a["trajectory"], b["trajectory"])


def test_normalize_image_applies_the_canonical_mean_and_std():
    x = torch.tensor([0, 255], dtype=torch.uint8).view(1, 2, 1, 1, 1).expand(2, 2, 3, 1, 1)
    y = normalize_image(x)
    assert y.dtype == torch.float32 and y.shape == x.shape
    np.testing.assert_allclose(y[0, 0, :, 0, 0].numpy(), -schema.NORM_MEAN / schema.NORM_STD, rtol=1e-6)
    np.testing.assert_allclose(y[0, 1, :, 0, 0].numpy(), (1 - schema.NORM_MEAN) / schema.NORM_STD, rtol=1e-6)


# ---- converter -------------------------------------------------------------------------------------------

TINY_RIG = {"name": "tiny_2cam", "cameras": [
    {"name": cam, "width": 8, "height": 4, "pixel_format": fmt, "fps": 10,
     "model": {"type": "pinhole", "fx": 7.0, "fy": 7.0, "cx": 3.5, "cy": 1.5},
     "extrinsics": {"translation_m": [1.5, 0.0, 1.5], "rotation_rpy_rad": [0.0, 0.0, yaw]}}
    for cam, fmt, yaw in (("front", "rgb8", 0.0), ("left", "yuyv", 1.5))]}


def _write_log(folder):
    """A drive at 36 km/h heading 30 degrees, poses at 20 Hz (microseconds), frames at 10 Hz, cameras 3 ms apart."""
    import json
    folder.mkdir()
    (folder / "rig.json").write_text(json.dumps(TINY_RIG))
    t0_us, v_kmh, heading_deg = 1_532_402_927_000_000, 36.0, 30.0
    lines = ["stamp_us,east_m,north_m,heading_deg,v_kmh"]
    for i in range(121):                                 # 6 s
        t = i * 0.05
        d = 10.0 * t
        lines.append(f"{t0_us + i * 50_000},{100 + d * np.cos(np.radians(30)):.6f},"
                     f"{-50 + d * np.sin(np.radians(30)):.6f},{heading_deg},{v_kmh}")
    (folder / "poses.csv").write_text("\n".join(lines) + "\n")
    shapes = {"front": (4, 8, 3), "left": (4, 16)}
    rng = np.random.default_rng(0)
    frames = {}
    for cam, skew_us in (("front", 0), ("left", 3_000)):
        (folder / "images" / cam).mkdir(parents=True)
        for k in range(40):
            frames[cam, k] = rng.integers(0, 256, shapes[cam], dtype=np.uint8)
            if cam == "left" and k == 7:
                continue                                 # a dropped frame: frame set 7 has no match
            np.save(folder / "images" / cam / f"{t0_us + k * 100_000 + skew_us}.npy", frames[cam, k])
    return frames


def test_converter_maps_columns_and_units_into_an_episode(tmp_path, capsys):
    frames = _write_log(tmp_path / "log")
    rc = convert_main(["--poses", str(tmp_path / "log/poses.csv"), "--images", str(tmp_path / "log/images"),
                       "--rig", str(tmp_path / "log/rig.json"), "--out", str(tmp_path / "ep"),
                       "--time-col", "stamp_us", "--time-unit", "us", "--x-col", "east_m", "--y-col", "north_m",
                       "--yaw-col", "heading_deg", "--angle-unit", "deg", "--speed-col", "v_kmh", "--speed-unit",
                       "kmh", "--frame-time-unit", "us", "--sync-tolerance-s", "0.01", "--weather", "dry"])
    assert rc == 0 and "39 frame sets (1 reference frames dropped" in capsys.readouterr().out
    ep = open_episode(tmp_path / "ep")
    assert ep.rig == Rig.from_dict(TINY_RIG) and ep.meta["weather"] == "dry" and len(ep) == 39
    np.testing.assert_allclose(ep.ego.speed_mps, 10.0)
    np.testing.assert_allclose(ep.ego.yaw_rad, np.pi / 6)
    np.testing.assert_allclose(ep.ego.yaw_rate_rps, 0.0, atol=1e-9)
    assert ep.ego.t_s[0] == 0.0 and ep.ego.t_s[-1] == pytest.approx(6.0)
    assert ep.frames.t_s[7] == pytest.approx(0.8)       # frame 7 (0.7 s) was dropped
    assert ep.frame_set(8)["left"].tobytes() == frames["left", 9].tobytes()
    assert ep.frame_set(0)["front"].tobytes() == frames["front", 0].tobytes()
    ds = EpisodeDataset(tmp_path / "ep", history=1)     # frames up to 2.0 s have a 4 s future in 6 s of poses
    assert len(ds) == 21 - 1
    np.testing.assert_allclose(ds[3]["trajectory"][:, 0].numpy(), 10.0 * schema.waypoint_times(), atol=1e-4)
    np.testing.assert_allclose(ds[3]["trajectory"][:, 1].numpy(), 0.0, atol=1e-4)
    assert ds[0]["image"].shape == (3, 3, 128, 256)       # tiny rig -> canonical via the adapter


def test_converter_reports_a_missing_column(tmp_path, capsys):
    _write_log(tmp_path / "log")
    rc = convert_main(["--poses", str(tmp_path / "log/poses.csv"), "--images", str(tmp_path / "log/images"),
                       "--rig", str(tmp_path / "log/rig.json"), "--out", str(tmp_path / "ep"),
                       "--time-col", "t_us"])
    assert rc == 1 and "no column 't_us'" in capsys.readouterr().err


def test_converter_runs_as_a_module(tmp_path):
    # cwd outside the checkout: from its root, the source folder wayvert/ would shadow the installed package
    r = subprocess.run([sys.executable, "-m", "wayvert.training.data.convert_log", "--help"], capture_output=True,
                       text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 0 and "--speed-unit" in r.stdout
