"""Fuse multi-head attention written out as MatMul / Softmax / MatMul into the engine's ``attention`` op.

Exporters spell ``softmax(q k^T / sqrt(dh)) v`` in pieces: each of q, k, v a ``[B, L, D]`` value viewed as
``[B, H, L, dh]`` (k transposed to ``[B, H, dh, S]``), the scale as multiplications by constants on either side
(ONNX splits ``1/sqrt(dh)`` into ``dh^-1/4`` on q and on k), then ``matmul``, ``softmax`` over the last axis,
``matmul`` with v. When the pieces match that layout and the scales multiply to ``1/sqrt(dh)``, the three ops
become one ``attention`` layer on the ``[B, L, D]`` values (plus the views back to ``[B, H, L, dh]``, which the
view passes then cancel against the exporter's own transpose back). Anything else stays as separate ``matmul``
and ``softmax`` layers, which run as float kernels of their own.
"""
from __future__ import annotations

import math

import numpy as np

from .graph import Graph, Layer
from .views import index_map, producer_through_views


def _scaled(graph: Graph, name: str) -> tuple[str, float] | None:
    """(value under multiplications by scalar constants, their product)."""
    scale = 1.0
    layer = graph[name]
    while layer.op == "mul":
        c = np.asarray(layer.attrs["constant"], np.float64)
        if c.size != 1 or not graph.single_use(layer.name):
            return None
        scale *= float(c.reshape(-1)[0])
        layer = graph[layer.inputs[0]]
    return layer.name, scale


def _heads(graph: Graph, name: str, perm: tuple[int, ...]) -> tuple[str, int] | None:
    """The [B, L, D] value whose elements ``name`` holds as ``x.reshape(B, L, H, dh).transpose(perm)``, through
    any chain of reshapes and permutes (exporters write k^T as reshape-transpose-reshape too), and H."""
    base, chain = producer_through_views(graph, name)
    if not chain or len(base.shape) != 3:
        return None
    shape = graph[name].shape
    if len(shape) != 4:
        return None
    b, length, d = base.shape
    h = shape[1]
    if d % h:
        return None
    want = np.arange(b * length * d).reshape(b, length, h, d // h).transpose(perm)
    got = index_map(base, chain)
    return (base.name, h) if got.shape == want.shape and np.array_equal(got, want) else None


def fuse_attention(graph: Graph) -> bool:
    changed = False
    for out in graph:
        if out.op != "matmul" or out.name not in graph.layers:
            continue
        probs, v4 = out.inputs
        sm = graph[probs]
        if sm.op != "softmax" or not graph.single_use(sm.name):
            continue
        scores = graph[sm.inputs[0]]
        if scores.op != "matmul" or not graph.single_use(scores.name):
            continue
        qs, ks = _scaled(graph, scores.inputs[0]), _scaled(graph, scores.inputs[1])
        if qs is None or ks is None:
            continue
        q, k, v = _heads(graph, qs[0], (0, 2, 1, 3)), _heads(graph, ks[0], (0, 2, 3, 1)), _heads(graph, v4, (0, 2, 1, 3))
        if q is None or k is None or v is None or not q[1] == k[1] == v[1]:
            continue
        b, heads, length, dh = out.shape
        if not math.isclose(qs[1] * ks[1], 1.0 / math.sqrt(dh), rel_tol=1e-5):
            continue
        att = Layer(graph.unique_name(f"{out.name}.attention"), "attention", [q[0], k[0], v[0]],
                    (b, length, heads * dh), attrs={"num_heads": heads}, source=out.source)
        graph.add(att)
        view = Layer(graph.unique_name(f"{att.name}.heads"), "reshape", [att.name], (b, length, heads, dh),
                     source=out.source)
        graph.add(view)
        back = Layer(graph.unique_name(f"{att.name}.bhld"), "permute", [view.name], out.shape,
                     attrs={"perm": (0, 2, 1, 3)}, source=out.source)
        graph.add(back)
        graph.replace_uses(out.name, back.name)
        graph.remove_dead()
        graph.sort()
        graph.notes.append(f"fused matmul/softmax/matmul {out.name} into one {heads}-head attention")
        changed = True
    return changed
