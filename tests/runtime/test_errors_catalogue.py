"""docs/errors.md is true: every row's trigger raises that class with that message, and the table lists exactly the
triggers of tests/runtime/errors_catalogue.py plus the compile rows marked in tests/compile."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from errors_catalogue import CASES

ROOT = Path(__file__).resolve().parents[2]


def _documented_ids() -> list[str]:
    return re.findall(r"^\| ([A-Z]\d\d) \|", (ROOT / "docs" / "errors.md").read_text(), flags=re.M)


def _compile_ids() -> set[str]:
    text = "".join(p.read_text() for p in (ROOT / "tests" / "compile").glob("test_*.py"))
    return {k for group in re.findall(r"errors\.md((?: K\d\d)+)", text) for k in group.split()}


def test_the_catalogue_has_a_test_per_row_and_a_row_per_test():
    documented = _documented_ids()
    assert len(documented) == len(set(documented)), "an id appears twice in docs/errors.md"
    assert len(documented) >= 40
    assert set(documented) == set(CASES) | _compile_ids()


@pytest.mark.parametrize("row", sorted(CASES))
def test_row(row, tmp_path):
    trigger, exc, pattern = CASES[row]
    if exc is None:
        trigger(tmp_path)          # a documented non-error: the trigger asserts what happens instead
        return
    with pytest.raises(exc) as e:
        trigger(tmp_path)
    assert type(e.value) is exc, f"{row}: raised {type(e.value).__name__}, documented {exc.__name__}"
    assert re.search(pattern, str(e.value)), f"{row}: {e.value}"
