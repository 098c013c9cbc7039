"""The lowering passes in order: export graph -> wayvert layers with fused epilogues and decided dtypes."""
from __future__ import annotations

import fnmatch
from typing import Callable, Sequence

from torch.export import ExportedProgram

from .attention import fuse_attention
from .broadcast import materialise_broadcasts
from .bytes_input import check_bytes_readers, fold_input_affine
from .dtypes import assign_dtypes, check_lowerable, constant_operands, float_constants_to_layers
from .fold import fold_batchnorm, fold_constants, simplify_views
from .from_export import graph_from_export
from .fuse import fuse_activations, fuse_residual_adds, fuse_silu
from .errors import LoweringError
from .graph import Graph
from .split import split_mixed_concat_linear


def _fixed_point(graph: Graph, passes: list[Callable[[Graph], bool]]) -> None:
    while any([p(graph) for p in passes]):   # a list, not a generator: every pass runs each round
        pass


def lower_exported(ep: ExportedProgram, *, camera_input: str | None = "image", policy: str = "student",
                   keep_float: Sequence[str] = ()) -> Graph:
    """The lowered graph of an exported model (raises LoweringError naming what cannot lower).

    The student (the defaults): its ``image`` input is the int8 camera tensor and dtypes follow its rules. A
    user's model: ``camera_input=None, policy="int8"`` (see dtypes.py)."""
    return lower_graph(graph_from_export(ep, camera_input), policy=policy, keep_float=keep_float)


def keep_float_layers(graph: Graph, patterns: Sequence[str]) -> frozenset[str]:
    """The layers named by ``patterns`` (exact names or shell-style wildcards, ``fnmatch``); a pattern that
    names no computing layer is an error (a typo would otherwise quietly keep everything int8)."""
    computing = [l.name for l in graph if l.op not in ("input", "reshape", "permute")]
    chosen: set[str] = set()
    unmatched = []
    for pattern in patterns:
        hit = [n for n in computing if n == pattern or fnmatch.fnmatchcase(n, pattern)]
        if not hit:
            unmatched.append(pattern)
        chosen.update(hit)
    if unmatched:
        raise LoweringError(f"--keep-float {', '.join(map(repr, unmatched))} names no layer; layers are: "
                            + ", ".join(computing[:60]) + (" ..." if len(computing) > 60 else ""))
    return frozenset(chosen)


def _set_dtype_through_views(graph: Graph, name: str, dtype: str) -> None:
    """Give value ``name`` and the views of it (which compute in their input's dtype) ``dtype``."""
    graph[name].dtype = dtype
    for c in graph.consumers(name):
        if c.op in ("reshape", "permute"):
            _set_dtype_through_views(graph, c.name, dtype)


def lower_graph(graph: Graph, *, policy: str = "student", keep_float: Sequence[str] = ()) -> Graph:
    """Run the passes on a graph read from an export (from_export.py) or an ONNX model (from_onnx.py).
    ``keep_float``: patterns of layers to keep in float32 (see ``keep_float_layers``)."""
    fold_batchnorm(graph)
    simplify_views(graph)
    fuse_silu(graph)
    fuse_attention(graph)   # before fold_constants: the attention scale must still be visible
    _fixed_point(graph, [simplify_views, fold_constants])
    fold_input_affine(graph)
    split_mixed_concat_linear(graph)
    materialise_broadcasts(graph)
    simplify_views(graph)
    assign_dtypes(graph, policy, keep_float_layers(graph, keep_float))
    _fixed_point(graph, [fuse_residual_adds, fuse_activations, fold_constants, simplify_views])
    float_constants_to_layers(graph)
    for state in graph.states:   # recurrent state is stored like its next value (int8: the image kept as state)
        _set_dtype_through_views(graph, state, "int8" if graph[graph.outputs[state]].dtype == "int8" else "float32")
    if policy == "int8":
        constant_operands(graph)
    graph.remove_dead()
    graph.sort()
    check_lowerable(graph)
    check_bytes_readers(graph)
    return graph
