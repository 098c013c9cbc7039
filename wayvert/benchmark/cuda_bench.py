"""The engine's CUDA session and its GPU peers, timed on the same inputs in one process, with energy per frame.

Rows: ``wayvert int8`` (a CUDA session: the whole plan as one CUDA Graph, inputs copied in and outputs out on every
call) and, with ``compare`` holding ``torch``: ``torch fp16`` with a CUDA Graph (the issue's bar: at most its
latency) and ``torch fp32`` eager, both on the engine's float twin (the toolchain's peer module, found through entry
points: this module imports no framework); ``torch-tensorrt`` where it is importable (it is
not on any machine of this project; the table says so). Every row measures its energy per frame where a meter
exists (``wayvert.benchmark.energy``: NVML on discrete GPUs, INA3221 rails on Jetson) over >= 2 s of back-to-back
frames. Rows are interleaved: each round times every runtime once on the same feeds, ``rounds`` rounds.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from wayvert.engine import Engine
from wayvert.errors import DeviceError

from .compare import BenchRow, _sqnr
from .energy import measure_energy, open_meter
from .inputs import engine_feeds
from .timing import Timing, time_loop


def _torch_runners(net: Any, device: str) -> tuple[list[tuple[str, str, Callable[[Any], Any]]], list[str]]:
    """(runtime, precision, run) of the GPU peers on the float twin ``net``, and notes on peers that could not run."""
    from .torch_peer import load_torch_peer

    peer = load_torch_peer()
    runners = [("torch", "fp16 + CUDA Graph", peer.CudaRunner(net, "fp16", graph=True, device=device).run),
               ("torch", "fp32 eager", peer.CudaRunner(net, "fp32", graph=False, device=device).run)]
    return runners, [peer.tensorrt_note()]


def bench_cuda(path: str, compare: Sequence[str], iterations: int, feeds_count: int, seed: int,
               device: str = "cuda", rounds: int = 5, energy_seconds: float = 2.0) -> list[BenchRow]:
    """Latency percentiles (``iterations`` calls per runtime, in ``rounds`` interleaved rounds), agreement with the
    float twin, and measured energy per frame of the engine's CUDA session and the GPU peers."""
    from wayvert import cuda_device_count

    if cuda_device_count() == 0:
        raise DeviceError("CUDA: no CUDA device is available for `wayvert bench --device cuda`")
    engine = Engine.load(path)
    feeds = engine_feeds(engine, feeds_count, seed)
    session = engine.session(device=device)
    first = engine.outputs[0].name
    runners: list[tuple[str, str, Callable[[Any], Any], list[Any]]] = [
        ("wayvert", "int8", session.run, feeds.engine)]
    notes: list[str] = []
    reference = None
    if "torch" in compare:
        from wayvert.graph.dequantized import float_network

        net = float_network(path)  # read once: the peers' weights and the SQNR reference
        reference = [net.run(f)[net.outputs[0]] for f in feeds.float]
        peers, notes = _torch_runners(net, device)
        runners += [(r, p, run, feeds.float) for r, p, run in peers]
    per_round = max(1, iterations // rounds)
    samples: list[list[float]] = [[] for _ in runners]
    for _ in range(rounds):
        for k, (_, _, run, f) in enumerate(runners):
            samples[k] += list(time_loop(run, f, per_round).samples)
    meter, why = open_meter(int(device.partition(":")[2] or 0))
    rows = []
    for k, (runtime, precision, run, f) in enumerate(runners):
        timing = Timing(tuple(samples[k]))
        sq = _sqnr(reference, [run(x)[first] for x in f]) if reference is not None else None
        energy: dict[str, Any] = {"source": why} if meter is None else {}
        if meter is not None:
            i = iter(range(1 << 62))
            energy = measure_energy(lambda: run(f[next(i) % len(f)]), meter, energy_seconds).as_dict()
        note = f"{device}" + ("; CUDA Graph per run" if runtime == "wayvert" else "")
        rows.append(BenchRow(runtime, precision, 1, timing, 1e3 / timing.mean, sq, note=note, energy=energy))
    for n in notes:
        rows[-1].note += f"; {n}"
    return rows
