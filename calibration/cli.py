"""``wayvert calibrate``: the trainer's last step (importing this module needs no PyTorch)."""
from __future__ import annotations

import argparse
import json
from typing import Any

EXIT_REFUSED = 6
EXIT_MODEL = 7   # the model cannot be lowered: every unsupported node is listed, nothing is written


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


def _cmd_compile(args: argparse.Namespace) -> int:
    from wayvert.training.cli import _need_torch

    _need_torch()
    from wayvert.calibration.compile import CalibrationDataError, CompileRun, compile_model
    from wayvert.calibration.lower import LoweringError
    from wayvert.calibration.pipeline import EngineRefused
    from wayvert.errors import InputError

    run = CompileRun(model=args.model, output=args.output, calibration=args.calibration, method=args.method,
                     val=args.val, profile=args.profile, report_dir=args.report, keep_float=args.keep_float or [],
                     int8_inputs=args.int8_input or [],
                     min_sqnr_db=args.min_sqnr, allow_low_sqnr=args.allow_low_sqnr,
                     allow_over_budget=args.allow_over_budget, progress=not args.quiet)
    try:
        r = compile_model(run)
    except LoweringError as e:
        print(f"wayvert compile: {e}")
        return EXIT_MODEL
    except (CalibrationDataError, InputError) as e:
        print(f"wayvert compile: {e}")
        return 4
    except EngineRefused as e:
        print(f"wayvert compile: {e}")
        return EXIT_REFUSED
    fp = r["fast_path"]
    print(json.dumps({"engine": r["output"], "bytes": r.get("engine_bytes"), "kind": r["kind"], "method": r["method"],
                      "sqnr_db": {k: round(v, 1) for k, v in r["accuracy"]["sqnr_db"].items()},
                      "int8_mac_share": round(fp["int8_mac_share"], 4),
                      "off_fast_path": [o["name"] for o in fp["off_fast_path"]],
                      "latency_p99_ms": round(r["estimate"]["latency_p99_ms"], 3),
                      "power_w": round(r["estimate"]["power_w"], 2), "report": r["report_dir"],
                      "seconds": r["seconds"]}))
    return 0


def add_commands(sub: Any) -> None:
    from wayvert.calibration.compile.gates import DEFAULT_MIN_SQNR_DB

    k = sub.add_parser(
        "compile", help="an ONNX or torch.export (.pt2) model -> a calibrated int8 engine, with an accuracy report",
        description="Read MODEL (a float or QDQ ONNX model, opsets 13-20, or a .pt2 file from torch.export.save), "
                    "lower it to wayvert's ops (every unsupported node is listed at once; nothing is written), "
                    "calibrate int8 on --calibration (an .npz with one array per model input, first axis = sample), "
                    "compare the engine with the model's own runtime (ONNX Runtime or PyTorch) on held-out samples "
                    "(refused below --min-sqnr dB on any output unless --allow-low-sqnr), estimate latency and power "
                    "on --profile, then write the engine and a report. Exit codes: 0 written, 2 bad arguments, "
                    f"4 calibration data does not match the model, {EXIT_REFUSED} refused by a gate, "
                    f"{EXIT_MODEL} the model has ops wayvert cannot run. docs/compile.md.")
    k.add_argument("model", help="model file: .onnx or .pt2")
    k.add_argument("-o", "--output", required=True, help="engine file to write (.wvrt)")
    k.add_argument("--calibration", required=True, help=".npz with one array per model input, first axis = sample")
    k.add_argument("--val", help="held-out .npz for the accuracy report (default: the last 20%% of --calibration)")
    k.add_argument("--method", default="entropy", choices=["minmax", "percentile", "entropy", "mse"],
                   help="activation calibrator (default entropy)")
    k.add_argument("--profile", default="orin-class-75w", help="target profile name or TOML file")
    k.add_argument("--report", help="report folder (default: <output stem>_report next to the engine)")
    k.add_argument("--keep-float", action="append", metavar="NAME_OR_PATTERN",
                   help="keep the matching layers in float32 (exact name or fnmatch pattern; repeatable)")
    k.add_argument("--int8-input", action="append", metavar="NAME",
                   help="take this float input as int8 at its calibrated scale (the caller quantizes; the engine's "
                        "inspect shows the scale and zero point); repeatable")
    k.add_argument("--min-sqnr", type=float, default=DEFAULT_MIN_SQNR_DB,
                   help=f"SQNR floor in dB for every output (default {DEFAULT_MIN_SQNR_DB:g})")
    k.add_argument("--allow-low-sqnr", action="store_true",
                   help="write the engine even below the SQNR floor (recorded in its meta)")
    k.add_argument("--allow-over-budget", action="store_true",
                   help="write the engine even if it misses the profile's latency or power budget (recorded)")
    k.add_argument("--quiet", action="store_true", help="no progress bars")
    k.set_defaults(func=_cmd_compile)

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
