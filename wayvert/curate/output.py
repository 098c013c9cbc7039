"""What ``wayvert curate`` writes: the selection (a CSV list of episode frames that ``wayvert train`` samples from,
``data.selection``) and the coverage report (JSON and Markdown). numpy and the standard library only."""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from wayvert import schema
from wayvert.errors import InputError
from wayvert.index.table import Index

from .select import Selection

#: The selection file's columns: the episode (folder or tar, as a path from where ``wayvert index`` ran, or
#: absolute), the frame-set index in it, then what the curation knew (the episode id, its class, why it was taken).
SELECTION_COLUMNS = ("episode_path", "frame", "episode", "scenario", "why")


class SelectionFileError(InputError):
    """A selection file is unreadable or lacks the episode_path / frame columns; the message names the line."""


def write_selection(path: str | os.PathLike[str], index: Index, sel: Selection, by: str) -> None:
    root = str(index.manifest.get("episodes_root", ""))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SELECTION_COLUMNS)
    for i, why in zip(sel.rows, sel.why):
        rel = str(index["episode_path"][i])
        w.writerow([os.path.join(root, rel) if root else rel, int(index["frame"][i]), index["episode"][i],
                    index[by][i], why])
    Path(path).write_text(buf.getvalue(), encoding="utf-8")


def read_selection(path: str | os.PathLike[str]) -> dict[str, set[int]]:
    """{episode path: frame indices} of a selection file (the first two columns are all that is read)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SelectionFileError(f"{path}: no such selection file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SelectionFileError(f"{path}: unreadable: {e}") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0][:2] != ["episode_path", "frame"]:
        raise SelectionFileError(f"{path}: line 1 must start with the columns episode_path,frame")
    out: dict[str, set[int]] = {}
    for k, row in enumerate(rows[1:], start=2):
        if len(row) < 2:
            raise SelectionFileError(f"{path}: line {k}: expected episode_path,frame")
        try:
            frame = int(row[1])
        except ValueError:
            raise SelectionFileError(f"{path}: line {k}: frame {row[1]!r} is not a whole number") from None
        if frame < 0:
            raise SelectionFileError(f"{path}: line {k}: frame {frame} is negative")
        out.setdefault(row[0], set()).add(frame)
    if not out:
        raise SelectionFileError(f"{path}: the selection lists no frames")
    return out


def recorded_label_counts(index: Index, sel: Selection, by: str) -> dict[str, dict[str, int]] | None:
    """For a selection from labelled episodes: per scenario class, how many selected frames carry that recorded
    label (``labelled``) and, when the classes were counted by another column, how many were taken as that class
    (``taken_as``) and how many of those the label confirms (``confirmed``). None when no selected frame is
    labelled (fleet data): then only the classifier's counts exist."""
    labels = [index["label_scenario"][i] for i in sel.rows]
    if not any(v in schema.SCENARIOS for v in labels):
        return None
    taken = [index[by][i] for i in sel.rows]
    out = {}
    for c in schema.SCENARIOS:
        row = {"labelled": sum(v == c for v in labels)}
        if by != "label_scenario":
            row["taken_as"] = sum(t == c for t in taken)
            row["confirmed"] = sum(t == c and v == c for t, v in zip(taken, labels))
        out[c] = row
    return out


def report(index: Index, sel: Selection, curriculum_path: str, by: str) -> dict[str, Any]:
    rep = {"index": str(index.manifest.get("episodes_root", "")), "curriculum": curriculum_path, "class_column": by,
           "index_frames": len(index), "requested": sel.requested, "selected": int(len(sel.rows)),
           "near_duplicates_skipped": sel.duplicates_skipped, "covered": sel.covered,
           "class_counts": sel.class_counts, "requirements": [r.to_dict() for r in sel.requirements]}
    labels = recorded_label_counts(index, sel, by)
    if labels is not None:
        rep["recorded_labels"] = labels
    return rep


def report_markdown(rep: dict[str, Any]) -> str:
    lines = [f"Selected {rep['selected']} of {rep['requested']} frames from an index of {rep['index_frames']} "
             f"({rep['near_duplicates_skipped']} near-duplicates skipped; classes by `{rep['class_column']}`).", "",
             "| requirement | required | in index | selected | missing | short in index |", "|---|---|---|---|---|---|"]
    for r in rep["requirements"]:
        lines.append(f"| {r['kind']} {r['name']} | {r['required']} | {r['available']} | {r['selected']} | "
                     f"{r['missing']} | {r['short_in_index']} |")
    missing = [r for r in rep["requirements"] if r["missing"]]
    lines.append("")
    if rep["selected"] < rep["requested"]:
        lines.append(f"- The index has too few distinct frames: {rep['requested'] - rep['selected']} short.")
    for r in missing:
        lines.append(f"- {r['kind']} {r['name']}: {r['missing']} frames missing; the index has {r['available']}"
                     + (f", so record or generate at least {r['short_in_index']} more." if r['short_in_index']
                        else " but near-duplicates or the total left them out."))
    if not missing and rep["selected"] >= rep["requested"]:
        lines.append("- Every requirement is met.")
    if "recorded_labels" in rep:
        by_label = rep["class_column"] == "label_scenario"
        lines += ["", "The selection by the recorded labels (labelled episodes)"
                  + ("." if by_label else f": taken as a class by `{rep['class_column']}`, and how many of those the "
                     "label confirms."), "",
                  "| class | labelled |" + ("" if by_label else " taken as | confirmed |"),
                  "|---|---|" + ("" if by_label else "---|---|")]
        for c, r in rep["recorded_labels"].items():
            lines.append(f"| {c} | {r['labelled']} |" + ("" if by_label else f" {r['taken_as']} | {r['confirmed']} |"))
    return "\n".join(lines) + "\n"


def write_report(path: str | os.PathLike[str], rep: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(rep, indent=1) + "\n", encoding="utf-8")


__all__ = ["SELECTION_COLUMNS", "SelectionFileError", "read_selection", "recorded_label_counts", "report",
           "report_markdown", "write_report", "write_selection"]
