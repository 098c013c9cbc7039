"""``wayvert curate INDEX --require SPEC.toml -o SELECTION``: coverage of a curriculum and a balanced selection;
``wayvert curate INDEX --query EPISODE:FRAME``: the frames nearest to an example."""
from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_UNCOVERED = 8

EPILOG = """a curriculum (docs/curation.md): [selection] frames, min_distance, by, seed; [scenario] minimum frames
  per class; [condition.NAME] index columns to match (a value, or [lo, hi) for a range) and min_frames.

what it writes: SELECTION (CSV: episode_path, frame, episode, scenario, why), which `wayvert train --set
  data.selection=SELECTION` samples from; SELECTION.report.json and the report in Markdown on stdout (or
  --report FILE.md): per requirement the frames required, in the index, selected, missing, and how many more
  to record where the index itself is short.

examples:
  wayvert curate runs/pool.index --require examples/curriculum.toml -o runs/curated.csv
  wayvert curate runs/pool.index --query synthetic-100007:31 --k 5

exit codes: 0 ok, 2 bad arguments or curriculum, 4 unreadable index, 8 with --strict: a requirement is not met
  (the selection is still written).
"""


def _cmd_curate(args: argparse.Namespace) -> int:
    from wayvert.errors import InvalidArgumentError
    from wayvert.index.table import read_index

    from .output import report, report_markdown, write_report, write_selection
    from .select import nearest, select_frames
    from .spec import load_curriculum

    if (args.query is None) == (args.require is None):
        raise InvalidArgumentError("give --require SPEC.toml (with -o SELECTION) or --query EPISODE:FRAME")
    if args.query is not None:
        index = read_index(args.index)
        names = index.keys()
        keys = {k: i for i, k in enumerate(names)}
        if args.query not in keys:
            raise InvalidArgumentError(f"--query {args.query!r}: no such frame in the index (EPISODE_ID:FRAME, e.g. "
                                       f"{next(iter(keys), 'synthetic-000001:0')})")
        row = keys[args.query]
        print("| rank | frame | cosine distance | scenario (engine) | label | speed m/s | weather | lighting |")
        print("|---|---|---|---|---|---|---|---|")
        for rank, (i, d) in enumerate([(row, 0.0)] + nearest(index, row, args.k)):
            print(f"| {rank} | {names[i]} | {d:.4f} | {index['scenario'][i]} | {index['label_scenario'][i]} | "
                  f"{float(index['speed_mps'][i]):.1f} | {index['weather'][i]} | {index['lighting'][i]} |")
        return 0
    if not args.out:
        raise InvalidArgumentError("--require needs -o SELECTION (the CSV to write)")
    cur = load_curriculum(args.require)
    index = read_index(args.index)
    if len(index) == 0:
        raise InvalidArgumentError(f"{args.index}: the index has no frames")
    if args.scenario_filter:
        from wayvert.index.over_time import load_filter

        # the engine's classes as the filter over time says them (by = "scenario" selects by these)
        index.columns["scenario"] = load_filter(args.scenario_filter).classes(index)
    sel = select_frames(index, cur)
    write_selection(args.out, index, sel, cur.by)
    rep = report(index, sel, args.require, cur.by)
    write_report(args.out + ".report.json", rep)
    md = report_markdown(rep)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            f.write(md)
    else:
        sys.stdout.write(md)
    print(f"wrote {args.out} ({len(sel.rows)} frames) and {args.out}.report.json", file=sys.stderr)
    return EXIT_UNCOVERED if args.strict and not sel.covered else 0


def add_command(sub: Any) -> None:
    from wayvert.replay.cli import _positive_int

    p = sub.add_parser("curate", help="check an index against a curriculum and select a balanced, de-duplicated "
                       "set of frames for training; or find the frames nearest to an example",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("index", metavar="INDEX", help="an index folder written by `wayvert index`")
    p.add_argument("--require", metavar="SPEC.toml", help="the curriculum to cover")
    p.add_argument("-o", "--out", metavar="SELECTION", help="the selection CSV to write")
    p.add_argument("--report", metavar="FILE.md", help="write the Markdown report here instead of stdout")
    p.add_argument("--strict", action="store_true", help=f"exit {EXIT_UNCOVERED} when a requirement is not met")
    p.add_argument("--query", metavar="EPISODE:FRAME", help="print the frames nearest to this one (trunk embedding)")
    p.add_argument("--k", type=_positive_int, default=10, help="with --query: how many (default 10)")
    p.add_argument("--scenario-filter", metavar="FILTER.json", help="with --require: classify each frame by this "
                   "filter over time (`wayvert scenario-filter fit`) instead of the engine's one-frame class")
    p.set_defaults(func=_cmd_curate)
