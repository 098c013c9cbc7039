"""Split a linear over a concat that mixes camera features with float inputs into one linear per part.

``linear(cat(maps, ego_command), W) = linear(maps, W[:, maps]) + linear(ego_command, W[:, ego])``: the camera
part stays int8, the part fed only by float engine inputs (ego, command) computes in float, and the sum
becomes a residual add fused into the int8 linear (fuse.py). This avoids concatenating int8 tensors of
different scales, and the ego speed and yaw rate never pass through an 8-bit per-tensor grid of their own.
"""
from __future__ import annotations

import numpy as np

from .from_export import IMAGE_INPUT
from .graph import Graph, Layer


def from_camera(graph: Graph, name: str) -> bool:
    """Whether a value depends on the camera tensor (else it is a function of the float inputs only)."""
    return IMAGE_INPUT in graph.layers and graph.depends_on(name, IMAGE_INPUT)


def _part(graph: Graph, parts: list[str], axis: int, stem: str, like: Layer) -> str:
    """One value holding ``parts`` joined along ``axis`` (the part itself when there is one)."""
    if len(parts) == 1:
        return parts[0]
    shape = list(graph[parts[0]].shape)
    shape[axis] = sum(graph[p].shape[axis] for p in parts)
    name = graph.unique_name(stem)
    graph.add(Layer(name, "concat", list(parts), tuple(shape), attrs={"axis": axis}, source=like.source))
    return name


def split_mixed_concat_linear(graph: Graph) -> bool:
    changed = False
    for lin in graph:
        if lin.op != "linear" or graph[lin.inputs[0]].op != "concat" or lin.residual or lin.clamp:
            continue
        cat = graph[lin.inputs[0]]
        axis = cat.attrs["axis"]
        if axis != len(cat.shape) - 1:
            continue
        camera = [from_camera(graph, p) for p in cat.inputs]
        if all(camera) or not any(camera):
            continue
        starts = np.cumsum([0] + [graph[p].shape[axis] for p in cat.inputs])
        cols = {flag: np.concatenate([np.arange(starts[i], starts[i + 1]) for i, c in enumerate(camera) if c == flag])
                for flag in (True, False)}
        assert lin.weight is not None
        w = lin.weight
        float_part = Layer(graph.unique_name(f"{lin.name}.float_part"), "linear",
                           [_part(graph, [p for p, c in zip(cat.inputs, camera) if not c], axis,
                                  f"{cat.name}.float_part", cat)],
                           lin.shape, weight=w[:, cols[False]], bias=lin.bias, source=lin.source)
        total = Layer(graph.unique_name(f"{lin.name}.sum"), "add", [lin.name, float_part.name], lin.shape,
                      source=lin.source)
        graph.replace_uses(lin.name, total.name)
        lin.inputs = [_part(graph, [p for p, c in zip(cat.inputs, camera) if c], axis, f"{cat.name}.camera_part", cat)]
        lin.weight, lin.bias = w[:, cols[True]], None
        graph.add(float_part)
        graph.add(total)
        graph.sort()
        graph.notes.append(f"split {lin.name} over the concat {cat.name} into a camera part and a float part "
                           f"({float_part.name})")
        changed = True
    graph.remove_dead()
    return changed
