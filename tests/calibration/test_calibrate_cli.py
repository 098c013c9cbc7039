"""``wayvert calibrate`` end to end on a tiny student: engine written only through the gates, meta recorded,
refusals explained, ``--allow-over-budget`` recorded, ``wayvert inspect --json`` shows what the gates found."""
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import wayvert  # noqa: E402
from wayvert.calibration.cli import EXIT_REFUSED  # noqa: E402
from wayvert.cli import main  # noqa: E402

import wayvert.training  # noqa: E402

TINY = str(Path(wayvert.training.__file__).parent / "configs" / "tiny.toml")


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    root = tmp_path_factory.mktemp("calib")
    assert main(["generate", str(root / "data"), "--episodes", "3", "--duration", "4", "--seed", "21",
                 "--bad-dreams-fraction", "0", "--quiet"]) == 0
    assert main(["train", "--config", TINY, "--set", f"data.train={root / 'data'}", "--set", "data.val=",
                 "--set", "optim.epochs=1", "--out", str(root / "student"), "--quiet"]) == 0
    return root


def _calibrate(root, out, *extra):
    return main(["calibrate", str(root / "student" / "model.pt"), "--data", str(root / "data"), "-o", str(out),
                 "--calibration-frames", "8", "--profile", "orin-class-75w", "--quiet", *extra])


def test_calibrate_writes_a_gated_engine_with_its_figures(student, tmp_path, capsys):
    out = tmp_path / "e.wvrt"
    assert _calibrate(student, out, "--tolerance", "10") == 0
    engine = wayvert.Engine.load(out)
    meta = engine.meta
    assert meta["quantization"]["calibration"]["method"] == "entropy"
    assert meta["accuracy"]["passed"] and meta["accuracy"]["ade_fp32"] > 0
    assert set(meta["accuracy"]["sqnr_db"]) >= {"trajectories", "mode_logits"}
    assert meta["profile"]["name"] == "orin-class-75w" and meta["profile"]["latency_p99_ms"] > 0
    report = tmp_path / "e_report"
    assert {"report.json", "report.md", "sqnr.png", "latency_by_op.png"} <= {p.name for p in report.iterdir()}
    capsys.readouterr()
    assert main(["inspect", str(out), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["accuracy"]["ade_engine"] == meta["accuracy"]["ade_engine"]
    assert {"name", "latency_p99_ms", "power_w", "frame_rate_hz"} <= set(shown["profile"])


def test_engine_missing_the_accuracy_tolerance_is_refused_and_not_written(student, tmp_path, capsys):
    out = tmp_path / "refused.wvrt"
    assert _calibrate(student, out, "--tolerance", "-1") == EXIT_REFUSED   # no engine can shrink ADE by 100%
    assert not out.exists()
    assert "ADE" in capsys.readouterr().out
    r = json.loads((tmp_path / "refused_report" / "report.json").read_text())
    assert r["refused"] and "engine_bytes" not in r


def test_over_budget_is_refused_unless_allowed_and_then_recorded(student, tmp_path):
    profile = tmp_path / "tight.toml"
    base = Path(wayvert.calibration.__file__).parent / "profiles" / "orin-class-75w.toml"
    text = base.read_text()
    profile.write_text(text.replace("power_budget_w = 75.0", "power_budget_w = 0.001"))
    out = tmp_path / "tight.wvrt"
    assert _calibrate(student, out, "--tolerance", "10", "--profile", str(profile)) == EXIT_REFUSED
    assert not out.exists()
    assert _calibrate(student, out, "--tolerance", "10", "--profile", str(profile), "--allow-over-budget") == 0
    prof = wayvert.Engine.load(out).meta["profile"]
    assert prof["allow_over_budget"] and prof["over_budget"] and not prof["meets_power"]


def test_the_engines_folder_is_made_and_an_unwritable_one_is_a_typed_error(student, tmp_path, capsys):
    """Regression: `-o runs/x/engines/r0.wvrt` into a folder that did not exist yet died with a FileNotFoundError
    traceback after the whole calibration."""
    out = tmp_path / "new" / "folder" / "e.wvrt"
    assert _calibrate(student, out, "--tolerance", "10") == 0 and wayvert.Engine.load(out).meta["accuracy"]
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert _calibrate(student, blocker / "e.wvrt", "--tolerance", "10") == 3      # engine I/O error, no traceback
    assert "cannot create the output folder" in capsys.readouterr().err
