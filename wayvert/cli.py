"""The ``wayvert`` command line: one entry point, subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

EXIT_OK, EXIT_USAGE, EXIT_ENGINE, EXIT_INPUT, EXIT_DIVERGED = 0, 2, 3, 4, 5


def _cmd_demo(args: argparse.Namespace) -> int:
    from wayvert.demo import run_demo

    return run_demo(out_dir=args.out, frames=args.frames, rig=args.rig, seed=args.seed, engine_path=args.engine)


def _cmd_inspect(args: argparse.Namespace) -> int:
    from wayvert.inspect import describe_engine

    print(describe_engine(args.engine, as_json=args.json))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wayvert",
        description="wayvert: run, inspect and benchmark int8 driving-network engines (.wvrt).",
        epilog="Exit codes: 0 ok, 2 bad arguments or configuration, 3 engine error (malformed/unsupported/"
               "unreadable), 4 input error (frames, episodes, checkpoints), 5 training diverged, 6 engine refused by a "
               "calibration gate.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    d = sub.add_parser("demo", help="drive the synthetic world through a non-canonical rig, the sensor adapter, the "
                       "reference engine and the verifier, closed loop; print latency, budget, power, accuracy")
    d.add_argument("--out", default="demo_out", help="folder for the demo's files (default: demo_out)")
    d.add_argument("--frames", type=int, default=300, help="frames to drive at 10 Hz (default 300)")
    d.add_argument("--rig", default="nuscenes_like_6cam", help="shipped rig name or rig JSON file (default nuscenes_like_6cam)")
    d.add_argument("--seed", type=int, default=90003, help="world seed (default 90003)")
    d.add_argument("--engine", help="engine to drive with (default: the shipped reference engine)")
    d.set_defaults(func=_cmd_demo)
    i = sub.add_parser("inspect", help="print an engine's meta, inputs, outputs, op table (MACs, FLOPs, bytes per op), "
                       "arena size, quantization, accuracy and target-profile estimates")
    i.add_argument("engine", help="path to a .wvrt engine")
    i.add_argument("--json", action="store_true", help="print machine-readable JSON instead of a table")
    i.set_defaults(func=_cmd_inspect)
    # The runtime's own commands (numpy + the C++ runtime; bench --compare needs the peers' packages).
    from wayvert.benchmark.cli import add_command as add_bench_command
    from wayvert.replay.cli import add_command as add_run_command

    add_run_command(sub)
    add_bench_command(sub)
    # The toolchain's commands: no PyTorch at import; running them needs the train extra.
    from wayvert.calibration.cli import add_commands as add_calibration_commands
    from wayvert.training.cli import add_commands as add_training_commands

    add_training_commands(sub)
    add_calibration_commands(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from wayvert.errors import EngineFormatError, EngineIOError, InputError, InvalidArgumentError, WayvertError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except InvalidArgumentError as e:
        print(f"wayvert: {e}", file=sys.stderr)
        return EXIT_USAGE
    except FloatingPointError as e:
        print(f"wayvert: training diverged: {e}", file=sys.stderr)
        return EXIT_DIVERGED
    except (EngineFormatError, EngineIOError) as e:
        print(f"wayvert: engine error: {e}", file=sys.stderr)
        return EXIT_ENGINE
    except InputError as e:
        print(f"wayvert: input error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except WayvertError as e:
        print(f"wayvert: error: {e}", file=sys.stderr)
        return EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
