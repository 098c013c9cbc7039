"""The scenario over time (wayvert/index/over_time.py): windows stay inside their episode, the fit uses the window
in the right direction and the route command when it tells, filters round-trip (version-1 files too) and refuse what
is not theirs, and the CLI fits, measures and curates."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wayvert import schema
from wayvert.cli import main
from wayvert.index import Index, confusion_of, read_index
from wayvert.index.over_time import (COMMAND_INPUTS, FRAME_COLUMNS, ScenarioFilterError, fit_filter, frame_features,
                                     load_filter, window_features, window_rows)
from wayvert.index.table import IndexFileError

C = len(schema.SCENARIOS)


def _index(labels_per_episode: list[list[int]], probs_per_episode: list[np.ndarray], sha: str = "engine-a",
           commands: list[list[str]] | None = None, repeat: int = 1) -> Index:
    """Frame sets 0.5 s apart; ``repeat`` > 1 records each of them ``repeat`` times, 0.5 / repeat s apart (the
    same world at a higher frame rate, nothing moving between the 2 Hz instants)."""
    cols: dict[str, list] = {"episode": [], "frame": [], "t_s": [], "label_scenario": [], "command": [],
                             **{f"p_{c}": [] for c in schema.SCENARIOS}, **{k: [] for k in FRAME_COLUMNS}}
    for e, (labels, probs) in enumerate(zip(labels_per_episode, probs_per_episode)):
        for t, (lab, p) in enumerate(zip(labels, probs)):
            for r in range(repeat):
                cols["episode"].append(f"ep{e:03d}")
                cols["command"].append(commands[e][t] if commands else "follow")
                cols["t_s"].append((t * repeat + r) * 0.5 / repeat)
                cols["frame"].append(t * repeat + r)
                cols["label_scenario"].append(schema.SCENARIOS[lab] if lab >= 0 else None)
                for k, c in enumerate(schema.SCENARIOS):
                    cols[f"p_{c}"].append(float(p[k]))
                cols["lead_distance_m"].append(float("nan") if t % 3 == 0 else 20.0 + t)
                cols["target_speed_mps"].append(10.0)
                cols["curvature_per_m"].append(0.001 * t)
                cols["speed_mps"].append(9.0)
    columns = {k: np.array(v, dtype=object) if k in ("episode", "label_scenario", "command") else np.array(v)
               for k, v in cols.items()}
    columns["frame"] = columns["frame"].astype(np.int32)
    n = len(columns["frame"])
    manifest = {"scenarios": list(schema.SCENARIOS), "engine": {"sha256": sha, "path": "x.wvrt"}}
    return Index(columns, np.zeros((n, 0), np.float32), manifest)


def _lagged_world(seed: int, episodes: int = 40, sha: str = "engine-a", repeat: int = 1) -> Index:
    """Runs of scenarios 2-6 frame sets long; the 'engine' reports each label one frame set LATE (its
    probabilities at t point at the label of t - 1), so the label of t is read off the probabilities at t + 1."""
    rng = np.random.default_rng(seed)
    labels, probs = [], []
    for _ in range(episodes):
        lab: list[int] = []
        while len(lab) < 30:
            lab += [int(rng.integers(0, C))] * int(rng.integers(2, 7))
        lab = lab[:30]
        seen = [lab[0]] + lab[:-1]
        p = np.full((30, C), 0.05) + rng.uniform(0, 0.05, (30, C))
        p[np.arange(30), seen] = 0.8
        labels.append(lab)
        probs.append(p / p.sum(axis=1, keepdims=True))
    return _index(labels, probs, sha, repeat=repeat)


def _navigated_world(seed: int, episodes: int = 30) -> Index:
    """Junction and free road look the same to the 'engine' (equal probabilities); navigation says "straight"
    exactly on the junction's frame sets, as it does within 60 m of an X junction."""
    rng = np.random.default_rng(seed)
    labels, probs, commands = [], [], []
    junction, free, following = (schema.SCENARIOS.index(c) for c in ("junction", "free_road", "following"))
    for _ in range(episodes):
        lab: list[int] = []
        while len(lab) < 30:
            lab += [int(rng.choice([junction, free, following]))] * int(rng.integers(2, 7))
        lab = lab[:30]
        p = np.full((30, C), 0.05) + rng.uniform(0, 0.05, (30, C))
        for t, k in enumerate(lab):
            if k == following:
                p[t, following] = 0.8
            else:
                p[t, junction] = p[t, free] = 0.4
        labels.append(lab)
        probs.append(p / p.sum(axis=1, keepdims=True))
        commands.append(["straight" if k == junction else "follow" for k in lab])
    return _index(labels, probs, commands=commands)


