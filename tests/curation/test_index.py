"""`wayvert index`: one row per frame set with the engine's own outputs, resumable, typed errors."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import wayvert
from wayvert import schema
from wayvert.build import sample_nets
from wayvert.episodes import open_episode
from wayvert.errors import UnsupportedEngineError
from wayvert.graph import with_outputs
from wayvert.index import COLUMNS, IndexFileError, build_index, read_index
from wayvert.replay import replay_episode


def test_every_frame_set_has_a_row_with_the_engines_outputs(index_dir: Path, episodes: Path,
                                                            engine_path: str) -> None:
    ix = read_index(index_dir)
    assert len(ix) == 12 and ix.embedding.shape == (12, 256)
    assert set(ix.columns) == set(COLUMNS) - {"embedding"}
    probs = ix.probabilities()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert list(ix["scenario"]) == [schema.SCENARIOS[k] for k in probs.argmax(axis=1)]
    # the conditions come from episode.json, the labels from frames.csv
    by_ep = {e: (w, li) for e, w, li in zip(ix["episode_path"], ix["weather"], ix["lighting"])}
    assert by_ep == {"episode_a": ("rain", "day"), "episode_b": ("dry", "dusk"), "episode_c": ("dry", "day")}
    assert all(lbl == "rain" for lbl, e in zip(ix["label_scenario"], ix["episode_path"]) if e == "episode_a")
    # the same numbers as `wayvert run` gives for the same frames (same engine, same adapter)
    records = [r for r in replay_episode(engine_path, episodes / "episode_b") if r["ran"]]
    rows = np.nonzero(ix["episode_path"] == "episode_b")[0]
    assert [int(ix["frame"][i]) for i in rows] == [r["frame"] for r in records]
    for i, r in zip(rows, records):
        assert ix["lead_distance_m"][i] == pytest.approx(r["outputs"]["lead_distance"], abs=1e-5)
        logits = np.array(r["outputs"]["scenario_logits"])
        p = np.exp(logits - logits.max())
        np.testing.assert_allclose(probs[i], p / p.sum(), atol=1e-4)
        assert ix["verdict"][i] == ("fallback" if r["verdict"]["fallback_used"] else
                                    "top" if r["verdict"]["chosen"] == r["verdict"]["top"] else "other_mode")
        assert ix["reasons"][i] == r["verdict"]["reasons"][r["verdict"]["top"]]
        assert int(ix["mode"][i]) == r["verdict"]["chosen"]
    manifest = json.loads((index_dir / "index.json").read_text())
    assert manifest["embedding"] == {"tensor": "trunk.2.dequantized", "dim": 256}
    assert manifest["frames"] == 12 and manifest["last_run"]["frames_per_s"] > 0


def test_an_interrupted_index_resumes_to_the_same_rows(episodes: Path, engine_path: str, index_dir: Path,
                                                       tmp_path: Path) -> None:
    class Stop(Exception):
        pass

    def stop_after_first(rel: str) -> None:
        raise Stop(rel)

    out = tmp_path / "idx"
    with pytest.raises(Stop):
        build_index(episodes, engine_path, out, verify=True, progress=False, on_episode=stop_after_first)
    assert len(read_index(out)) == 4          # what was written before the interruption reads back
    s = build_index(episodes, engine_path, out, verify=True, progress=False)
    assert (s.episodes_skipped, s.episodes_indexed, s.total_frames) == (1, 2, 12)
    a, b = read_index(out), read_index(index_dir)
    np.testing.assert_array_equal(a.embedding, b.embedding)
    for name in COLUMNS:
        if name != "embedding":
            assert list(a[name]) == list(b[name]) or np.allclose(a[name], b[name], equal_nan=True), name
    again = build_index(episodes, engine_path, out, verify=True, progress=False)
    assert (again.episodes_indexed, again.frames) == (0, 0)


def test_an_index_is_resumed_only_with_its_own_engine_and_options(episodes: Path, engine_path: str,
                                                                  index_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "idx"
    shutil.copytree(index_dir, out)
    other = tmp_path / "other.wvrt"
    other.write_bytes(with_outputs(engine_path, {"features": "trunk.2.dequantized"}).to_bytes())
    with pytest.raises(IndexFileError, match="another engine"):
        build_index(episodes, other, out, progress=False, verify=True)
    with pytest.raises(IndexFileError, match="verify=True"):
        build_index(episodes, engine_path, out, progress=False, verify=False)
    # an engine that already has a features output is used as it is
    s = build_index(episodes, other, out, progress=False, overwrite=True)
    assert s.total_frames == 12
    assert read_index(out).manifest["embedding"]["tensor"] == "features"
    (out / "index.json").write_text("{}")
    with pytest.raises(IndexFileError, match="format"):
        read_index(out)


def test_an_engine_without_a_scenario_head_cannot_index(episodes: Path, tmp_path: Path) -> None:
    path = tmp_path / "net.wvrt"
    sample_nets.sample_convnet().build_int8().write(path)
    with pytest.raises(UnsupportedEngineError, match="cannot (replay|index) with this engine"):
        build_index(episodes, path, tmp_path / "idx", progress=False)


def _wayvert(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wayvert.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_cli_indexes_and_reports_throughput(episodes: Path, engine_path: str, tmp_path: Path) -> None:
    r = _wayvert("index", episodes / "episode_c", "--engine", engine_path, "-o", tmp_path / "idx", "--threads", "1",
                 cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "indexed 1 episodes" in r.stdout and "frames/s" in r.stdout
    assert len(read_index(tmp_path / "idx")) == len(open_episode(episodes / "episode_c"))
    r = _wayvert("index", tmp_path / "nowhere", "--engine", engine_path, "-o", tmp_path / "idx2", cwd=tmp_path)
    assert r.returncode == 4 and "no such episode" in r.stderr
    (tmp_path / "empty").mkdir()
    r = _wayvert("index", tmp_path / "empty", "--engine", engine_path, "-o", tmp_path / "idx2", cwd=tmp_path)
    assert r.returncode == 4 and "no episodes found" in r.stderr
    r = _wayvert("index", episodes, "--engine", tmp_path / "missing.wvrt", "-o", tmp_path / "idx3", cwd=tmp_path)
    assert r.returncode == 3


def test_the_confusion_table_counts_label_against_engine() -> None:
    from wayvert.index import confusion_of

    c = confusion_of(["rain", "rain", "cut_in", "following", None, "following"],
                     ["rain", "free_road", "cut_in", "following", "rain", "junction"])
    assert c.matrix.sum() == 5 and c.matrix[4, 4] == 1 and c.matrix[4, 0] == 1
    assert c.recall == {"following": 0.5, "cut_in": 1.0, "rain": 0.5}
    assert c.balanced_accuracy == pytest.approx(2 / 3) and c.accuracy == pytest.approx(3 / 5)
    assert "| rain | 1 | 0 | 0 | 0 | 1 | 2 | 0.50 |" in c.markdown()
