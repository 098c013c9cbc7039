"""Reshape/permute chains as index maps: which element of a producer each element of a view reads.

Folding a constant into a conv/linear (fold.py) and tiling a linear to materialise a broadcast
(broadcast.py) both look through views back to the op that computed the data.
"""
from __future__ import annotations

import numpy as np

from .graph import VIEW_OPS, Graph, Layer


def producer_through_views(graph: Graph, name: str) -> tuple[Layer, list[Layer]]:
    """The first non-view layer behind ``name`` and the views from it to ``name`` (producer first)."""
    chain: list[Layer] = []
    layer = graph[name]
    while layer.op in VIEW_OPS:
        chain.insert(0, layer)
        layer = graph[layer.inputs[0]]
    return layer, chain


def exclusive(graph: Graph, producer: Layer, chain: list[Layer]) -> bool:
    """Whether the producer and every view after it feed only the next link: rewriting them changes nothing else."""
    return all(graph.single_use(l.name) for l in [producer, *chain])


def index_map(producer: Layer, chain: list[Layer]) -> np.ndarray:
    """For each element of the chain's result, the flat index of the producer element it reads."""
    idx = np.arange(int(np.prod(producer.shape))).reshape(producer.shape)
    for view in chain:
        idx = idx.reshape(view.shape) if view.op == "reshape" else idx.transpose(view.attrs["perm"])
    return idx


def channel_axis(layer: Layer) -> int:
    """The axis a conv2d (1, NCHW) or linear (last) output is per-channel along."""
    return 1 if layer.op == "conv2d" else len(layer.shape) - 1


def per_channel(producer: Layer, chain: list[Layer], constant: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """``constant`` broadcast over a view of ``producer`` (of ``shape``) as one value per producer channel, or None
    when it varies along another axis or would enlarge the tensor."""
    try:
        full = np.broadcast_to(np.asarray(constant, dtype=np.float64), shape)
    except ValueError:
        return None
    if np.broadcast_shapes(np.shape(constant), shape) != tuple(shape):
        return None
    at_producer = np.empty(int(np.prod(producer.shape)))
    at_producer[index_map(producer, chain).reshape(-1)] = full.reshape(-1)
    values = np.moveaxis(at_producer.reshape(producer.shape), channel_axis(producer), 0)
    values = values.reshape(values.shape[0], -1)
    if not np.all(values == values[:, :1]):
        return None
    return values[:, 0].copy()
