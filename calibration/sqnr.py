"""Quantization error per lowered layer and per output, as SQNR in dB.

``SQNR = 10 log10(sum(ref^2) / sum((ref - q)^2))`` over every element of every evaluation sample, with ``ref``
the float value (the lowered graph in float32, equal to the model's by construction; the model itself for the
outputs when given) and ``q`` the engine's value of the same layer, dequantized. The engine's intermediates come
from the numpy reference (``wayvert.reference``, bit-exact with the C++ runtime) run on a copy of the graph
whose outputs are all its values.
"""
from __future__ import annotations

import copy
import math
from typing import Any, Iterable

import numpy as np
import torch

from wayvert import quant, reference
from wayvert.build import EngineBuilder
from wayvert.build import format as fmt

from .batches import samples
from .engine_io import engine_inputs
from .lower.float_forward import FloatGraph
from .lower.graph import VIEW_OPS, Graph


def sqnr_db(signal_energy: float, noise_energy: float) -> float:
    """10 log10(signal / noise); +inf for no noise, -inf for no signal with noise."""
    if noise_energy == 0:
        return math.inf
    if signal_energy == 0:
        return -math.inf
    return 10.0 * math.log10(signal_energy / noise_energy)


def probe(builder: EngineBuilder) -> EngineBuilder:
    """A copy of ``builder`` whose outputs are its declared outputs followed by every other activation (for
    reading intermediates out of ``wayvert.reference.run``, or out of the C++ runtime once written)."""
    p = copy.copy(builder)
    acts = [n for n, rec in builder.values.items() if rec.kind == fmt.KIND_ACTIVATION and n not in builder.outputs]
    p.outputs = list(builder.outputs) + acts
    return p


def _real(builder: EngineBuilder, name: str, value: np.ndarray) -> np.ndarray:
    t = builder.values[name].tensor
    if t.dtype == "int8":
        return quant.dequantize(value, t.scale, t.zero_point).astype(np.float64)
    return np.asarray(value, dtype=np.float64)


def _stored(builder: EngineBuilder, name: str, real: Any) -> np.ndarray:
    """A state value as the engine stores it: float32, or int8 quantized at the state's parameters."""
    t = builder.values[name].tensor
    x = np.asarray(real, np.float32).reshape(t.shape)
    return quant.quantize(x, t.scale, t.zero_point) if t.dtype == "int8" else x


def layer_sqnr(graph: Graph, builder: EngineBuilder, names: dict[str, str], batches: Iterable[Any],
               model: torch.nn.Module | None = None) -> list[dict[str, Any]]:
    """``[{name, op, dtype, sqnr_db}]``: one row per lowered layer (engine value name, fused op), then one per
    output (op ``"output"``). ``names`` maps layer -> engine value (from ``emit_engine``)."""
    forward = FloatGraph(graph)
    layers = [l for l in graph if l.op not in ("input", "constant", *VIEW_OPS)]
    signal = {l.name: 0.0 for l in layers} | {k: 0.0 for k in graph.outputs}
    noise = dict(signal)
    everything = probe(builder)
    for sample in samples(batches):
        ref = forward(sample)
        # recurrent state as the sample says a session holds it (the engine's updates are "<name>.next")
        state = {n: _stored(builder, n, sample[n]) for n in graph.states}
        got = reference.run(everything, engine_inputs(builder, sample), state=state)
        if model is not None:
            with torch.no_grad():
                out = model(torch.as_tensor(sample["image"])[None], torch.as_tensor(sample["ego"]),
                            torch.as_tensor(sample["command"]),
                            **{n: torch.as_tensor(sample[n]) for n in graph.states})
            want = {k: out[k].numpy() for k in graph.outputs}
        else:
            want = {k: ref[v].numpy() for k, v in graph.outputs.items()}
        engine_key = {k: f"{k}.next" if k in graph.states else k for k in graph.outputs}
        pairs = [(l.name, ref[l.name].numpy(), _real(builder, names[l.name], got[names[l.name]])) for l in layers]
        pairs += [(k, want[k].reshape(got[engine_key[k]].shape), _real(builder, engine_key[k], got[engine_key[k]]))
                  for k in graph.outputs]
        for key, r, q in pairs:
            r = r.astype(np.float64)
            signal[key] += float(np.sum(r * r))
            noise[key] += float(np.sum((r - q) ** 2))
    rows = [{"name": names[l.name], "op": l.describe(), "dtype": l.dtype, "source": l.source,
             "sqnr_db": sqnr_db(signal[l.name], noise[l.name])} for l in layers]
    rows += [{"name": k, "op": "output", "dtype": "float32", "source": graph.outputs[k],
              "sqnr_db": sqnr_db(signal[k], noise[k])} for k in graph.outputs]
    return rows
