"""``import wayvert`` in the repository's root (the source folder shadows the installed package) says what to do
instead of Python's "partially initialized module ... circular import" message about ``_core`` (issue 15)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_import_from_the_source_tree_names_the_cause_and_the_fix() -> None:
    import wayvert

    if Path(wayvert.__file__).resolve().is_relative_to(ROOT):
        pytest.skip("wayvert is installed in editable mode: the source tree is the installed package")
    if any(p.name.startswith("_core.") and p.suffix != ".pyi" for p in (ROOT / "wayvert").iterdir()):
        pytest.skip("a compiled _core lies in the source folder (in-place build): the source tree imports")
    proc = subprocess.run([sys.executable, "-c", "import wayvert"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "circular import" not in proc.stderr
    assert "source tree" in proc.stderr and "another folder" in proc.stderr, proc.stderr


def test_the_installed_package_imports_from_elsewhere() -> None:
    proc = subprocess.run([sys.executable, "-c", "import wayvert; print(wayvert.cpu_isa())"], cwd="/",
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()                     # the ISA the kernels dispatched to
