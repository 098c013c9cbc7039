"""``wayvert bench ENGINE``: latency percentiles, throughput and resident memory, optionally beside peers."""
from __future__ import annotations

import argparse
import json
from typing import Any

EPILOG = """examples:
  wayvert bench model.wvrt                                   the engine alone, 1 thread
  wayvert bench model.wvrt --compare onnxruntime,torch --threads 1,2 --json bench.json
  wayvert bench model.wvrt --device cuda --compare torch     on a GPU, with joules per frame

Peers run the engine's float twin: its own int8 weights dequantized (docs/cli.md). They need the bench extra
(onnx, onnxruntime) and the train extra (PyTorch). Timings on a shared machine vary: compare rows of one run.
"""


def _csv(kind: type, text: str) -> list[Any]:
    try:
        return [kind(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}") from None


def _cmd_bench(args: argparse.Namespace) -> int:
    from wayvert import cpu_isa
    from wayvert.benchmark import bench_engine, format_table
    from wayvert.engine import Engine
    from wayvert.errors import InvalidArgumentError

    engine = Engine.load(args.engine)
    out = None
    if args.json:  # before the minutes of timing, not after
        try:
            out = open(args.json, "w")
        except OSError as e:
            raise InvalidArgumentError(f"cannot write --json {args.json!r}: {e.strerror}") from e
    rows = bench_engine(args.engine, compare=args.compare, threads=args.threads, iterations=args.iterations,
                        feeds_count=args.feeds, memory=not args.no_memory, device=args.device)
    model = engine.meta.get("model", {})
    where = f"CPU kernels {cpu_isa()}" if args.device == "cpu" else f"device {args.device}"
    print(f"engine {args.engine}: {model.get('name', '?')} v{model.get('version', '?')}, {len(engine.op_types)} ops, "
          f"arena {engine.arena_bytes:,} B, {where}; {args.iterations} timed calls per row after 5 warm-up")
    print(format_table(rows))
    sources = sorted({r.energy.get("source", "") for r in rows if r.energy})
    for src in sources:
        print(f"energy: {src}")
    if out is not None:
        with out:
            json.dump({"engine": args.engine, "cpu_isa": cpu_isa(), "device": args.device,
                       "rows": [r.as_dict() for r in rows]}, out, indent=2)
    return 0


def add_command(sub: Any) -> None:
    b = sub.add_parser("bench", help="latency percentiles, throughput and resident memory of an engine; --compare runs "
                       "PyTorch and ONNX Runtime on the same weights in the same process",
                       description="Time an engine's session on inputs it would see (frames of the synthetic world "
                       "through its canonical rig, where the engine has one) and report p50/p90/p99, frames/s and "
                       "the resident memory of each runtime (each measured in a fresh process).",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("engine", help="path to a .wvrt engine")
    b.add_argument("--compare", type=lambda s: _csv(str, s), default=[], metavar="PEERS",
                   help="comma-separated peers: onnxruntime (fp32 and int8 static QDQ), torch (eager fp32)")
    b.add_argument("--threads", type=lambda s: _csv(int, s), default=[1], metavar="N[,N]",
                   help="thread counts (default 1): N intra-op threads for wayvert and the peers; wayvert also gets a"
                        " throughput row of N one-thread sessions at once")
    b.add_argument("--iterations", type=int, default=200, help="timed calls per row (default 200)")
    b.add_argument("--feeds", type=int, default=8, help="distinct inputs cycled through (default 8)")
    b.add_argument("--no-memory", action="store_true", help="skip the resident-memory probes (one process each)")
    b.add_argument("--device", default="cpu", metavar="DEVICE",
                   help="cpu (default), or cuda / cuda:N: the engine's CUDA session beside PyTorch fp16 with a CUDA "
                        "Graph and fp32 eager on the same GPU (--compare torch), energy per frame measured by NVML or "
                        "Jetson's rail monitors (docs/cuda.md)")
    b.add_argument("--json", metavar="FILE", help="also write every row, with all percentiles and memory, as JSON")
    b.set_defaults(func=_cmd_bench)
