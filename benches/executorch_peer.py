"""ExecuTorch (XNNPACK delegate) running an engine's float twin, in fp32 and quantized int8 by PT2E.

The module is the twin of ``wayvert.calibration.torch_peer`` (the engine's own weights,
dequantized), exported with ``torch.export``; int8 goes through torchao's PT2E (``prepare_pt2e`` /
``convert_pt2e``, XNNPACKQuantizer with the symmetric per-channel config: int8 per-channel weights, int8 per-tensor
activations, min-max observers over the calibration feeds); both are lowered by ``to_edge_transform_and_lower``
with the XnnpackPartitioner and run by ``executorch.runtime`` from the serialized program.

Threads: XNNPACK runs on ExecuTorch's process-wide threadpool (``extension/threadpool``), created on first use with
one thread per *performance core* found by cpuinfo (2 on this 2-vCPU machine) and shared by every program in the
process. ``torch.set_num_threads`` does not touch it, nor do ``OMP_NUM_THREADS`` and friends. The pybindings expose
``_threadpool_get_thread_count()`` and ``_unsafe_reset_threadpool(n)``; the XNNPACK delegate takes the pool's
``pthreadpool_t`` when its method is loaded and keeps it, so the size can only be chosen before the first program
is loaded, once per process (``set_threads``). The benchmark process runs ExecuTorch at 1 thread; ExecuTorch at
2 threads runs in a child process (``ExecuTorchProcess``: this file as a script) that times blocks of calls when
asked, so it still takes its turn in the interleaved rounds. The benchmark checks each process's CPU time against
its wall time to confirm the count (benches/NOTES.md).
"""
from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np


def available() -> str | None:
    """None when ExecuTorch with the XNNPACK backend and torchao's PT2E import, else why not."""
    try:
        import executorch.runtime  # noqa: F401
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner  # noqa: F401
        from executorch.extension.pybindings import portable_lib  # noqa: F401
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e  # noqa: F401
    except Exception as e:  # noqa: BLE001 - ImportError, or a native library that does not load
        return f"executorch / torchao not importable ({type(e).__name__}: {e}); pip install '.[bench]'"
    return None


def thread_count() -> int:
    """Threads of ExecuTorch's shared threadpool (the caller's included)."""
    from executorch.extension.pybindings import portable_lib

    return int(portable_lib._threadpool_get_thread_count())


_programs_loaded = 0


def set_threads(n: int) -> None:
    """Size ExecuTorch's shared threadpool to ``n`` threads. Only before the process loads its first program: an
    XNNPACK delegate keeps the ``pthreadpool_t`` it was created with, and ``_unsafe_reset_threadpool`` destroys that
    pool (a method loaded before a reset hangs on its next run: seen here); a later call asking for another size
    raises instead."""
    from executorch.extension.pybindings import portable_lib

    if thread_count() == n:
        return
    if _programs_loaded:
        raise RuntimeError(f"ExecuTorch's threadpool has {thread_count()} threads and a program is loaded: it cannot "
                           f"be resized to {n} in this process")
    portable_lib._unsafe_reset_threadpool(int(n))
    if thread_count() != n:
        raise RuntimeError(f"ExecuTorch's threadpool did not resize to {n} (it has {thread_count()})")


def _quiet() -> None:
    warnings.filterwarnings("ignore")
    for name in ("torch", "torchao", "executorch", "root"):
        logging.getLogger(name).setLevel(logging.ERROR)


def program_bytes(module: Any, input_names: Sequence[str], calibration: Sequence[dict[str, np.ndarray]],
                  precision: str) -> bytes:
    """The .pte of ``module`` (positional inputs in ``input_names`` order) lowered to XNNPACK, ``precision`` "fp32"
    or "int8" (PT2E, calibrated on ``calibration``)."""
    import torch
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    _quiet()

    def args(feed: dict[str, np.ndarray]) -> tuple[torch.Tensor, ...]:
        return tuple(torch.from_numpy(np.ascontiguousarray(feed[n], np.float32)) for n in input_names)

    example = args(calibration[0])
    with torch.no_grad():
        exported = torch.export.export(module.eval(), example)
        if precision == "int8":
            from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
                XNNPACKQuantizer, get_symmetric_quantization_config)
            from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

            quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
            prepared = prepare_pt2e(exported.module(), quantizer)
            for feed in calibration:
                prepared(*args(feed))
            exported = torch.export.export(convert_pt2e(prepared), example)
        elif precision != "fp32":
            raise ValueError(precision)
        lowered = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()])
        return bytes(lowered.to_executorch().buffer)


def delegated_fraction(pte: bytes) -> str:
    """How much of the program XNNPACK took: "k delegate calls, m other ops" of the serialized plan."""
    from executorch.exir._serialize._program import deserialize_pte_binary

    program = deserialize_pte_binary(pte)
    program = getattr(program, "program", program)
    plan = program.execution_plan[0]
    ops = [plan.operators[c.instr_args.op_index].name for c in plan.chains[0].instructions
           if type(c.instr_args).__name__ == "KernelCall"]
    delegates = sum(1 for c in plan.chains[0].instructions if type(c.instr_args).__name__ == "DelegateCall")
    return f"{delegates} XNNPACK delegate call(s), {len(ops)} other kernel call(s)" + (
        f" ({', '.join(sorted(set(ops)))})" if ops else "")


