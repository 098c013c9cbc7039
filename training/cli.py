"""The trainer's subcommands of ``wayvert``: generate, dagger, train, distill, eval.

Importing this module needs no PyTorch (``wayvert --help`` must work for integrators); the commands import
it when they run and say how to install it when it is missing.
"""
from __future__ import annotations

import argparse
import math
import json
import sys
from pathlib import Path
from typing import Any

TRAIN_EXTRA_HINT = "this command needs PyTorch: pip install 'wayvert[train]'"


def _need_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError as e:
        raise SystemExit(f"wayvert: {TRAIN_EXTRA_HINT} ({e})") from e


def _cmd_generate(args: argparse.Namespace) -> int:
    from wayvert.errors import InvalidArgumentError
    from wayvert.training.data.generate import generate_dataset

    if not (args.cut_in_rate >= 0.0 and math.isfinite(args.cut_in_rate)):
        raise InvalidArgumentError(f"--cut-in-rate must be a finite number >= 0 per minute, got {args.cut_in_rate}")
    t = generate_dataset(args.out, n_episodes=args.episodes, seed0=args.seed, duration_s=args.duration,
                         bad_dreams_fraction=args.bad_dreams_fraction, left_hand=args.left_hand,
                         workers=args.workers, progress=not args.quiet,
                         **({"lanes": args.lanes} if args.lanes else {}),
                         **({"junction": True} if args.junction else {}),
                         **({"cut_in_rate": args.cut_in_rate} if args.cut_in_rate else {}),
                         **({"start_speed": _speed_range(args.start_speed)} if args.start_speed else {}),
                         **({"frame_stride": 1} if args.frame_hz == 10.0 else {}))
    if isinstance(t, dict):
        print(json.dumps(t))
    return 0


def _speed_range(text: str) -> tuple[float, float]:
    from wayvert.errors import InvalidArgumentError

    try:
        lo, hi = (float(x) for x in text.split(","))
    except ValueError:
        raise InvalidArgumentError(f"--start-speed takes LO,HI (fractions of the desired speed), got {text!r}") from None
    if not (0.0 <= lo <= hi <= 1.2):
        raise InvalidArgumentError(f"--start-speed must be 0 <= LO <= HI <= 1.2, got {text!r}")
    return lo, hi


