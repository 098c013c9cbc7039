"""A bird's-eye plot of a replay: the recorded path and, every ``every`` frame sets, the trajectory the verifier
let through (the chosen mode, or its minimum-risk fallback in red), in the log's world frame. Needs matplotlib."""
from __future__ import annotations

import math
from typing import Any, Sequence

from wayvert.errors import InvalidArgumentError


def _to_world(traj: Sequence[Sequence[float]], pose: dict[str, float]) -> tuple[list[float], list[float]]:
    c, s = math.cos(pose["yaw_rad"]), math.sin(pose["yaw_rad"])
    xs = [pose["x_m"] + c * p[1] - s * p[2] for p in traj]  # rows: t, x, y, heading, speed (ego frame)
    ys = [pose["y_m"] + s * p[1] + c * p[2] for p in traj]
    return xs, ys


def plot_replay(records: Sequence[dict[str, Any]], path: str, title: str = "wayvert run", every: int = 1) -> None:
    """Write the plot of ``records`` (each with ``pose`` and ``verdict``, as ``replay`` yields them) to ``path``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise InvalidArgumentError("--plot needs matplotlib (pip install matplotlib)") from e
    posed = [r for r in records if r.get("pose") is not None and None not in r["pose"].values()]
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.plot([r["pose"]["x_m"] for r in posed], [r["pose"]["y_m"] for r in posed], color="tab:green", lw=2, zorder=3,
            label="recorded path (frame sets)")
    labels = set()
    for r in posed[::max(1, every)]:
        v = r.get("verdict")
        if v is None:
            ax.plot(r["pose"]["x_m"], r["pose"]["y_m"], "x", color="black", label=None if "skip" in labels else "skipped")
            labels.add("skip")
            continue
        kind = "fallback (minimum-risk)" if v["fallback_used"] else "chosen mode"
        xs, ys = _to_world(v["trajectory"], r["pose"])
        ax.plot(xs, ys, color="tab:red" if v["fallback_used"] else "tab:orange", lw=1,
                label=None if kind in labels else kind)
        labels.add(kind)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x (m, log frame)")
    ax.set_ylabel("y (m, log frame)")
    ax.set_title(title)
    ax.legend(loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
