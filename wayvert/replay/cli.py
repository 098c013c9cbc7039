"""``wayvert run ENGINE --episode DIR``: replay a recorded episode through an engine, one JSON line per frame set."""
from __future__ import annotations

import argparse
import os
import sys
from typing import IO, Any, Callable

EPILOG = """what it does, per frame set, in time order:
  the episode's cameras -> sensor adapter (episode rig -> the engine's canonical rig) -> engine (one session
  for the whole episode) -> trajectory verifier (the recorded objects; episodes record no drivable area,
  so "boundaries" is null). Ego speed, yaw rate and the route command are interpolated from ego.csv.

output: one JSON object per frame set (stdout or --out): frame, t_s, degraded + degraded_reasons
  (missing_camera, stale_timestamp, nan_ego, ego_out_of_log, objects_truncated, nonfinite_output),
  missing_cameras, ran, ego, coverage, objects, boundaries, wet, outputs (every engine output),
  verdict (chosen, top, fallback_used, passed, reasons, fallback_reasons, margins, trajectory),
  timing_ms (read, adapter, engine, verifier, total). A summary line goes to stderr. docs/cli.md has
  every field.

examples:
  wayvert generate episodes --episodes 1 --seed 7 --duration 10        # a synthetic episode to replay
  wayvert run wayvert/data/reference.wvrt --episode episodes/episode_000007 --out replay.jsonl
  wayvert run model.wvrt --episode drive.tar --rig recalibrated.json --frames 20 | jq -c .verdict.reasons
  wayvert run wayvert/data/reference.wvrt --episode drive.tar --out replay.jsonl --plot replay.png

exit codes: 0 ok, 2 bad arguments, 3 engine malformed, unreadable or not replayable, 4 bad episode or rig.
"""


def whole_number_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse ``type`` for a whole number >= ``minimum``."""
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if n < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {n}")
        return n
    return parse


_positive_int = whole_number_at_least(1)


def _cmd_run(args: argparse.Namespace) -> int:
    from wayvert.errors import InvalidArgumentError

    from . import replay_episode, summarize, summary_line, to_json_line

    if args.plot:  # fail before the replay, not after it
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise InvalidArgumentError("--plot needs matplotlib (pip install matplotlib)") from None
    budget = None if args.budget_ms is None else args.budget_ms / 1e3
    records = replay_episode(args.engine, args.episode, rig=args.rig, frames=args.frames, budget_s=budget)
    out: IO[str]
    if args.out:
        try:
            out = open(args.out, "w", encoding="utf-8")
        except OSError as e:
            raise InvalidArgumentError(f"--out {args.out}: cannot write: {e.strerror or e}") from None
    else:
        out = sys.stdout
    progress = bool(args.out) and sys.stderr.isatty()
    kept: list[dict[str, Any]] = []
    try:
        for rec in records:
            out.write(to_json_line(rec) + "\n")
            # Only what the summary needs is kept: a long episode's records would otherwise pile up in memory.
            kept.append({k: rec[k] for k in ("degraded", "ran", "verdict", "timing_ms", "pose", "deadline")})
            if progress:
                print(f"\rframe set {rec['frame'] + 1}", end="", file=sys.stderr, flush=True)
        out.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as a Unix filter does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        if out is not sys.stdout:
            out.close()
    if progress:
        print(file=sys.stderr)
    print(summary_line(summarize(kept)), file=sys.stderr)
    if args.plot:
        from .plot import plot_replay

        plot_replay(kept, args.plot, title=f"wayvert run: {os.path.basename(os.path.normpath(args.episode))}")
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def add_command(sub: Any) -> None:
    r = sub.add_parser("run", help="replay a recorded episode through an engine: sensor adapter, one session, "
                       "verifier; one JSON line per frame set",
                       description="Replay a recorded episode (a folder or uncompressed .tar; docs/episode-format.md) "
                       "offline through ENGINE exactly as the vehicle would run it, and write what the network "
                       "and the verifier decided for every frame set as JSON lines.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("engine", metavar="ENGINE", help="path to a .wvrt engine, e.g. wayvert/data/reference.wvrt")
    r.add_argument("--episode", required=True, metavar="DIR",
                   help="episode folder or uncompressed .tar (its rig.json is the rig unless --rig is given)")
    r.add_argument("--rig", metavar="RIG", help="override the episode's rig.json: a shipped rig name (e.g. "
                   "canonical_3cam) or a rig JSON file; it must have the episode's cameras and frame shapes")
    r.add_argument("--out", metavar="FILE.jsonl", help="write the records here instead of stdout")
    r.add_argument("--budget-ms", type=float, metavar="MS",
                   help="frame budget for adapter + engine + verifier (default: the engine's profile frame period, "
                        "100 ms without one); a frame past it drives the previous plan advanced, or the fallback")
    r.add_argument("--frames", type=_positive_int, metavar="N", help="replay only the first N frame sets")
    r.add_argument("--plot", metavar="PNG", help="also draw a bird's-eye plot: the recorded path and each frame set's "
                   "executed trajectory (chosen mode, or the fallback in red); needs matplotlib")
    r.set_defaults(func=_cmd_run)
