"""`wayvert curate`: curricula parse with typed errors, quotas and de-duplication hold, the report says what is
missing, the selection round-trips, and nearest-frame queries are exact."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wayvert import schema
from wayvert.curate import (CurriculumError, SelectionFileError, class_quotas, nearest, parse_curriculum,
                            read_selection, select_frames, write_selection)
from wayvert.curate.output import report, report_markdown
from wayvert.index import read_index
from wayvert.index.table import Index


def _index(classes: list[str], seed: int = 0, dim: int = 16, duplicates: int = 1, **columns) -> Index:
    """An in-memory index: each distinct frame repeated ``duplicates`` times with a tiny jitter."""
    rng = np.random.default_rng(seed)
    base = rng.random((len(classes), dim)).astype(np.float32)
    emb = np.repeat(base, duplicates, axis=0) + rng.normal(0, 1e-4, (len(classes) * duplicates, dim)).astype(np.float32)
    cls = np.array([c for c in classes for _ in range(duplicates)], dtype=object)
    n = len(cls)
    cols = {"scenario": cls, "label_scenario": cls.copy(), "episode": np.array([f"ep{i // 10}" for i in range(n)], object),
            "episode_path": np.array([f"ep{i // 10}" for i in range(n)], object), "frame": np.arange(n) % 10,
            "speed_mps": rng.uniform(0, 14, n).astype(np.float32),
            "lighting": np.array(["dusk" if i % 7 == 0 else "day" for i in range(n)], object)}
    cols.update(columns)
    return Index(cols, emb, {"episodes_root": "store", "scenarios": list(schema.SCENARIOS)})


def _cur(**tables) -> object:
    return parse_curriculum(tables)


def test_a_balanced_selection_takes_rare_classes_whole_and_shares_the_rest() -> None:
    classes = ["free_road"] * 400 + ["following"] * 300 + ["junction"] * 40 + ["cut_in"] * 10 + ["rain"] * 250
    ix = _index(classes)
    sel = select_frames(ix, _cur(selection={"frames": 300, "min_distance": 0.0}))
    assert len(sel.rows) == 300 and len(set(sel.rows.tolist())) == 300
    assert sel.class_counts == {"cut_in": 10, "junction": 40, "free_road": 83, "following": 84, "rain": 83}
    assert sel.covered
    # the same index, curriculum and seed give the same rows; another seed other rows
    assert np.array_equal(select_frames(ix, _cur(selection={"frames": 300, "min_distance": 0.0})).rows, sel.rows)
    assert not np.array_equal(select_frames(ix, _cur(selection={"frames": 300, "min_distance": 0.0, "seed": 1})).rows,
                              sel.rows)


def test_near_duplicates_are_taken_once_and_the_report_says_what_is_missing() -> None:
    classes = ["free_road"] * 50 + ["following"] * 50 + ["cut_in"] * 3
    ix = _index(classes, duplicates=4)
    sel = select_frames(ix, _cur(selection={"frames": 80, "min_distance": 0.01}, scenario={"cut_in": 10}))
    unit = ix.embedding[sel.rows] / np.linalg.norm(ix.embedding[sel.rows], axis=1, keepdims=True)
    sims = unit @ unit.T
    np.fill_diagonal(sims, 0)
    assert sims.max() <= 0.99                       # no two chosen frames within the radius
    assert sel.class_counts["cut_in"] == 3          # 12 rows, 3 distinct frames
    req = {r.name: r for r in sel.requirements}
    assert (req["cut_in"].available, req["cut_in"].missing, req["cut_in"].short_in_index) == (12, 7, 0)
    assert req["junction"].required == 0 and not sel.covered


def test_the_report_counts_the_selection_by_its_recorded_labels() -> None:
    """The classifier's class against the label: of the frames taken as cut-in, how many are cut-ins."""
    classes = ["free_road"] * 100 + ["following"] * 100 + ["cut_in"] * 10
    ix = _index(classes)
    head = ix["scenario"].copy()
    head[:20] = "cut_in"                           # 20 free-road frames the 'engine' takes for cut-ins
    ix.columns["scenario"] = head
    sel = select_frames(ix, _cur(selection={"frames": 60, "min_distance": 0.0}, scenario={"cut_in": 30}))
    rep = report(ix, sel, "c.toml", "scenario")
    got = rep["recorded_labels"]
    assert sum(r["labelled"] for r in got.values()) == len(sel.rows)
    assert got["cut_in"]["taken_as"] == 30 and got["cut_in"]["confirmed"] == got["cut_in"]["labelled"] == 10
    assert got["free_road"]["labelled"] - got["free_road"]["confirmed"] == 20
    for r in got.values():
        assert r["confirmed"] <= min(r["taken_as"], r["labelled"])
    assert "| cut_in | 10 | 30 | 10 |" in report_markdown(rep)
    # by the labels themselves: only the counts; unlabelled fleet data: no such section
    rep = report(ix, select_frames(ix, _cur(selection={"frames": 60, "by": "label_scenario"})), "c.toml",
                 "label_scenario")
    assert set(rep["recorded_labels"]["cut_in"]) == {"labelled"}
    ix.columns["label_scenario"] = np.array([None] * len(ix), dtype=object)
    rep = report(ix, sel, "c.toml", "scenario")
    assert "recorded_labels" not in rep and "recorded labels" not in report_markdown(rep)


