"""Folding passes: constants move into the weights and biases of the conv2d/linear that produced the data.

* batch_norm after conv2d/linear: ``w' = w k``, ``b' = (b - mean) k + beta`` with ``k = gamma / sqrt(var + eps)``.
* multiplication by a constant (through reshapes/permutes) that is one value per output channel of the
  producer: rows of ``w`` and ``b`` scale; after a fused ReLU/ReLU6 only positive factors fold, and the clamp
  scales with them (``relu6(z) * c = clamp(c z, 0, 6 c)``, how the lead-distance head folds).
* addition of a per-channel constant: added to the bias (only before the activation).
* views: reshape of reshape composes, reshape to the same shape and identity permutes vanish.

Every pass returns whether it changed the graph (the pipeline runs them to a fixed point).
"""
from __future__ import annotations

import numpy as np

from .errors import LoweringError
from .graph import Graph
from .views import exclusive, per_channel, producer_through_views


def fold_batchnorm(graph: Graph) -> bool:
    changed = False
    for bn in graph:
        if bn.op != "batch_norm":
            continue
        p = graph[bn.inputs[0]]
        if not (p.op == "conv2d" or (p.op == "linear" and len(p.shape) == 2)) or p.clamp or p.residual \
                or not graph.single_use(p.name):
            raise LoweringError(f"batch_norm at {bn.source} must directly follow a conv2d/linear to fold into it "
                                f"(it follows {p.op} {p.name!r})")
        a = bn.attrs
        k = a["gamma"] / np.sqrt(a["var"] + a["eps"])
        assert p.weight is not None
        p.weight = p.weight * k.reshape((-1,) + (1,) * (p.weight.ndim - 1))
        p.bias = ((p.bias if p.bias is not None else 0.0) - a["mean"]) * k + a["beta"]
        graph.bypass(bn.name)
        graph.notes.append(f"folded batch_norm {bn.name} into {p.name}")
        changed = True
    return changed


def _uniform(values: np.ndarray) -> float | None:
    """The one value of an array that holds a single value (infinities included), else None."""
    return float(values[0]) if np.all(values == values[0]) else None


def fold_constants(graph: Graph) -> bool:
    changed = False
    for layer in graph:
        if layer.op not in ("mul", "add_constant"):
            continue
        p, chain = producer_through_views(graph, layer.inputs[0])
        if p.op not in ("conv2d", "linear") or not exclusive(graph, p, chain):
            continue
        v = per_channel(p, chain, layer.attrs["constant"], layer.shape)
        if v is None:
            continue
        assert p.weight is not None
        if layer.op == "mul":
            if p.residual is not None:
                continue
            if p.clamp is not None:
                if not np.all(v > 0):
                    continue
                with np.errstate(invalid="ignore"):
                    lo, hi = _uniform(p.clamp[0] * v), _uniform(p.clamp[1] * v)
                if lo is None or hi is None:
                    continue
                p.clamp = (lo, hi)
            p.weight = p.weight * v.reshape((-1,) + (1,) * (p.weight.ndim - 1))
            p.bias = p.bias * v if p.bias is not None else None
        else:
            if p.clamp is not None:
                continue
            p.bias = (p.bias if p.bias is not None else 0.0) + v
        graph.bypass(layer.name)
        graph.notes.append(f"folded {layer.op} {layer.name} into the weights of {p.name}")
        changed = True
    return changed


def simplify_views(graph: Graph) -> bool:
    changed = False
    for layer in graph:
        if layer.op not in ("reshape", "permute"):
            continue
        src = graph[layer.inputs[0]]
        if layer.op == "reshape" and src.op == "reshape":
            layer.inputs = list(src.inputs)
            changed = True
        elif layer.op == "permute" and src.op == "permute":
            layer.attrs = {"perm": tuple(src.attrs["perm"][i] for i in layer.attrs["perm"])}
            layer.inputs = list(src.inputs)
            changed = True
        src = graph[layer.inputs[0]]
        identity = (layer.shape == src.shape if layer.op == "reshape"
                    else tuple(layer.attrs["perm"]) == tuple(range(len(layer.shape))))
        if identity:
            graph.bypass(layer.name)
            changed = True
    graph.remove_dead()
    return changed
