"""`wayvert run` replays a recorded episode through adapter, engine session and verifier, one record per frame set."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import wayvert
from wayvert.episodes import open_episode, pack_tar
from wayvert.errors import InputError
from wayvert.replay import episode_frame_sets, replay, replay_episode, summarize, to_json_line
from wayvert.safety import CHECK_NAMES
from wayvert.training.data import generate_episode

FRAME_SETS = 4   # 2 s of frame sets at 2 Hz: about a second to generate


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path: Path = generate_episode(tmp_path_factory.mktemp("replay") / "episode", seed=11, duration_s=2.0)
    return path


@pytest.fixture(scope="module")
def engine() -> wayvert.Engine:
    return wayvert.Engine.load(wayvert.reference_engine_path())


def _without_timings(records: list[dict[str, Any]]) -> list[str]:
    return [to_json_line({k: v for k, v in r.items() if k not in ("timing_ms", "deadline")}) for r in records]


def _finite(nested: Any) -> bool:
    return bool(np.isfinite(np.asarray(nested, np.float64)).all())


def test_replay_gives_one_complete_record_per_frame_set(episode: Path, engine: wayvert.Engine) -> None:
    records = list(replay_episode(engine, episode))
    ep = open_episode(episode)
    assert [r["frame"] for r in records] == list(range(FRAME_SETS))
    assert [r["t_s"] for r in records] == pytest.approx(ep.frames.t_s.tolist())
    for r in records:
        json.loads(to_json_line(r))                     # strict JSON, no NaN tokens
        assert r["ran"] and not r["degraded"] and r["degraded_reasons"] == [] and r["missing_cameras"] == []
        assert r["boundaries"] is None and r["wet"] == (ep.meta["weather"] == "rain")
        assert r["objects"] == len(ep.objects(r["frame"]))
        out = r["outputs"]
        assert np.asarray(out["trajectories"]).shape == (6, 20, 4) and len(out["mode_logits"]) == 6
        assert len(out["scenario_logits"]) == 5
        for name in ("target_speed", "curvature", "lead_distance"):
            assert isinstance(out[name], float)
        assert all(_finite(v) for v in out.values())
        v = r["verdict"]
        assert -1 <= v["chosen"] < 6 and 0 <= v["top"] < 6 and v["fallback_used"] == (v["chosen"] == -1)
        assert len(v["passed"]) == len(v["reasons"]) == 6
        assert all(name in CHECK_NAMES for reasons in v["reasons"] for name in reasons)
        assert set(v["margins"]) == set(CHECK_NAMES) and np.asarray(v["trajectory"]).shape[1] == 5
        assert set(r["timing_ms"]) == {"read", "adapter", "engine", "verifier", "total"}
        assert r["coverage"] is not None and min(r["coverage"]) > 0.9
        x = r["explanation"]          # grounded in this record's outputs and verdict (tests/runtime/test_explain.py)
        assert x["sentence"].endswith(".") and all(f["text"] in x["sentence"] for f in x["facts"])
        assert x["action"] == ("stop" if v["fallback_used"] else x["action"])
        lead = [f for f in x["facts"] if f["kind"] == "lead"]
        assert not lead or lead[0]["value"] == pytest.approx(round(out["lead_distance"], 1), abs=0.051)
    # the pose is ego.csv's at the frame set's time
    k = int(np.argmin(np.abs(ep.ego.t_s - records[-1]["t_s"])))
    assert records[-1]["pose"]["x_m"] == pytest.approx(float(ep.ego.x_m[k]), abs=0.5)
    assert records[-1]["pose"]["y_m"] == pytest.approx(float(ep.ego.y_m[k]), abs=0.5)
    s = summarize(records)
    assert s["frames"] == FRAME_SETS and s["degraded"] == s["skipped"] == 0
    assert 0 < s["latency_ms"]["engine"]["p50"] <= s["latency_ms"]["engine"]["p99"]


def test_replays_are_deterministic_from_a_folder_or_a_tar(episode: Path, engine: wayvert.Engine,
                                                          tmp_path: Path) -> None:
    first = _without_timings(list(replay_episode(engine, episode)))
    again = _without_timings(list(replay_episode(engine, episode)))
    tarred = _without_timings(list(replay_episode(engine, pack_tar(episode, tmp_path / "episode.tar"))))
    assert first == again == tarred


def test_a_dropped_camera_is_flagged_degraded_and_named(episode: Path, engine: wayvert.Engine) -> None:
    records = list(replay_episode(engine, episode, frames=2, drop_cameras=["front_left"]))
    assert len(records) == 2
    view = [c.name for c in wayvert.Rig.from_dict(engine.meta["canonical_rig"]).cameras].index("front_left")
    for r in records:
        assert r["ran"] and r["degraded"] and r["degraded_reasons"] == ["missing_camera"]
        # The neighbouring front camera overlaps the view, so only part of it is lost.
        assert r["missing_cameras"] == ["front_left"] and r["coverage"][view] < 0.5
        assert r["verdict"] is not None and all(_finite(v) for v in r["outputs"].values())


def test_stale_timestamps_and_nan_ego_are_flagged_and_skipped_without_crashing(episode: Path,
                                                                                engine: wayvert.Engine) -> None:
    ep = open_episode(episode)
    fs = list(episode_frame_sets(ep))
    stale = dataclasses.replace(fs[2], t_s=fs[1].t_s)                    # no newer than the frame set before
    nan_ego = dataclasses.replace(fs[2], ego=dataclasses.replace(fs[2].ego, speed=math.nan))
    records = list(replay(engine, ep.rig, [fs[0], fs[1], stale, nan_ego, fs[3]]))
    assert [r["ran"] for r in records] == [True, True, False, False, True]
    assert records[2]["degraded"] and records[2]["degraded_reasons"] == ["stale_timestamp"]
    assert records[3]["degraded"] and records[3]["degraded_reasons"] == ["nan_ego"]
    for r in records[2:4]:
        assert r["outputs"] is None and r["verdict"] is None and r["timing_ms"] == {}
        json.loads(to_json_line(r))                    # the NaN speed is written as null, not as NaN
    assert records[3]["ego"]["speed_mps"] is None and not records[4]["degraded"]
    assert summarize(records)["skipped"] == 2


def test_a_rig_override_must_have_the_episode_cameras_and_frame_shapes(episode: Path, engine: wayvert.Engine,
                                                                       tmp_path: Path) -> None:
    assert len(list(replay_episode(engine, episode, rig="canonical_3cam", frames=1))) == 1
    with pytest.raises(InputError, match="cameras"):
        replay_episode(engine, episode, rig="nuscenes_like_6cam")
    narrow = open_episode(episode).rig.to_dict()
    narrow["cameras"][0]["width"] = 128
    (tmp_path / "narrow.json").write_text(json.dumps(narrow))
    with pytest.raises(InputError, match="shape"):
        replay_episode(engine, episode, rig=str(tmp_path / "narrow.json"))
    with pytest.raises(InputError, match="drop"):
        replay_episode(engine, episode, drop_cameras=["rear"])


def _wayvert(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # cwd outside the checkout: the source tree's wayvert/ would shadow the installed package.
    return subprocess.run([sys.executable, "-m", "wayvert.cli", *args], cwd=cwd, capture_output=True, text=True)


def test_cli_writes_json_lines_and_a_summary(episode: Path, tmp_path: Path) -> None:
    out = tmp_path / "replay.jsonl"
    proc = _wayvert("run", wayvert.reference_engine_path(), "--episode", str(episode), "--frames", "2",
                    "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = out.read_text().splitlines()
    assert [json.loads(line)["frame"] for line in lines] == [0, 1]
    assert "wayvert run: 2 frame sets, 0 degraded, 0 skipped" in proc.stderr and "engine" in proc.stderr


def test_cli_draws_the_replay(episode: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "replay.png"
    proc = _wayvert("run", wayvert.reference_engine_path(), "--episode", str(episode), "--out",
                    str(tmp_path / "r.jsonl"), "--plot", str(png), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


@pytest.mark.parametrize("case, code", [("bad_engine", 3), ("missing_episode", 4), ("other_rig", 4),
                                        ("zero_frames", 2)])
def test_cli_exit_codes(case: str, code: int, episode: Path, tmp_path: Path) -> None:
    engine_path, episode_path, extra = wayvert.reference_engine_path(), str(episode), []
    if case == "bad_engine":
        engine_path = str(tmp_path / "bad.wvrt")
        Path(engine_path).write_bytes(Path(wayvert.reference_engine_path()).read_bytes()[:100])
    elif case == "missing_episode":
        episode_path = str(tmp_path / "no_such_episode")
    elif case == "other_rig":
        extra = ["--rig", "nuscenes_like_6cam"]
    else:
        extra = ["--frames", "0"]
    proc = _wayvert("run", engine_path, "--episode", episode_path, *extra, cwd=tmp_path)
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == ""
