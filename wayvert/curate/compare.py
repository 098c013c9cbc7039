"""The flywheel's measured table (``make flywheel``, docs/curation.md and docs/results.md): for each selection, what
it holds, how its student's engine drives on the held-out routes, and how its scenario head classifies held-out
frames. ``python -m wayvert.curate.compare RUN NAME[:SELECTION] ...`` prints it as Markdown (SELECTION: the stem of the
selection CSV the row trained on, default NAME). numpy and pyarrow only."""
from __future__ import annotations

import sys
from pathlib import Path

from wayvert import schema
from wayvert.closed_loop.selection import engine_total
from wayvert.index.accuracy import scenario_confusion
from wayvert.index.table import read_index

from .output import read_selection


def _label_counts(run: Path, selection: str) -> dict[str, int]:
    """Recorded labels of the frames a row trained on: the selection ``RUN/SELECTION.csv``, or every frame of the
    episodes under ``RUN/SELECTION/`` when that is a folder (a row trained on a whole store)."""
    counts = {c: 0 for c in schema.SCENARIOS}
    from wayvert.episodes import find_episodes, open_episode

    chosen: dict[str, set[int] | None]
    if (run / selection).is_dir():
        chosen = {str(p): None for p in find_episodes(run / selection)}
    else:
        chosen = dict(read_selection(run / f"{selection}.csv"))
    for path, frames in chosen.items():
        labels = open_episode(path).frames.scenario
        for f in (range(len(labels)) if frames is None else frames):
            if 0 <= labels[f] < len(schema.SCENARIOS):
                counts[schema.SCENARIOS[int(labels[f])]] += 1
    return counts


def compare(run: str | Path, rows: list[str]) -> str:
    root = Path(run)
    pairs = [(r.split(":", 1) + [r])[:2] for r in rows]
    names = [n for n, _ in pairs]
    out = ["Training data (recorded labels of the selected frames):", "",
           "| selection | frames | " + " | ".join(schema.SCENARIOS) + " |", "|---" * (len(schema.SCENARIOS) + 2) + "|"]
    for n, sel in pairs:
        c = _label_counts(root, sel)
        source = f"{sel}/" if (root / sel).is_dir() else f"{sel}.csv"
        out.append(f"| {n} ({source}) | {sum(c.values())} | " + " | ".join(str(c[s]) for s in schema.SCENARIOS) + " |")
    out += ["", "Closed loop, int8 engine through the deployed stack (held-out routes) and the scenario head on "
            "held-out labelled frames:", "",
            "| selection | progress vs expert | route completion | fallback share | collisions | lane departures | "
            "scenario balanced accuracy | " + " | ".join(f"recall {s}" for s in schema.SCENARIOS) + " |",
            "|---" * (7 + len(schema.SCENARIOS)) + "|"]
    confusions = {}
    for n in names:
        t = engine_total(root / "closedloop" / f"{n}.json")
        conf = scenario_confusion(read_index(root / f"heldout.{n}.index"))
        confusions[n] = conf
        rec = conf.recall
        out.append(f"| {n} | {t['progress_ratio']:.2f} | {t['route_completion']:.2f} | {t['fallback_share']:.3f} | "
                   f"{t['collisions']} | {t['lane_departures']} | {conf.balanced_accuracy:.2f} | "
                   + " | ".join(f"{rec[s]:.2f}" if s in rec else "-" for s in schema.SCENARIOS) + " |")
    for n, conf in confusions.items():
        out += ["", f"Confusion of the {n} engine's scenario head on held-out frames:", "", conf.markdown().rstrip()]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print("usage: python -m wayvert.curate.compare RUN_FOLDER NAME[:SELECTION] ...", file=sys.stderr)
        return 2
    sys.stdout.write(compare(args[0], args[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
