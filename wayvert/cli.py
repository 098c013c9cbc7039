"""The ``wayvert`` command line: one entry point, subcommands."""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import textwrap
from importlib import metadata
from typing import Any, Callable, Sequence

EXIT_OK, EXIT_USAGE, EXIT_ENGINE, EXIT_INPUT, EXIT_DIVERGED = 0, 2, 3, 4, 5
# Installed packages add commands here (pyproject.toml: [project.entry-points."wayvert.commands"]): each entry point
# names a function ``add_commands(subparsers)`` whose import needs nothing beyond numpy.
COMMANDS_GROUP = "wayvert.commands"
EXIT_CODES = ("Exit codes: 0 ok, 2 bad arguments or configuration, 3 engine error (malformed/unsupported/"
              "unreadable), 4 input error (frames, episodes, checkpoints, calibration data), 5 training diverged, 6 engine "
              "refused by a calibration gate, 7 a model with ops wayvert cannot run (wayvert compile), 8 a curriculum not covered (wayvert curate "
              "--strict).")


def _cmd_demo(args: argparse.Namespace) -> int:
    from wayvert.demo import run_demo

    return run_demo(out_dir=args.out, frames=args.frames, rig=args.rig, seed=args.seed, engine_path=args.engine)


def _cmd_inspect(args: argparse.Namespace) -> int:
    from wayvert.inspect import describe_engine

    print(describe_engine(args.engine, as_json=args.json))
    return EXIT_OK


def installed_command_sets() -> list[tuple[str, Callable[[Any], None] | None, str]]:
    """(name, add_commands or None, why not) of each entry point in COMMANDS_GROUP, in discovery order."""
    found: list[tuple[str, Callable[[Any], None] | None, str]] = []
    for ep in metadata.entry_points(group=COMMANDS_GROUP):
        try:
            found.append((ep.name, ep.load(), ""))
        except ImportError as e:  # a plugin whose own dependencies are missing must not break the others
            found.append((ep.name, None, f"{type(e).__name__}: {e}"))
    return found


def missing_extras(distribution: str = "wayvert") -> list[str]:
    """The optional extras of ``distribution`` with a requirement not installed (those under other environment
    markers are not judged)."""
    try:
        requires = metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        return []
    missing: set[str] = set()
    for req in requires:
        spec, _, marker = req.partition(";")
        extra = re.search(r"extra\s*==\s*[\"']([^\"']+)[\"']", marker)
        name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
        if extra is None or name is None or re.search(r"python_version|sys_platform|platform_", marker):
            continue
        try:
            metadata.version(name.group(1))
        except metadata.PackageNotFoundError:
            missing.add(extra.group(1))
    return sorted(missing)


def _installed_epilog(command_sets: list[tuple[str, Callable[[Any], None] | None, str]]) -> str:
    loaded = [name for name, add, _ in command_sets if add is not None]
    lines = [f"Command sets installed (entry points '{COMMANDS_GROUP}'): {', '.join(loaded) or 'none'}."]
    lines += [f"Not loaded: {name} ({why})." for name, add, why in command_sets if add is None]
    extras = missing_extras()
    if extras:
        lines.append(f"Extras not installed: {', '.join(extras)}; commands that need one say so when run "
                     f"(pip install 'wayvert[{','.join(extras)}]').")
    width = max(shutil.get_terminal_size().columns - 2, 40)  # argparse's own help width
    return "\n\n".join(textwrap.fill(line, width) for line in lines + [EXIT_CODES])


def build_parser() -> argparse.ArgumentParser:
    command_sets = installed_command_sets()
    p = argparse.ArgumentParser(
        prog="wayvert",
        description="wayvert: run, inspect and benchmark int8 driving-network engines (.wvrt).",
        epilog=_installed_epilog(command_sets),
        formatter_class=argparse.RawDescriptionHelpFormatter,
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

    from wayvert.curate.cli import add_command as add_curate_command
    from wayvert.index.cli import add_command as add_index_command
    from wayvert.index.cli import add_filter_command

    add_run_command(sub)
    add_bench_command(sub)
    add_index_command(sub)
    add_filter_command(sub)
    add_curate_command(sub)
    # Commands of installed packages: the toolchain's (generate, train, distill, eval, calibrate; no PyTorch at
    # import, running them needs the train extra) and any user's own.
    for _name, add_commands, _why in command_sets:
        if add_commands is not None:
            add_commands(sub)
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