def _balanced(ix: Index, f) -> float:
    return confusion_of(ix["label_scenario"], f.classes(ix)).balanced_accuracy


@settings(max_examples=30, deadline=None)
@given(lengths=st.lists(st.integers(1, 7), min_size=1, max_size=5), before=st.integers(0, 3), after=st.integers(0, 3))
def test_a_window_holds_its_neighbours_clamped_inside_the_episode(lengths, before, after):
    rng = np.random.default_rng(sum(lengths))
    probs = [rng.dirichlet(np.ones(C), size=n) for n in lengths]
    ix = _index([[0] * n for n in lengths], probs)
    f = frame_features(ix)
    w = window_features(ix, before, after)
    k = f.shape[1]
    assert w.shape == (len(f), (before + 1 + after) * k)
    start = 0
    for n in lengths:
        for t in range(n):
            for j, off in enumerate(range(-before, after + 1)):
                src = start + min(max(t + off, 0), n - 1)          # never a row of another episode
                np.testing.assert_array_equal(w[start + t, j * k:(j + 1) * k], f[src])
        start += n


@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(1, 9), min_size=1, max_size=4), before=st.integers(0, 3), after=st.integers(0, 3),
       period=st.sampled_from([0.05, 0.1, 0.5, 1.0 / 3.0, 2.0]), start=st.floats(0.0, 1000.0))
def test_a_window_in_time_on_the_filters_own_clock_is_the_window_in_frame_sets(lengths, before, after, period, start):
    ix = _index([[0] * n for n in lengths], [np.full((n, C), 1.0 / C) for n in lengths])
    ix.columns["t_s"] = start + ix["frame"].astype(np.float64) * period
    np.testing.assert_array_equal(window_rows(ix, before, after, period), window_rows(ix, before, after))


def test_a_window_in_time_reads_a_denser_index_every_few_frame_sets():
    ix = _index([[0] * 7], [np.full((7, C), 1.0 / C)], repeat=5)           # 35 frame sets 0.1 s apart
    rows = window_rows(ix, 2, 1, 0.5)
    np.testing.assert_array_equal(rows[10], [0, 5, 10, 15])
    np.testing.assert_array_equal(rows[32], [22, 27, 32, 34])               # clamped at the episode's end
    np.testing.assert_array_equal(rows[3], [0, 0, 3, 8])
    ix.columns["t_s"][4] = ix.columns["t_s"][2]
    with pytest.raises(IndexFileError, match="t_s does not increase"):
        window_rows(ix, 1, 1, 0.5)


def test_a_filter_fitted_at_2_hz_classifies_the_same_world_at_10_hz_alike():
    """Version 1 counted its window in frame sets, so at 10 Hz it looked 0.1 s ahead where it was fitted to look
    0.5 s ahead: the lagging engine's label came out wrong (this test failed then)."""
    f = fit_filter([_lagged_world(9)], before=1, after=1)
    assert f.frame_period_s == pytest.approx(0.5)
    slow, fast = _lagged_world(10), _lagged_world(10, repeat=5)
    np.testing.assert_array_equal(f.classes(fast)[::5], f.classes(slow))
    assert _balanced(slow, f) > 0.97
    with pytest.raises(ScenarioFilterError, match="apart"):
        fit_filter([fast], before=1, after=1).classes(slow)                # a 0.1 s filter on 0.5 s frame sets
    with pytest.raises(ValueError, match="one frame rate"):
        fit_filter([slow, fast])


def test_the_fit_reads_the_frame_after_when_the_engine_lags():
    train, test = _lagged_world(1), _lagged_world(2)
    ahead = fit_filter([train], before=0, after=1)
    behind = fit_filter([train], before=1, after=0)
    alone = fit_filter([train], before=0, after=0)
    assert _balanced(test, ahead) > 0.97
    assert _balanced(test, behind) < 0.9 and _balanced(test, alone) < 0.9
    # and it is deterministic
    again = fit_filter([train], before=0, after=1)
    np.testing.assert_array_equal(again.weights, ahead.weights)