def test_conditions_are_met_first_and_counted() -> None:
    classes = ["free_road"] * 200 + ["following"] * 200
    ix = _index(classes)
    cur = _cur(selection={"frames": 50, "min_distance": 0.0},
               condition={"dusk": {"lighting": "dusk", "min_frames": 30}, "slow": {"speed_mps": [0.0, 2.0],
                                                                                  "min_frames": 5}})
    sel = select_frames(ix, cur)
    dusk = np.array([ix["lighting"][i] == "dusk" for i in sel.rows])
    slow = ix["speed_mps"][sel.rows] < 2.0
    assert dusk.sum() >= 30 and slow.sum() >= 5
    req = {r.name: r for r in sel.requirements}
    assert req["dusk"].selected == int(dusk.sum()) and req["slow"].selected == int(slow.sum())
    uniform = select_frames(ix, _cur(selection={"frames": 50, "min_distance": 0.0, "balance": "none"}))
    assert len(uniform.rows) == 50 and all(w == "fill" for w in uniform.why)


@settings(max_examples=200, deadline=None)
@given(available=st.dictionaries(st.sampled_from(schema.SCENARIOS), st.integers(0, 500), min_size=5, max_size=5),
       minimum=st.dictionaries(st.sampled_from(schema.SCENARIOS), st.integers(0, 300), max_size=5),
       frames=st.integers(1, 2000))
def test_quotas_never_exceed_what_is_there_and_fill_the_total_when_they_can(available, minimum, frames) -> None:
    q = class_quotas(available, minimum, frames)
    assert all(0 <= q[c] <= available[c] for c in q)
    assert all(q[c] >= min(minimum.get(c, 0), available[c]) for c in q)
    if not minimum:
        assert sum(q.values()) <= frames + len(q)   # rounding of equal shares
        if sum(available.values()) >= frames:
            assert sum(q.values()) >= frames - len(q)


@pytest.mark.parametrize("tables, message", [
    ({}, "selection\\] frames is required"),
    ({"selection": {"frames": 0}}, "selection.frames must be a whole number >= 1"),
    ({"selection": {"frames": 10, "min_distance": -1}}, "min_distance must be a number in \\[0, 2\\]"),
    ({"selection": {"frames": 10, "by": "weather"}}, "selection.by must be one of"),
    ({"selection": {"frames": 10, "balance": "some"}}, "selection.balance must be one of"),
    ({"selection": {"frames": 10, "frame": 3}}, "unknown key\\(s\\) \\['frame'\\]"),
    ({"selection": {"frames": 10}, "scenario": {"highway": 3}}, "'highway' is not a class"),
    ({"selection": {"frames": 10}, "scenario": {"rain": -3}}, "scenario.rain must be a whole number"),
    ({"selection": {"frames": 10}, "condition": {"x": {"weather": "rain"}}}, "condition.x\\] needs min_frames"),
    ({"selection": {"frames": 10}, "condition": {"x": {"colour": 1, "min_frames": 1}}}, "not an index column"),
    ({"selection": {"frames": 10}, "condition": {"x": {"speed_mps": [5, 1], "min_frames": 1}}}, "lo < hi"),
    ({"selection": {"frames": 10}, "condition": {"x": {"min_frames": 1}}}, "names no column"),
    ({"selection": {"frames": 10}, "quota": {}}, "unknown table"),
])
def test_a_bad_curriculum_is_refused_naming_the_key(tables, message) -> None:
    with pytest.raises(CurriculumError, match=message):
        parse_curriculum(tables)


