"""Where an engine's estimated time goes: one horizontal bar per op, coloured by what bounds it."""
from __future__ import annotations

import os
from typing import Any, Mapping

_COLOURS = {"compute": "#d62728", "memory": "#1f77b4"}
_LAUNCH = "#bbbbbb"


def plot_latency_by_op(estimate: Mapping[str, Any], path: str | os.PathLike[str], top: int | None = None) -> str:
    """Write a PNG of ``estimate["per_op"]`` (one bar per op, execution order top to bottom); returns the path.

    Each bar is the op's roofline term (coloured by what bounds it) followed by its fixed launch overhead (grey).

    ``top``: only the ``top`` slowest ops (still in execution order). Uses matplotlib's Agg canvas directly, so no
    global backend is switched.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    rows = list(enumerate(estimate["per_op"]))
    if top is not None and top < len(rows):
        keep = {i for i, _ in sorted(rows, key=lambda r: -r[1]["est_ms"])[:top]}
        rows = [r for r in rows if r[0] in keep]
    labels = [f"{r['name']} ({r['op']}, {r['dtype']})" for _, r in rows]
    work = [max(r["compute_ms"], r["memory_ms"]) for _, r in rows]
    launch = [r["launch_ms"] for _, r in rows]
    fig = Figure(figsize=(8.0, 1.2 + 0.28 * max(1, len(rows))))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.barh(range(len(rows)), work, color=[_COLOURS.get(r["bound"], "grey") for _, r in rows])
    ax.barh(range(len(rows)), launch, left=work, color=_LAUNCH)
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("estimated time per op (ms, roofline + launch)")
    title = f"{estimate.get('profile', '?')}: roofline {estimate['latency_roofline_ms']:.3f} ms"
    if estimate.get("host_factor") is not None:
        title += f", p99 {estimate['latency_p99_ms']:.3f} ms (x{estimate['host_factor']:.2f} host)"
    ax.set_title(title, fontsize=9)
    handles = [Patch(color=c, label=f"{b}-bound") for b, c in _COLOURS.items()] + [Patch(color=_LAUNCH, label="launch overhead")]
    ax.legend(handles=handles, fontsize=7, loc="best")
    fig.tight_layout()
    out = os.fspath(path)
    fig.savefig(out, dpi=110)
    return out