def test_the_fit_reads_the_route_command_when_it_tells_the_class():
    train, test = _navigated_world(11), _navigated_world(12)
    told = fit_filter([train], before=1, after=1)
    blind = fit_filter([train], before=1, after=1, commands=())
    assert told.commands == COMMAND_INPUTS and blind.commands == ()
    assert told.weights.shape[0] == 3 * (C + len(FRAME_COLUMNS) + len(COMMAND_INPUTS))
    assert _balanced(test, told) > 0.97
    assert _balanced(test, blind) < 0.9
    with pytest.raises(ValueError, match="route commands"):
        fit_filter([train], commands=("sideways",))
    with pytest.raises(ValueError, match="route commands"):
        fit_filter([train], commands=("straight", "straight"))


def test_a_version_1_filter_still_reads_without_commands(tmp_path: Path):
    train = _lagged_world(8, episodes=10)
    f = fit_filter([train], before=1, after=1, commands=())
    d = f.to_json()
    d["version"] = 1
    del d["commands"], d["frame_period_s"]              # what stop 31's files hold
    (tmp_path / "v1.json").write_text(json.dumps(d))
    g = load_filter(tmp_path / "v1.json")
    assert g.commands == () and g.frame_period_s is None
    np.testing.assert_array_equal(g.probabilities(train), f.probabilities(train))      # 2 Hz: the same windows
    # it counts frame sets, and so refuses a 10 Hz index rather than read +-0.1 s as if it were +-0.5 s
    with pytest.raises(ScenarioFilterError, match="version-1"):
        g.classes(_lagged_world(8, episodes=2, repeat=5))
    # saved again, it is a version-1 file again (no step in time to write)
    g.save(tmp_path / "again.json")
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["version"] == 1 and "frame_period_s" not in again
    np.testing.assert_array_equal(load_filter(tmp_path / "again.json").probabilities(train), f.probabilities(train))


def test_an_episode_at_another_rate_is_refused_even_when_most_are_not():
    """The rate is checked per episode: an index of three 2 Hz episodes and two 1 Hz ones has a median of 0.5 s,
    and its 1 Hz episodes would get windows that repeat frame sets."""
    f = fit_filter([_lagged_world(13, episodes=10)], before=1, after=1)
    mixed = _lagged_world(14, episodes=5)
    t = mixed.columns["t_s"]
    for name in ("ep003", "ep004"):
        t[mixed["episode"] == name] *= 2.0
    with pytest.raises(ScenarioFilterError, match="2 episode"):
        f.classes(mixed)
    with pytest.raises(ValueError, match="one frame rate"):
        fit_filter([mixed])
    backwards = _lagged_world(15, episodes=3)
    backwards.columns["t_s"] = -backwards.columns["t_s"]
    with pytest.raises(IndexFileError, match="t_s does not increase"):
        fit_filter([backwards])


def test_a_filter_round_trips_and_refuses_another_engine(tmp_path: Path):
    train = _lagged_world(3, episodes=10)
    f = fit_filter([train], before=1, after=1)
    f.save(tmp_path / "f.json")
    g = load_filter(tmp_path / "f.json")
    np.testing.assert_array_equal(g.probabilities(train), f.probabilities(train))
    with pytest.raises(ScenarioFilterError, match="another|engine"):
        g.probabilities(_lagged_world(4, episodes=2, sha="engine-b"))


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(format="other"), "format"),
    (lambda d: d.update(version=99), "version"),
    (lambda d: d.update(weights=d["weights"][:-1]), "shapes"),
    (lambda d: d.update(scale=[0.0] * len(d["scale"])), "scale"),
    (lambda d: d.pop("bias"), "missing"),
    (lambda d: d.update(frame_columns={"speed_mps": 1.0}), "frame columns"),
    (lambda d: d.update(commands=["sideways", "right", "straight"]), "commands"),
    (lambda d: d.update(commands=["left"]), "shapes"),
    (lambda d: d.pop("commands"), "missing"),
    (lambda d: d.pop("frame_period_s"), "missing"),
    (lambda d: d.update(frame_period_s=0.0), "frame_period_s"),
    (lambda d: d.update(frame_period_s="fast"), "wrong type"),
])
def test_a_malformed_filter_file_is_a_typed_error(tmp_path: Path, change, message):
    f = fit_filter([_lagged_world(5, episodes=6)], before=0, after=1)
    f.save(tmp_path / "f.json")
    d = json.loads((tmp_path / "f.json").read_text())
    change(d)
    (tmp_path / "bad.json").write_text(json.dumps(d))
    with pytest.raises(ScenarioFilterError, match=message):
        load_filter(tmp_path / "bad.json")
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(ScenarioFilterError, match="unreadable"):
        load_filter(tmp_path / "junk.json")


