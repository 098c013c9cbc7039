"""Calibrate the lowered graph: which tensors need int8 parameters, their statistics, their parameters."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence


from ..batches import samples
from ..lower.float_forward import FloatGraph
from ..lower.graph import SAME_PARAMS_OPS, VIEW_OPS, Graph
from .entropy import entropy_threshold
from .histogram import Histogram
from .minmax import minmax_threshold
from .mse import mse_threshold
from .params import QuantParams
from .percentile import DEFAULT_PERCENTILE, percentile_threshold

METHODS = ("minmax", "percentile", "entropy", "mse")


def quantized_values(graph: Graph) -> list[str]:
    """Values the engine holds in int8 with parameters of their own: the camera input, every int8 conv2d /
    linear / add / concat, and every float value an int8 layer reads (where a quantize op goes)."""
    names: list[str] = []
    for layer in graph:
        if layer.dtype != "int8" or layer.op in VIEW_OPS or layer.op in SAME_PARAMS_OPS:
            names += [n for n in layer.reads() if graph[n].dtype == "float32"] if layer.dtype == "int8" else []
            continue
        names.append(layer.name)
        names += [n for n in layer.reads() if graph[n].dtype == "float32"]
    return list(dict.fromkeys(names))


def nonnegative(graph: Graph, name: str) -> bool:
    """Whether a value is >= 0 by construction (a fused ReLU/ReLU6/clamp at >= 0, or views/concats of such)."""
    layer = graph[name]
    if layer.op in VIEW_OPS or layer.op in SAME_PARAMS_OPS:
        return nonnegative(graph, layer.inputs[0])
    if layer.op == "concat":
        return all(nonnegative(graph, n) for n in layer.inputs)
    return layer.clamp is not None and layer.clamp[0] >= 0


def threshold_fn(method: str, percentile: float = DEFAULT_PERCENTILE) -> Callable[[Histogram, bool], float]:
    """``(histogram, unsigned) -> threshold`` of one calibration method."""
    if method == "minmax":
        return lambda h, unsigned: minmax_threshold(h)
    if method == "percentile":
        return lambda h, unsigned: percentile_threshold(h, percentile)
    if method == "entropy":
        return lambda h, unsigned: entropy_threshold(h, 256 if unsigned else 128)
    if method == "mse":
        return lambda h, unsigned: mse_threshold(h, 255 if unsigned else 127)
    raise ValueError(f"unknown calibration method {method!r} (use one of {METHODS})")


def collect_histograms(graph: Graph, names: Sequence[str], batches: Sequence[Any],
                       progress: bool = False) -> dict[str, Histogram]:
    """Two passes of the float graph over ``batches``: largest magnitudes, then 2048-bin |x| histograms."""
    forward = FloatGraph(graph)
    amax = {n: 0.0 for n in names}

    def each_sample(desc: str) -> Any:
        it = samples(batches)
        if progress:
            from tqdm import tqdm
            it = tqdm(it, desc=desc, unit="sample")
        return it

    for inputs in each_sample("calibration: ranges"):
        env = forward(inputs)
        for n in names:
            amax[n] = max(amax[n], float(env[n].abs().max()))
    hists = {n: Histogram.empty(amax[n]) for n in names}
    for inputs in each_sample("calibration: histograms"):
        env = forward(inputs)
        for n in names:
            hists[n].add(env[n].numpy())
    return hists


def calibrate(graph: Graph, batches: Sequence[Any], method: str = "entropy", *,
              percentile: float = DEFAULT_PERCENTILE, fixed: Mapping[str, QuantParams] | None = None,
              progress: bool = False) -> tuple[dict[str, QuantParams], dict[str, dict[str, float]]]:
    """(int8 parameters of every value in ``quantized_values``, per-value statistics: amax and threshold).

    ``fixed`` values (e.g. the camera input's known range) are not calibrated. ``batches`` is iterated twice. An
    int8 concat whose parts all have the same parameters takes them (nothing to requantize, nothing clipped: the
    camera tensor beside the previous frame set kept as state). Int8 recurrent state takes the parameters of its
    next value (``Graph.states``): the session copies the bytes.
    """
    fixed = dict(fixed or {})
    pick = threshold_fn(method, percentile)
    states = set(graph.states)   # recurrent state takes its next value's parameters (below), never its own
    names = [n for n in quantized_values(graph) if n not in fixed and n not in states]
    hists = collect_histograms(graph, names, batches, progress)
    params: dict[str, QuantParams] = dict(fixed)
    stats: dict[str, dict[str, float]] = {}
    for n in names:
        unsigned = nonnegative(graph, n)
        t = pick(hists[n], unsigned)
        params[n] = QuantParams.from_threshold(t, unsigned)
        stats[n] = {"amax": hists[n].amax, "threshold": float(t), "unsigned": float(unsigned)}
    for state in graph.states:
        if graph[state].dtype == "int8" and state not in fixed:
            at = _source_params(graph, params, graph.outputs[state])
            if at is None:
                raise ValueError(f"recurrent state {state!r} is int8 but its next value has no int8 parameters")
            params[state] = at
    for layer in graph:
        if layer.op == "concat" and layer.dtype == "int8" and layer.name not in fixed:
            shared = {_source_params(graph, params, n) for n in layer.inputs}
            if len(shared) == 1 and None not in shared:
                params[layer.name] = shared.pop()   # type: ignore[assignment]
    return params, stats


def _source_params(graph: Graph, params: Mapping[str, QuantParams], name: str) -> QuantParams | None:
    """The parameters value ``name`` is stored at (through views and same-parameter ops); None if not int8."""
    while name not in params and name in graph.layers and \
            (graph[name].op in VIEW_OPS or graph[name].op in SAME_PARAMS_OPS) and graph[name].inputs:
        name = graph[name].inputs[0]
    if name not in graph.layers or graph[name].dtype != "int8":
        return None
    return params.get(name)
