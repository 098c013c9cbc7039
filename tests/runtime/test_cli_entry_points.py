"""``wayvert`` finds every command beyond the runtime's own through the ``wayvert.commands`` entry points."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from wayvert import cli


def _subcommands() -> set[str]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return set(sub.choices)


def test_toolchain_commands_come_from_entry_points() -> None:
    names = {ep.name: ep.value for ep in metadata.entry_points(group=cli.COMMANDS_GROUP)}
    assert names["training"] == "wayvert.training.cli:add_commands"
    assert names["calibration"] == "wayvert.calibration.cli:add_commands"
    assert {"demo", "inspect", "run", "bench", "generate", "train", "distill", "eval", "calibrate"} <= _subcommands()


def test_help_names_missing_extras_and_how_to_install_them(monkeypatch: pytest.MonkeyPatch) -> None:
    real_version = metadata.version

    def version(name: str) -> str:
        if name == "torch":
            raise metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(metadata, "version", version)
    assert "train" in cli.missing_extras()
    help_text = " ".join(cli.build_parser().format_help().split())
    assert "Command sets installed (entry points 'wayvert.commands'): training, calibration." in help_text
    assert "Extras not installed: train" in help_text and "pip install 'wayvert[train" in help_text


def test_a_package_of_ones_own_adds_a_command(tmp_path: Path) -> None:
    (tmp_path / "my_commands.py").write_text(
        "def add_commands(sub):\n"
        "    p = sub.add_parser('hello', help='say hello')\n"
        "    p.set_defaults(func=lambda args: print('hello from my package') or 0)\n")
    dist = tmp_path / "my_commands-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-commands\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[wayvert.commands]\nmine = my_commands:add_commands\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "wayvert.cli", "hello"], capture_output=True, text=True, env=env,
                         cwd="/")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "hello from my package"
    helped = subprocess.run([sys.executable, "-m", "wayvert.cli", "--help"], capture_output=True, text=True, env=env,
                            cwd="/")
    listed = " ".join(helped.stdout.split())
    found = re.search(r"Command sets installed \(entry points 'wayvert.commands'\): ([^.]*)\.", listed)
    assert "hello" in listed and found is not None
    assert set(found.group(1).split(", ")) == {"training", "calibration", "mine"}