def test_the_fit_needs_two_labelled_classes_and_one_engine():
    one = _index([[1] * 5], [np.full((5, C), 1.0 / C)])
    with pytest.raises(ValueError, match="two"):
        fit_filter([one])
    with pytest.raises(ValueError, match="different engines"):
        fit_filter([_lagged_world(6, episodes=2), _lagged_world(7, episodes=2, sha="engine-b")])
    with pytest.raises(ValueError, match="l2"):
        fit_filter([_lagged_world(6, episodes=2)], l2=0.0)


def test_cli_fits_measures_and_curates_with_a_filter(index_dir: Path, tmp_path: Path, capsys):
    ix = read_index(index_dir)
    labelled = {v for v in ix["label_scenario"] if v in schema.SCENARIOS}
    if len(labelled) < 2:
        pytest.skip(f"the small store's frames carry {labelled}: nothing to fit")
    out = tmp_path / "filter.json"
    assert main(["scenario-filter", "fit", str(index_dir), "-o", str(out), "--before", "1", "--after", "1"]) == 0
    assert out.exists() and "fitted on" in capsys.readouterr().out
    assert load_filter(out).commands == COMMAND_INPUTS
    blind = tmp_path / "blind.json"
    assert main(["scenario-filter", "fit", str(index_dir), "-o", str(blind), "--after", "0", "--without-command"]) == 0
    assert "outputs only" in capsys.readouterr().out and load_filter(blind).commands == ()
    assert main(["scenario-filter", "eval", str(index_dir), "--filter", str(out)]) == 0
    text = capsys.readouterr().out
    assert "filter -1..+1" in text and "| label \\ filter |" in text
    # several indexes: each, then pooled (the same frames twice: the same balanced accuracy)
    import shutil
    shutil.copytree(index_dir, tmp_path / "copy.index")
    assert main(["scenario-filter", "eval", str(index_dir), str(tmp_path / "copy.index"), "--filter", str(out)]) == 0
    text = capsys.readouterr().out
    lines = [ln for ln in text.splitlines() if "filter -1..+1 steps of" in ln]
    assert len(lines) == 3 and len({ln.split(":")[1].split()[0] for ln in lines}) == 1
    counts = [int(ln.split(": ")[1].split()[0]) for ln in text.splitlines() if "labelled frame sets;" in ln]
    assert len(counts) == 3 and counts[2] == counts[0] + counts[1]
    cur = tmp_path / "cur.toml"
    cur.write_text("[selection]\nframes = 6\nmin_distance = 0.0\n")
    sel = tmp_path / "sel.csv"
    assert main(["curate", str(index_dir), "--require", str(cur), "-o", str(sel), "--scenario-filter", str(out)]) == 0
    rows = sel.read_text().splitlines()
    assert len(rows) == 1 + 6
    want = set(load_filter(out).classes(ix))
    assert {r.split(",")[3] for r in rows[1:]} <= want
    # a filter file that is not one: exit 4 (input error), nothing written
    (tmp_path / "bad.json").write_text("{}")
    assert main(["scenario-filter", "eval", str(index_dir), "--filter", str(tmp_path / "bad.json")]) == 4


def test_the_shipped_filter_belongs_to_the_shipped_engine(index_dir: Path):
    """wayvert/data/reference.scenario-filter.json was fitted on wayvert/data/reference.wvrt's outputs: a new
    reference engine without `make reference-filter` fails here, not in a user's curation."""
    from wayvert.digest import file_sha256
    from wayvert.index.over_time import reference_filter_path
    import wayvert

    f = load_filter(reference_filter_path())
    assert f.engine["sha256"] == file_sha256(wayvert.reference_engine_path())
    ix = read_index(index_dir)                          # indexed by the reference engine
    p = f.probabilities(ix)
    assert p.shape == (len(ix), C) and np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
