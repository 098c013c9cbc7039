"""``wayvert calibrate``: the trainer's last step (importing this module needs no PyTorch)."""
from __future__ import annotations

import argparse
import json
from typing import Any

EXIT_REFUSED = 6


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from wayvert.training.cli import _need_torch

    _need_torch()
    from wayvert.calibration.pipeline import CalibrationRun, EngineRefused, calibrate_checkpoint

    run = CalibrationRun(checkpoint=args.checkpoint, data=args.data, output=args.output, method=args.method,
                         profile=args.profile, val=args.val, calibration_frames=args.calibration_frames,
                         ade_tolerance=args.tolerance, allow_over_budget=args.allow_over_budget,
                         closed_loop_routes=args.closed_loop_routes, report_dir=args.report, peers=args.peers,
                         progress=not args.quiet)
    try:
        r = calibrate_checkpoint(run)
    except EngineRefused as e:
        print(f"wayvert: {e}")
        return EXIT_REFUSED
    a, est = r["accuracy"], r["estimate"]
    print(json.dumps({"engine": r["output"], "bytes": r.get("engine_bytes"), "method": r["method"],
                      "ade_fp32": round(a["ade_fp32"], 4), "ade_engine": round(a["ade_engine"], 4),
                      "sqnr_db": {k: round(v, 1) for k, v in a["sqnr_db"].items()},
                      "profile": est["name"], "latency_p99_ms": round(est["latency_p99_ms"], 3),
                      "power_w": round(est["power_w"], 2), "seconds": r["seconds"]}))
    return 0


def add_commands(sub: Any) -> None:
    c = sub.add_parser(
        "calibrate", help="torch.export a trained student, calibrate int8, gate accuracy and budget, write the engine",
        description="Lower a student checkpoint through torch.export to wayvert's int8 ops, calibrate the activations "
                    "on frames of EPISODES, run the engine in the C++ runtime on held-out frames against the fp32 "
                    "student (refused if ADE grows more than --tolerance), estimate p99 latency and power on the "
                    "target profile (refused if over budget unless --allow-over-budget, which is recorded in the "
                    "engine's meta), then write the engine and a report (JSON, Markdown, plots). "
                    f"Exit code {EXIT_REFUSED}: the engine was refused (the report says why).")
    c.add_argument("checkpoint", help="student checkpoint (model.pt from wayvert train/distill)")
    c.add_argument("--data", required=True, help="episodes to draw calibration frames from")
    c.add_argument("--val", help="held-out episodes for the accuracy gate (default: the last 20%% of --data's episodes)")
    c.add_argument("--method", default="entropy", choices=["minmax", "percentile", "entropy", "mse"],
                   help="activation calibrator (default entropy, as TensorRT's)")
    c.add_argument("--profile", default="orin-class-75w", help="target profile name or TOML file (default orin-class-75w)")
    c.add_argument("-o", "--output", required=True, help="engine file to write (.wvrt)")
    c.add_argument("--report", help="report folder (default: <output stem>_report next to the engine)")
    c.add_argument("--calibration-frames", type=int, default=256, help="frames used to calibrate (default 256)")
    c.add_argument("--tolerance", type=float, default=0.05, help="largest allowed relative ADE growth (default 0.05)")
    c.add_argument("--closed-loop-routes", type=int, default=0,
                   help="also drive this many routes with fp32 and with the engine (default 0: open loop only)")
    c.add_argument("--allow-over-budget", action="store_true",
                   help="write the engine even if it misses the latency or power budget (recorded in its meta)")
    c.add_argument("--peers", action="store_true",
                   help="also export to ONNX, quantize with ONNX Runtime (static QDQ, per channel) on the same "
                        "calibration frames and report its accuracy beside the engine's (needs the bench extra)")
    c.add_argument("--quiet", action="store_true", help="no progress bars")
    c.set_defaults(func=_cmd_calibrate)
