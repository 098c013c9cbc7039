"""``wayvert index EPISODES --engine ENGINE -o INDEX``: index an episode store by scenario with the deployed engine."""
from __future__ import annotations

import argparse
import sys
from typing import Any

EPILOG = """what it writes (docs/curation.md): INDEX/parts/<episode>.parquet, one row per frame set (episode, time,
  ego speed and command, conditions, scenario probabilities p_<class> and the most probable class, lead
  distance, target speed, curvature, the chosen mode and its score, with --verify the verifier's verdict and
  the failed checks, and the trunk's embedding), and INDEX/index.json (engine, options, episodes done).

resumable: run the same command again after an interruption; finished episodes are skipped. A different
  engine or --verify is refused (exit 4) unless --overwrite.

examples:
  wayvert index runs/pool --engine wayvert/data/reference.wvrt -o runs/pool.index
  wayvert index runs/pool --engine wayvert/data/reference.wvrt -o runs/pool.index --verify --threads 2
  duckdb -c "SELECT scenario, count(*) FROM 'runs/pool.index/parts/*.parquet' GROUP BY 1"

exit codes: 0 ok, 2 bad arguments (pyarrow missing), 3 engine malformed or without the heads an index needs,
  4 bad episode or an index folder of another engine.
"""


def _cmd_index(args: argparse.Namespace) -> int:
    from .build import build_index

    s = build_index(args.episodes, args.engine, args.out, threads=args.threads, verify=args.verify,
                    overwrite=args.overwrite, progress=not args.quiet and sys.stderr.isatty())
    print(f"indexed {s.episodes_indexed} episodes ({s.episodes_skipped} already done), {s.frames} frames in "
          f"{s.seconds:.1f} s: {s.frames_per_s:.1f} frames/s; {s.frames_not_run} frame sets could not run; "
          f"the index has {s.total_frames} frames of {s.total_episodes} episodes -> {args.out}")
    return 0


def add_command(sub: Any) -> None:
    from wayvert.replay.cli import _positive_int

    p = sub.add_parser("index", help="run the engine over every frame of an episode store and write a Parquet index "
                       "(scenario probabilities, heads, verdicts, embeddings) for curation",
                       description="Index EPISODES (a folder of episodes, or one) with ENGINE: one row per frame set.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("episodes", metavar="EPISODES", help="a folder of episodes (folders or .tar), or one episode")
    p.add_argument("--engine", required=True, help="the int8 engine (.wvrt) with a scenario_logits head")
    p.add_argument("-o", "--out", required=True, metavar="INDEX", help="index folder to write (or resume)")
    p.add_argument("--verify", action="store_true", help="also run the trajectory verifier on the recorded objects")
    p.add_argument("--threads", type=_positive_int, help="the session's intra-op threads (default: every CPU)")
    p.add_argument("--overwrite", action="store_true", help="start the index folder afresh")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_index)


FILTER_EPILOG = """the scenario over time (docs/curation.md): a linear filter over a window of an index's columns (the
  engine's scenario log-probabilities, lead distance, target speed, curvature; the ego speed and the route command
  it was given) at --before..--after steps around each frame set, a step the frame period of the indexes it was
  fitted on (labelled episodes indexed by the same engine). It sees motion that one frame set cannot (a car merging
  against one leaving the lane). --after 0 is causal. A denser index is read at the filter's step.

examples:
  wayvert scenario-filter fit runs/fit.index -o runs/scenario-filter.json --before 4 --after 4
  wayvert scenario-filter eval runs/heldout.index runs/heldout2.index --filter runs/scenario-filter.json
  wayvert curate runs/pool.index --require examples/curriculum.toml -o sel.csv --scenario-filter runs/scenario-filter.json

exit codes: 0 ok, 2 bad arguments (no labelled frames to fit on, episodes of different frame rates), 4 unreadable
  index or filter, a filter fitted on another engine's outputs, or an index sparser than the filter's step.
"""


