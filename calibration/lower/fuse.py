"""Fusion passes: residual adds and activations move into the epilogue of the conv2d/linear before them.

* ``add(conv(x), r)`` -> conv with residual ``r`` (either operand; the conv must be read only by the add,
  have no activation yet, and not be an ancestor of ``r``). For an int8 add a float ``r`` is quantized.
* ``relu / relu6 / clamp(conv or linear or add)`` -> the producer's clamp (ReLU6 = [0, 6]; int8 clamps at the
  output's codes, so any interval fuses; float kernels take ReLU and ReLU6 only). A clamp after a clamp is
  their intersection.

Order matters: the engine epilogue is ``clamp(acc + bias + residual)``, so a residual fuses only into a
producer without an activation.
"""
from __future__ import annotations

from .graph import Graph, clamp_name


def fuse_residual_adds(graph: Graph) -> bool:
    changed = False
    for add in graph:
        if add.op != "add" or add.clamp is not None or len(add.inputs) != 2:
            continue
        a, b = add.inputs
        best = None
        for mine, other in ((b, a), (a, b)):   # prefer the later operand: it cannot be the other's ancestor
            p = graph[mine]
            if (p.op in ("conv2d", "linear") and p.dtype == add.dtype and p.residual is None and p.clamp is None
                    and p.shape == add.shape and graph.single_use(p.name) and not graph.depends_on(other, mine)):
                best = (p, other)
                break
        if best is None:
            continue
        p, other = best
        p.residual = other
        graph.replace_uses(add.name, p.name)
        del graph.layers[add.name]
        graph.notes.append(f"fused add {add.name} into {p.name} as its residual")
        changed = True
    return changed


def fuse_activations(graph: Graph) -> bool:
    changed = False
    for c in graph:
        if c.op != "clamp":
            continue
        p = graph[c.inputs[0]]
        clamp = (c.attrs["lo"], c.attrs["hi"])
        if p.op not in ("conv2d", "linear", "add") or not graph.single_use(p.name):
            continue
        if p.clamp is not None:
            clamp = (max(p.clamp[0], clamp[0]), min(p.clamp[1], clamp[1]))
            if clamp[0] > clamp[1]:
                continue
        if p.dtype == "float32" and clamp_name(clamp) not in ("relu", "relu6"):
            continue
        p.clamp = clamp
        graph.bypass(c.name)
        graph.notes.append(f"fused {clamp_name(clamp)} {c.name} into {p.name}")
        changed = True
    return changed


def fuse_silu(graph: Graph) -> bool:
    """``x * sigmoid(x)`` (how ONNX exporters write SiLU) -> one ``unary`` silu layer."""
    changed = False
    for m in graph:
        if m.op != "multiply" or m.name not in graph.layers:
            continue
        a, b = m.inputs
        for x, s in ((a, b), (b, a)):
            sig = graph[s]
            if (sig.op == "unary" and sig.attrs.get("function") == "sigmoid" and sig.inputs == [x]
                    and graph.single_use(s)):
                m.op, m.inputs, m.attrs = "unary", [x], {"function": "silu"}
                graph.remove_dead()
                graph.notes.append(f"fused x * sigmoid(x) {m.name} into one silu")
                changed = True
                break
    return changed