def _cmd_dagger(args: argparse.Namespace) -> int:
    from wayvert.training.data.dagger import collect

    summary = collect(args.engine, args.out, routes=args.routes, round_=args.round, frames=args.frames,
                      seed0=args.seed, workers=args.workers, progress=not args.quiet)
    fallback = sum(r["fallback_frames"] for r in summary["routes"])
    ticks = sum(r["ticks"] for r in summary["routes"])
    print(json.dumps({"round": summary["round"], "episodes": summary["episodes"], "routes": len(summary["routes"]),
                      "policy_fallback_share": round(fallback / max(ticks, 1), 4),
                      "policy_incidents": sum(r["collided"] or r["departed"] for r in summary["routes"])}))
    Path(args.out, "dagger.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 0


def _cmd_train(args: argparse.Namespace, distill: bool = False) -> int:
    _need_torch()
    from wayvert.training.config import load_config
    from wayvert.training.run.loop import train

    overrides = list(args.set or [])
    if distill and args.teacher:
        overrides.append(f"distill.teacher={args.teacher}")
    if args.out:
        overrides.append(f"out={args.out}")
    cfg = load_config(args.config, overrides)
    summary = train(cfg, distill=distill, resume=args.resume, progress=not args.quiet)
    keep = {k: summary[k] for k in ("kind", "distilled", "epochs", "seconds", "samples_per_s", "val")}
    print(json.dumps(keep))
    return 0


def _models(items: list[str]) -> list[tuple[str, str]]:
    models: list[tuple[str, str]] = []
    for item in items:
        name, sep, path = item.rpartition("=")
        if not sep:
            name, path = Path(item).parent.name or item, item
        models.append((name, path))
    return models


def _cmd_eval(args: argparse.Namespace) -> int:
    from wayvert.errors import InvalidArgumentError

    if args.engine:
        return _cmd_eval_engine(args)
    if not args.data:
        raise InvalidArgumentError("eval needs --data (checkpoints, open and closed loop) or --engine (the deployed "
                                   "stack, closed loop)")
    _need_torch()
    from wayvert.training.evaluate.report import evaluate_models, write_report

    seed0 = 90000 if args.route_seed is None else args.route_seed
    results = evaluate_models(_models(args.model), data=args.data, routes=args.routes, duration_s=args.duration,
                              seed0=seed0, left_hand=args.left_hand, progress=not args.quiet)
    write_report(results, json_path=args.json, markdown_path=args.markdown)
    return 0


def _model_planner(name: str, path: str, threads: int) -> Any:
    """A checkpoint behind the canonical cameras, built in the process that drives it (``wayvert eval --workers``)."""
    import torch

    from wayvert.training.evaluate.planners import ModelPlanner
    from wayvert.training.run.checkpoint import load_model

    if threads:
        torch.set_num_threads(threads)
    model, state = load_model(path)
    return ModelPlanner(model, state["kind"], name)


def _cmd_eval_engine(args: argparse.Namespace) -> int:
    """The deployed stack (numpy + the C++ runtime); --model checkpoints join through the same loop (PyTorch)."""
    import functools

    from wayvert.closed_loop import EVAL_SEED0, evaluate_engine, write_results

    factories = []
    if args.model:
        _need_torch()
        for name, path in _models(args.model):
            if not Path(path).is_file():
                from wayvert.errors import InvalidArgumentError
                raise InvalidArgumentError(f"--model {name}: no checkpoint file {path}")
            factories.append(functools.partial(_model_planner, name, path, 1 if args.workers > 1 else 0))
    say = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    results = evaluate_engine(args.engine, args.rig, args.routes, EVAL_SEED0 if args.route_seed is None
                              else args.route_seed, args.frames, expert_every=args.expert_every,
                              extra_factories=factories, workers=args.workers, repair=not args.no_repair,
                              expert_on_policy=args.expert_on_policy, progress=say)
    write_results(results, args.json, args.markdown)
    return 0


def add_commands(sub: Any) -> None:
    """Register generate / train / distill / eval on ``wayvert``'s subparsers."""
    g = sub.add_parser("generate", help="drive the synthetic world with the expert and record episodes",
                       description="Record episodes (docs/episode-format.md) from the synthetic world: the expert "
                                   "drives; cameras of the canonical rig are rendered at 2 Hz, ego state logged at 10 Hz.")
    g.add_argument("out", help="folder to write episodes into (one sub-folder each)")
    g.add_argument("--episodes", type=int, default=10, help="number of episodes (default 10)")
    g.add_argument("--seed", type=int, default=0, help="seed of the first episode; episode i uses seed+i")
    g.add_argument("--duration", type=float, default=40.0, help="seconds of camera frames per episode (default 40)")
    g.add_argument("--bad-dreams-fraction", type=float, default=0.3,
                   help="share of episodes that start from a perturbed state (default 0.3; 0 turns them off)")
    g.add_argument("--left-hand", action="store_true", help="left-hand traffic (default: right-hand)")
    g.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    g.add_argument("--lanes", type=int, choices=(1, 2, 3), help="lanes of every road (default: drawn per seed, 1-3)")
    g.add_argument("--junction", action="store_true",
                   help="targeted data: every road has a junction (default: drawn per seed)")
    g.add_argument("--cut-in-rate", type=float, default=0.0, metavar="PER_MIN",
                   help="targeted data: vehicles told to cut in ahead of the ego, per minute (default 0; a rare class "
                        "that `wayvert curate` reports short)")
    g.add_argument("--start-speed", metavar="LO,HI",
                   help="the ego starts at a speed drawn per episode in [LO, HI] x its desired speed (default: 0.9): "
                        "data in which the expert speeds back up, against a network that copies its current speed")
    g.add_argument("--frame-hz", type=float, default=2.0, choices=(2.0, 10.0),
                   help="camera frame sets per second (default 2, what training uses; 10: every 0.1 s tick, camera rate "
                        "for a closed-loop-like replay, five times the rendering)")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.set_defaults(func=_cmd_generate)

    d = sub.add_parser("dagger", help="one DAgger round: the engine drives, the expert labels the states it visits",
                       description="DAgger with the synthetic world's expert (docs/training.md): drive --routes routes "
                                   "with ENGINE through the canonical rig, sensor adapter, verifier and tracker; every "
                                   "0.5 s fork the world, let the expert drive the copy for 4 s and write a fork episode "
                                   "(the engine's last frame sets + the expert's future). Add OUT to the next "
                                   "training's data.aggregate. numpy + the C++ runtime only.")
    d.add_argument("engine", help="the policy: an engine (.wvrt) with the student's inputs")
    d.add_argument("-o", "--out", required=True, help="folder to write the fork episodes into")
    d.add_argument("--round", type=int, default=1, help="round number: names episodes, picks the route seeds")
    d.add_argument("--routes", type=int, default=24, help="routes to drive (default 24)")
    d.add_argument("--frames", type=int, default=200, help="ticks of 0.1 s per route (default 200)")
    d.add_argument("--seed", type=int, default=None,
                   help="first route's world seed (default 30000 + 1000 * round, away from evaluation routes)")
    d.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.set_defaults(func=_cmd_dagger)

    for name, distill in (("train", False), ("distill", True)):
        t = sub.add_parser(name, help=("imitation learning from demonstrations (teacher or student)" if not distill
                                       else "distil a student from a trained teacher"),
                           description=("Train a model by imitation (winner-takes-all trajectory loss, mode and aux "
                                        "losses)." if not distill else
                                        "Distil a student: soft targets from the teacher plus the demonstrations.")
                           + " Configuration: a TOML file (see training/configs/) and --set overrides. "
                             "Multi-machine: torchrun --nproc_per_node N -m wayvert.training " + name + " ...")
        t.add_argument("--config", help="TOML config file (training/configs/*.toml); defaults when omitted")
        t.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="override a config value, e.g. --set optim.epochs=3 (repeatable)")
        t.add_argument("--out", help="output folder (overrides the config's 'out')")
        t.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in the output folder")
        t.add_argument("--quiet", action="store_true", help="no progress bars")
        if distill:
            t.add_argument("--teacher", help="teacher checkpoint (overrides distill.teacher)")
        t.set_defaults(func=lambda a, d=distill: _cmd_train(a, distill=d))

    e = sub.add_parser("eval", help="open- and closed-loop evaluation against constant velocity and the expert; "
                       "--engine: the deployed stack closed loop",
                       description="Evaluate checkpoints open loop on held-out episodes (ADE, FDE, miss rate at 2 m, "
                                   "scenario accuracy) and closed loop in the synthetic world (collisions, lane "
                                   "departures, route completion, comfort, per km). Always adds the constant-velocity "
                                   "baseline and the expert as reference rows. With --engine: drive the deployed stack "
                                   "(rig cameras, sensor adapter, engine session, verifier, tracker) on held-out "
                                   "routes and report progress against the expert, fallback share and interventions "
                                   "by reason, incidents per km, comfort, and the verifier's rejection rate of the "
                                   "expert's own plans (numpy + the C++ runtime; no PyTorch unless --model is given).")
    e.add_argument("--engine", help="drive this engine (.wvrt) through the deployed stack, closed loop")
    e.add_argument("--rig", default="nuscenes_like_6cam",
                   help="with --engine: shipped rig name or rig JSON file (default nuscenes_like_6cam)")
    e.add_argument("--frames", type=int, default=200, help="with --engine: ticks of 0.1 s per route (default 200)")
    e.add_argument("--expert-every", type=int, default=1,
                   help="with --engine: check the expert's own plan every N ticks (default 1)")
    e.add_argument("--model", action="append", default=[], metavar="NAME=CHECKPOINT",
                   help="a checkpoint to evaluate, optionally named (repeatable); with --engine it drives through "
                        "the same verifier and tracker, seeing the canonical cameras")
    e.add_argument("--data", help="held-out episodes folder (required without --engine)")
    e.add_argument("--routes", type=int, default=10, help="closed-loop routes (world seeds) per row (default 10)")
    e.add_argument("--duration", type=float, default=40.0, help="seconds per route (default 40; without --engine)")
    e.add_argument("--seed", "--route-seed", dest="route_seed", type=int, default=None,
                   help="seed of the first route (default 70000 with --engine, the held-out evaluation routes; "
                        "90000 without)")
    e.add_argument("--left-hand", action="store_true", help="drive the routes in left-hand traffic (without --engine)")
    e.add_argument("--workers", type=int, default=1,
                   help="with --engine: processes sharing the routes (default 1; same figures with any number)")
    e.add_argument("--expert-on-policy", type=int, default=0, metavar="N",
                   help="with --engine: every N ticks also check the expert's own plan from the state each planner "
                        "reached (a diagnostic; 0: never, the default)")
    e.add_argument("--no-repair", action="store_true",
                   help="with --engine: give the verifier the planners' modes only, not also each mode slowed down "
                        "along its own path (the run-time repair; docs/verifier.md)")
    e.add_argument("--json", help="write all figures (and per-route results) here")
    e.add_argument("--markdown", help="write the tables here (Markdown)")
    e.add_argument("--quiet", action="store_true", help="no progress bars")
    e.set_defaults(func=_cmd_eval)


def main(argv: list[str] | None = None) -> int:
    """``python -m wayvert.training COMMAND`` (what torchrun launches)."""
    p = argparse.ArgumentParser(prog="python -m wayvert.training")
    add_commands(p.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = p.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