def _cmd_filter_fit(args: argparse.Namespace) -> int:
    from .accuracy import Confusion, confusion_of
    from .over_time import COMMAND_INPUTS, fit_filter
    from .table import read_index

    indexes = [read_index(p) for p in args.index]
    f = fit_filter(indexes, before=args.before, after=args.after, l2=args.l2,
                   commands=() if args.without_command else COMMAND_INPUTS)
    f.save(args.out)
    fitted = [confusion_of(ix["label_scenario"], f.classes(ix)) for ix in indexes]
    frames = sum(int(c.matrix.sum()) for c in fitted)
    total = sum((c.matrix for c in fitted[1:]), fitted[0].matrix)
    inputs = "outputs and route command" if f.commands else "outputs only"
    print(f"fitted on {frames} labelled frame sets of {len(indexes)} index(es), window -{args.before}..+{args.after} "
          f"steps of {f.frame_period_s:g} s, "
          f"the engine's {inputs}: "
          f"balanced accuracy on those frames {Confusion(total).balanced_accuracy:.3f} (not a held-out figure) "
          f"-> {args.out}")
    return 0


def _cmd_filter_eval(args: argparse.Namespace) -> int:
    import numpy as np

    from .accuracy import balanced_accuracy_interval, confusion_of
    from .over_time import load_filter
    from .table import read_index

    f = load_filter(args.filter)
    steps = f"steps of {f.frame_period_s:g} s" if f.frame_period_s is not None else "frame sets"
    labels: list[Any] = []
    engine: list[Any] = []
    filtered: list[Any] = []
    episodes: list[str] = []
    owners: list[str] = []
    for path in args.index:
        ix = read_index(path)
        labels += list(ix["label_scenario"])
        engine += list(ix["scenario"])
        filtered += list(f.classes(ix))
        episodes += [f"{path}/{e}" for e in ix["episode"]]      # an episode name is unique within its index only
        owners += [path] * len(ix)
    owner = np.asarray(owners, dtype=object)
    measured = [(path, owner == path) for path in args.index]
    if len(args.index) > 1:
        measured.append(("pooled", np.ones(len(labels), bool)))
    for name, keep in measured:
        lab, one, flt, grp = (np.asarray(v, dtype=object)[keep] for v in (labels, engine, filtered, episodes))
        before, after = confusion_of(lab, one), confusion_of(lab, flt)
        if not after.matrix.sum():
            print(f"{name}: no labelled frame sets to measure on")
            continue
        lo0, hi0 = balanced_accuracy_interval(lab, one, grp)
        lo, hi = balanced_accuracy_interval(lab, flt, grp)
        print(f"{name}: {int(after.matrix.sum())} labelled frame sets; balanced accuracy (95% interval over "
              "episodes):")
        print(f"  engine, one frame set:      {before.balanced_accuracy:.3f} [{lo0:.3f}, {hi0:.3f}]")
        print(f"  filter -{f.before}..+{f.after} {steps}: {after.balanced_accuracy:.3f} [{lo:.3f}, {hi:.3f}]")
        print(after.markdown(by="filter"), end="")
    return 0


def add_filter_command(sub: Any) -> None:
    from wayvert.replay.cli import whole_number_at_least

    _non_negative_int = whole_number_at_least(0)
    p = sub.add_parser("scenario-filter", help="fit or measure a filter over a window of an index's frames that "
                       "classifies each frame's scenario from its neighbours too",
                       description="The scenario over time: fit a filter on labelled indexes, or measure one.",
                       epilog=FILTER_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = p.add_subparsers(dest="verb", required=True)
    fit = verbs.add_parser("fit", help="fit a filter on labelled indexes written by one engine")
    fit.add_argument("index", nargs="+", metavar="INDEX", help="index folders of labelled episodes")
    fit.add_argument("-o", "--out", required=True, metavar="FILTER.json", help="the filter file to write")
    fit.add_argument("--before", type=_non_negative_int, default=4,
                     help="steps before, a step the indexes' frame period (default 4)")
    fit.add_argument("--after", type=_non_negative_int, default=4, help="steps after (default 4; 0: causal)")
    fit.add_argument("--l2", type=float, default=1e-2, help="L2 penalty on the weights (default 0.01)")
    fit.add_argument("--without-command", action="store_true",
                     help="read the engine's outputs only, not the route command it was given")
    fit.set_defaults(func=_cmd_filter_fit)
    ev = verbs.add_parser("eval", help="the filter's confusion table and balanced accuracy on labelled indexes")
    ev.add_argument("index", nargs="+", metavar="INDEX",
                    help="index folders of labelled episodes (each measured, then all pooled)")
    ev.add_argument("--filter", required=True, metavar="FILTER.json", help="a filter written by `fit`")
    ev.set_defaults(func=_cmd_filter_eval)

