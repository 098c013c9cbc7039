"""Which candidate engine ships (`make select`, `make engine`): chosen closed loop, never open loop, on selection
routes (80000.., never the evaluation routes), and through every shipped rig.

Each candidate has one `wayvert eval --engine` JSON per rig, ``FOLDER/<candidate>.json`` for the main rig (the
nuScenes-like six cameras, SELECT_ROUTES routes) and ``FOLDER/<candidate>.<rig>.json`` for each other shipped rig
(fewer routes). The ranking is: fewest incidents (collisions + lane departures) summed over every rig first, then
the most progress against the expert on the main rig. A candidate that drives further on one rig but crashes
through another does not ship (docs/results.md, "A candidate not shipped": the pool student, 2026-12-04).
``python -m wayvert.closed_loop.selection FOLDER CANDIDATE ...`` prints the table and the winner's name last.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wayvert.errors import InputError


@dataclass(frozen=True)
class Standing:
    name: str
    progress: float                  # main rig, against the expert
    fallback: float                  # main rig
    incidents: dict[str, int]        # per rig: collisions + lane departures

    @property
    def total_incidents(self) -> int:
        return sum(self.incidents.values())


def engine_total(path: str | Path) -> dict[str, Any]:
    """The engine row's totals of a `wayvert eval --engine` JSON (typed errors for a missing or foreign file)."""
    path = Path(path)
    try:
        rows = json.loads(path.read_text())["rows"]
        total: dict[str, Any] = next(v["total"] for k, v in rows.items() if k.startswith("engine"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such evaluation (run `make select` first)") from None
    except (KeyError, StopIteration, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not a `wayvert eval --engine` JSON ({e})") from None
    return total


def standing(folder: str | Path, name: str) -> Standing:
    """A candidate's figures from its evaluations in ``folder``."""
    root = Path(folder)
    main = engine_total(root / f"{name}.json")
    incidents = {"main": int(main["collisions"]) + int(main["lane_departures"])}
    for extra in sorted(root.glob(f"{name}.*.json")):
        t = engine_total(extra)
        incidents[extra.name[len(name) + 1:-len(".json")]] = int(t["collisions"]) + int(t["lane_departures"])
    return Standing(name, float(main["progress_ratio"]), float(main["fallback_share"]), incidents)


def choose(standings: list[Standing]) -> Standing:
    """Fewest incidents over every rig, then the most progress on the main rig; a tie keeps the earlier one."""
    if not standings:
        raise InputError("no candidates to choose from")
    return min(standings, key=lambda s: (s.total_incidents, -s.progress, standings.index(s)))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print("usage: python -m wayvert.closed_loop.selection FOLDER CANDIDATE [CANDIDATE ...]", file=sys.stderr)
        return 2
    table = [standing(args[0], n) for n in args[1:]]
    for s in table:
        rigs = ", ".join(f"{rig} {n}" for rig, n in s.incidents.items())
        print(f"{s.name}: progress {s.progress:.3f}, fallback {s.fallback:.3f}, incidents {rigs}", file=sys.stderr)
    print(choose(table).name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
