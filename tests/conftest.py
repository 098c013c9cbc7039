"""Test-session setup shared by every part's tests."""

from __future__ import annotations

import importlib.machinery
import os
import sys


def _prefer_installed_wayvert() -> None:
    """``python -m pytest`` from the repository root puts the root first on sys.path, where ``wayvert/`` is
    the source tree without the compiled ``_core`` (the Makefile installs the package into .venv, not in
    place). Move the root to the end of sys.path so the installed, built package is the one under test."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    built_in_place = any(os.path.exists(os.path.join(root, "wayvert", "_core" + suffix))
                         for suffix in importlib.machinery.EXTENSION_SUFFIXES)
    if built_in_place or "wayvert" in sys.modules:
        return
    here = [p for p in sys.path if os.path.abspath(p or os.curdir) == root]
    for p in here:
        sys.path.remove(p)
    sys.path.extend(here)


_prefer_installed_wayvert()