def test_nearest_is_the_brute_force_cosine_order() -> None:
    ix = _index(["free_road"] * 60, seed=3)
    got = nearest(ix, 7, k=5)
    e = ix.embedding.astype(np.float64)
    d = 1 - (e @ e[7]) / (np.linalg.norm(e, axis=1) * np.linalg.norm(e[7]))
    d[7] = np.inf
    assert [i for i, _ in got] == list(np.argsort(d)[:5])
    np.testing.assert_allclose([x for _, x in got], np.sort(d)[:5], atol=1e-9)


def test_a_selection_round_trips_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    ix = _index(["free_road"] * 30 + ["rain"] * 30)
    sel = select_frames(ix, _cur(selection={"frames": 20, "min_distance": 0.0}))
    path = tmp_path / "sel.csv"
    write_selection(path, ix, sel, "scenario")
    frames = read_selection(path)
    want: dict[str, set[int]] = {}
    for i in sel.rows:
        want.setdefault(f"store/{ix['episode_path'][i]}", set()).add(int(ix["frame"][i]))
    assert frames == want
    for text, message in [("a,b\n", "line 1"), ("episode_path,frame\nx\n", "line 2"),
                          ("episode_path,frame\nx,one\n", "not a whole number"), ("episode_path,frame\n", "no frames"),
                          ("episode_path,frame\nx,-1\n", "negative")]:
        path.write_text(text)
        with pytest.raises(SelectionFileError, match=message):
            read_selection(path)
    with pytest.raises(SelectionFileError, match="no such selection file"):
        read_selection(tmp_path / "none.csv")


def _wayvert(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wayvert.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_cli_curates_a_real_index_and_answers_queries(index_dir: Path, tmp_path: Path) -> None:
    spec = tmp_path / "c.toml"
    spec.write_text('[selection]\nframes = 6\nmin_distance = 0.0\n[scenario]\ncut_in = 50\n'
                    '[condition.dusk]\nlighting = "dusk"\nmin_frames = 2\n')
    out = tmp_path / "sel.csv"
    r = _wayvert("curate", index_dir, "--require", spec, "-o", out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "| scenario cut_in | 50 |" in r.stdout and "record or generate at least" in r.stdout
    frames = read_selection(out)
    assert sum(len(v) for v in frames.values()) == 6
    r = _wayvert("curate", index_dir, "--require", spec, "-o", out, "--strict", cwd=tmp_path)
    assert r.returncode == 8
    key = read_index(index_dir).keys()[5]
    r = _wayvert("curate", index_dir, "--query", key, "--k", "3", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.count(f"| {key} |") == 1 and len(r.stdout.splitlines()) == 6
    r = _wayvert("curate", index_dir, "--query", "nope:1", cwd=tmp_path)
    assert r.returncode == 2 and "no such frame" in r.stderr
    spec.write_text("[selection\n")
    r = _wayvert("curate", index_dir, "--require", spec, "-o", out, cwd=tmp_path)
    assert r.returncode == 2 and "not readable TOML" in r.stderr
    spec.write_text("[selection]\nframes = 3\n")
    r = _wayvert("curate", tmp_path, "--require", spec, "-o", out, cwd=tmp_path)
    assert r.returncode == 4 and "not an index folder" in r.stderr


def test_the_flywheel_table_reads_selections_drives_and_held_out_indexes(index_dir: Path, episodes: Path,
                                                                         tmp_path: Path) -> None:
    import json
    import shutil

    from wayvert.curate.compare import compare

    (tmp_path / "closedloop").mkdir()
    (tmp_path / "a.csv").write_text(f"episode_path,frame\n{episodes}/episode_a,0\n{episodes}/episode_a,1\n"
                                    f"{episodes}/episode_c,0\n")
    total = {"progress_ratio": 0.81, "route_completion": 0.8, "fallback_share": 0.004, "collisions": 1,
             "lane_departures": 0}
    (tmp_path / "closedloop" / "b.json").write_text(json.dumps({"rows": {"expert": {"total": {}},
                                                                          "engine x": {"total": total}}}))
    shutil.copytree(index_dir, tmp_path / "heldout.b.index")
    table = compare(tmp_path, ["b:a"])
    ix = read_index(index_dir)
    labels_c = [lbl for lbl, e, f in zip(ix["label_scenario"], ix["episode_path"], ix["frame"])
                if e == "episode_c" and f == 0]
    counts = {c: 0 for c in schema.SCENARIOS}
    counts["rain"] += 2
    counts[labels_c[0]] += 1
    assert "| b (a.csv) | 3 | " + " | ".join(str(counts[c]) for c in schema.SCENARIOS) + " |" in table
    assert "| b | 0.81 | 0.80 | 0.004 | 1 | 0 |" in table
    assert "Confusion of the b engine's scenario head" in table
