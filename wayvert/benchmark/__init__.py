"""``wayvert bench``: latency percentiles, throughput and resident memory of an engine, and of its peers (PyTorch
eager fp32, ONNX Runtime fp32 and int8 QDQ) on the same weights and the same inputs, in one process.

* ``inputs`` — feeds for an engine: frames of the synthetic world through its canonical rig, or random codes;
* ``timing`` — a timed loop and its percentiles; concurrent sessions for throughput;
* ``memory`` — resident memory of each runtime, each measured in a fresh process;
* ``compare`` — the runners (wayvert and peers) and the table.
"""
from .compare import BenchRow, bench_engine, format_table
from .inputs import EngineFeeds, engine_feeds
from .timing import Timing, time_loop

__all__ = ["BenchRow", "EngineFeeds", "Timing", "bench_engine", "engine_feeds", "format_table", "time_loop"]
