"""A uint8 engine input (camera bytes) stays uint8; the model's normalisation folds into its conversion to int8.

A model that takes bytes casts them to float and normalises them per channel (``(x / 255 - mean) / std``) before
its first layer. Here the chain of views, casts and per-channel multiplications and additions that follows a uint8
input becomes one ``bytes_to_int8`` layer: ``y = a[c] * x + b[c]`` for the channel ``c`` (axis 1), quantized at
its calibrated parameters. The engine runs it as one table lookup per byte (the ``quantize`` op with a uint8 input
and a 256-entry table per channel): conversion, normalisation and quantization in one exact pass, and the first
convolution's zero padding is still the normalised 0 (folding the affine into the convolution's weights instead
would change the border outputs of a padded convolution).
"""
from __future__ import annotations

import numpy as np

from .errors import LoweringError
from .graph import Graph, Layer


def _per_channel(constant: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """The constant as one value per channel (axis 1) of ``shape``, or None if it varies along another axis."""
    try:
        full = np.broadcast_to(np.asarray(constant, np.float64), shape)
    except ValueError:
        return None
    if np.broadcast_shapes(np.shape(constant), shape) != tuple(shape):
        return None
    channels = shape[1] if len(shape) >= 2 else 1
    v = np.moveaxis(full, 1, 0).reshape(channels, -1) if len(shape) >= 2 else full.reshape(1, -1)
    return v[:, 0].copy() if np.all(v == v[:, :1]) else None


def fold_input_affine(graph: Graph) -> bool:
    changed = False
    for inp in [l for l in graph if l.op == "input" and l.attrs.get("input_dtype") == "uint8"]:
        cur = inp
        while graph.single_use(cur.name) and graph.consumers(cur.name)[0].op in ("reshape", "permute"):
            cur = graph.consumers(cur.name)[0]
        channels = cur.shape[1] if len(cur.shape) >= 2 else 1
        a, b = np.ones(channels), np.zeros(channels)
        end = cur
        while graph.single_use(end.name):
            nxt = graph.consumers(end.name)[0]
            v = _per_channel(nxt.attrs["constant"], nxt.shape) if nxt.op in ("mul", "add_constant") else None
            if v is None or nxt.shape != cur.shape:
                break
            if nxt.op == "mul":
                a, b = a * v, b * v
            else:
                b = b + v
            end = nxt
        name = graph.unique_name(f"{inp.name}.int8")
        layer = Layer(name, "bytes_to_int8", [cur.name], cur.shape, attrs={"a": a, "b": b},
                      source=f"{inp.name}: uint8 -> int8 with the model's per-channel normalisation folded in")
        graph.replace_uses(end.name, name)
        graph.add(layer)
        layer.inputs = [cur.name]   # replace_uses rewrote every read of `end`; the new layer reads the bytes
        graph.remove_dead()
        graph.sort()
        graph.notes.append(f"uint8 input {inp.name}: normalisation a*x+b per channel folded into its int8 table")
        changed = True
    return changed


def check_bytes_readers(graph: Graph) -> None:
    """A uint8 value may be read only by views and the bytes_to_int8 layer."""
    problems = []
    for l in graph:
        if l.op in ("input", "reshape", "permute", "bytes_to_int8"):
            continue
        for n in l.reads():
            if graph[n].dtype == "uint8":
                problems.append(f"{l.op} {l.name!r} at {l.source} reads the uint8 value {n!r}: a uint8 input may go "
                                "through views and a per-channel normalisation (multiplications and additions by "
                                "constants) only, before the first int8 layer")
    if problems:
        raise LoweringError("uint8 inputs used in ways the engine cannot run:", problems)
