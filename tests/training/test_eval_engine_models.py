"""`wayvert eval --engine ... --model NAME=CHECKPOINT`: a checkpoint that is not there is a usage error (exit 2)
before any route is driven."""
from pathlib import Path

from wayvert import reference_engine_path
from wayvert.cli import main


def test_a_missing_checkpoint_is_named_and_exits_2(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "model.pt"
    assert main(["eval", "--engine", reference_engine_path(), "--model", f"student={missing}", "--workers", "2",
                 "--quiet"]) == 2
    assert "no checkpoint file" in capsys.readouterr().err
