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