class ExecuTorchRunner:
    """``run(feeds) -> {output: numpy}`` of a .pte on ExecuTorch's runtime, ``threads`` threadpool threads."""

    def __init__(self, pte: bytes, input_names: Sequence[str], output_names: Sequence[str], threads: int) -> None:
        from executorch.runtime import Runtime

        global _programs_loaded
        set_threads(threads)
        _programs_loaded += 1
        self.program = Runtime.get().load_program(pte)
        self.method = self.program.load_method("forward")
        self.input_names, self.output_names, self.threads = list(input_names), list(output_names), int(threads)

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import torch

        outs = self.method.execute([torch.from_numpy(np.ascontiguousarray(feeds[n], np.float32))
                                    for n in self.input_names])
        return {n: o.numpy() for n, o in zip(self.output_names, outs)}


def pte_file(net: Any, calibration: Sequence[dict[str, np.ndarray]], precision: str,
             path: Path) -> tuple[Path, list[str], list[str]]:
    """``path``, holding the .pte of ``net`` (a ``FloatNet``; built unless it exists), and its input and output names."""
    from wayvert.calibration.torch_peer import torch_twin

    module = torch_twin(net)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(program_bytes(module, module.input_names, calibration, precision))
        tmp.replace(path)
    return path, list(module.input_names), list(module.output_names)


def peer_info(pte: bytes, precision: str) -> dict[str, Any]:
    from importlib.metadata import version

    info = {"executorch_version": version("executorch"), "pte_bytes": len(pte), "lowering": delegated_fraction(pte)}
    if precision == "int8":
        info["quantization"] = "PT2E XNNPACKQuantizer, symmetric per-channel s8 weights, s8 activations, min-max"
    return info


def executorch_peer(net: Any, calibration: Sequence[dict[str, np.ndarray]], precision: str, threads: int,
                    cache: Path) -> tuple[ExecuTorchRunner, dict[str, Any]]:
    """The in-process runner of ``net`` (a ``FloatNet``) and the facts the report needs; the .pte is ``cache``
    (built when missing)."""
    path, inputs, outputs = pte_file(net, calibration, precision, cache)
    pte = path.read_bytes()
    runner = ExecuTorchRunner(pte, inputs, outputs, threads)
    return runner, {**peer_info(pte, precision), "threadpool_threads": thread_count(), "process": "this one"}


class ExecuTorchProcess:
    """A .pte run by ExecuTorch in a child process at ``threads`` threads (its own process-wide threadpool).

    ``outputs[i]`` are the outputs on ``feeds[i]``; ``block(n)`` runs one untimed call and ``n`` timed ones there and
    returns (samples ms, CPU s, wall s) of that process."""

    def __init__(self, pte_path: Path, feeds: Sequence[dict[str, np.ndarray]], input_names: Sequence[str],
                 output_names: Sequence[str], threads: int, workdir: Path) -> None:
        import json
        import os
        import subprocess
        import sys

        workdir.mkdir(parents=True, exist_ok=True)
        feeds_path, outs_path = workdir / f"feeds_{os.getpid()}.npz", workdir / f"outs_{os.getpid()}_{threads}.npz"
        np.savez(feeds_path, **{f"{i}/{n}": np.asarray(f[n], np.float32) for i, f in enumerate(feeds) for n in input_names})
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.log = workdir / f"executorch_child_{os.getpid()}_{threads}.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, str(pte_path), str(feeds_path), str(outs_path), str(threads),
                 ",".join(input_names), ",".join(output_names)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=log, text=True, env=env)
        ready = json.loads(self._reply())
        self.threads = int(ready["threads"])
        with np.load(outs_path) as z:
            self.outputs = [{n: z[f"{i}/{n}"] for n in output_names} for i in range(len(feeds))]
        feeds_path.unlink(missing_ok=True)
        outs_path.unlink(missing_ok=True)

    def _reply(self) -> str:
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"the ExecuTorch child process ended (exit {self.proc.wait()}); its stderr: {self.log}")
            if line.startswith("@@"):
                return line[2:]

    def block(self, n: int) -> tuple[list[float], float, float]:
        import json

        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{n}\n")
        self.proc.stdin.flush()
        r = json.loads(self._reply())
        return r["samples_ms"], r["cpu_s"], r["wall_s"]

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        self.log.unlink(missing_ok=True)


def _child(argv: Sequence[str]) -> int:
    """The ExecuTorchProcess side: load, write the outputs, then time blocks on request (stdin: a count per line)."""
    import json
    import sys
    import time

    pte_path, feeds_path, outs_path, threads, inputs, outputs = argv
    input_names, output_names = inputs.split(","), outputs.split(",")
    with np.load(feeds_path) as z:
        count = len({k.split("/")[0] for k in z.files})
        feeds = [{n: z[f"{i}/{n}"] for n in input_names} for i in range(count)]
    runner = ExecuTorchRunner(Path(pte_path).read_bytes(), input_names, output_names, int(threads))
    np.savez(outs_path, **{f"{i}/{k}": v for i, f in enumerate(feeds) for k, v in runner.run(f).items()})
    print("@@" + json.dumps({"threads": thread_count()}), flush=True)
    i = 0
    for line in sys.stdin:
        n = int(line)
        runner.run(feeds[i % count])
        samples = []
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(n):
            i += 1
            s = time.perf_counter_ns()
            runner.run(feeds[i % count])
            samples.append((time.perf_counter_ns() - s) / 1e6)
        print("@@" + json.dumps({"samples_ms": samples, "cpu_s": time.process_time() - c0,
                                 "wall_s": time.perf_counter() - w0}), flush=True)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_child(sys.argv[1:]))
