"""The lowering passes in order: export graph -> wayvert layers with fused epilogues and decided dtypes."""
from __future__ import annotations

from typing import Callable

from torch.export import ExportedProgram

from .broadcast import materialise_broadcasts
from .dtypes import assign_dtypes, check_lowerable, float_constants_to_layers
from .fold import fold_batchnorm, fold_constants, simplify_views
from .from_export import graph_from_export
from .fuse import fuse_activations, fuse_residual_adds
from .graph import Graph
from .split import split_mixed_concat_linear


def _fixed_point(graph: Graph, passes: list[Callable[[Graph], bool]]) -> None:
    while any([p(graph) for p in passes]):   # a list, not a generator: every pass runs each round
        pass


def lower_exported(ep: ExportedProgram) -> Graph:
    """The lowered graph of an exported model (raises LoweringError naming what cannot lower)."""
    graph = graph_from_export(ep)
    fold_batchnorm(graph)
    _fixed_point(graph, [simplify_views, fold_constants])
    split_mixed_concat_linear(graph)
    materialise_broadcasts(graph)
    simplify_views(graph)
    assign_dtypes(graph)
    _fixed_point(graph, [fuse_residual_adds, fuse_activations, fold_constants, simplify_views])
    float_constants_to_layers(graph)
    graph.remove_dead()
    graph.sort()
    check_lowerable(graph)
    return graph
