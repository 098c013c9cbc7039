"""The runtime package is typed (py.typed) and passes mypy --strict, native module stub included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_wayvert_package_passes_mypy_strict() -> None:
    pytest.importorskip("mypy")
    proc = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_runtime_package_does_not_import_torch() -> None:
    code = ("import sys, wayvert, wayvert.build, wayvert.reference, wayvert.cli; wayvert.cli.build_parser(); "
            "import wayvert.schema, wayvert.sim, wayvert.episodes, wayvert.control; "
            "import wayvert.training.config, wayvert.training.data; "
            "assert 'torch' not in sys.modules, 'the runtime, the CLI parser, the world and the episode reader need no torch'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd="/")
