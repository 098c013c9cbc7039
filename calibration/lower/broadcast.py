"""Materialise a broadcasting add by tiling the rows of the linear that computed the smaller operand.

The engine's add takes equal shapes. The trajectory prior (a linear of ego, [1, 1, T, 4]) is added to every
mode's residual ([1, K, T, 4]); repeating the prior matrix K times gives a linear that writes the broadcast
tensor directly, at no cost in accuracy.
"""
from __future__ import annotations

import numpy as np

from .errors import LoweringError
from .graph import Graph, Layer
from .views import exclusive, index_map, producer_through_views


def materialise_broadcasts(graph: Graph) -> bool:
    changed = False
    for add in graph:
        if add.op != "add":
            continue
        for slot, operand in enumerate(add.inputs):
            if graph[operand].shape == add.shape:
                continue
            p, chain = producer_through_views(graph, operand)
            small = graph[operand].shape
            if (len(small) == 4 and len(add.shape) == 4 and small[:2] == add.shape[:2] and small[2:] == (1, 1)
                    and not (p.op == "linear" and exclusive(graph, p, chain))):
                # [N, C, 1, 1] over [N, C, H, W] (a pooled gate or bias): a nearest resize repeats it exactly
                view = Layer(graph.unique_name(f"{operand}.broadcast"), "resize", [operand], add.shape,
                             attrs={"mode": "nearest", "align_corners": False}, source=add.source)
                graph.add(view)
                add.inputs[slot] = view.name
                graph.notes.append(f"broadcast {operand} over {add.name} {list(add.shape)} by a nearest resize")
                changed = True
                continue
            if p.op != "linear" or any(d != 1 for d in p.shape[:-1]) or not exclusive(graph, p, chain):
                raise LoweringError(f"add at {add.source} broadcasts {list(graph[operand].shape)} to "
                                    f"{list(add.shape)}; only [N, C, 1, 1] over [N, C, H, W], or the output of a "
                                    "linear (through reshapes, by tiling its weights), can be broadcast")
            rows = np.broadcast_to(index_map(p, chain), add.shape).reshape(-1)
            assert p.weight is not None
            p.weight = p.weight[rows]
            p.bias = p.bias[rows] if p.bias is not None else None
            p.shape = p.shape[:-1] + (len(rows),)
            view = Layer(graph.unique_name(f"{p.name}.broadcast"), "reshape", [p.name], add.shape, source=p.source)
            graph.add(view)
            add.inputs[slot] = view.name
            graph.notes.append(f"tiled {p.name} to broadcast it over {add.name} {list(add.shape)}")
            changed = True
    if changed:
        graph.remove_dead()
        graph.sort()
    return changed
