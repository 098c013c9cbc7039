"""What ``wayvert demo`` draws: a bird's-eye view of planned vs driven paths, a latency histogram per stage, and an
animation of the canonical camera views with the verified plan drawn in. matplotlib and Pillow (optional: the
demo prints its table without them)."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from .drive import DriveLog


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def birds_eye(log: DriveLog, path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 7))
    driven, expert = np.asarray(log.driven), np.asarray(log.expert_driven)
    both = np.concatenate([driven, expert]) if len(expert) else driven
    lo, hi = both.min(0) - 30, both.max(0) + 30
    if log.road is not None:
        for pts, style in log.road.markings():
            m = ((pts >= lo) & (pts <= hi)).all(1)
            ax.plot(pts[m, 0], pts[m, 1], color="0.6", lw=0.8, ls="--" if style == "dashed" else "-")
    for f in log.frames[::10]:
        ax.plot(f.plan_world[:, 0], f.plan_world[:, 1], color="tab:orange", lw=1, alpha=0.7)
    ax.plot([], [], color="tab:orange", label="verified plans (every 1 s)")
    ax.plot(expert[:, 0], expert[:, 1], color="tab:green", lw=2, label="expert on the same seed")
    ax.plot(driven[:, 0], driven[:, 1], color="tab:blue", lw=2, label="driven by the engine")
    ax.plot(*driven[0], "ko", label="start")
    ax.set_aspect("equal")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("x (m, world)")
    ax.set_ylabel("y (m, world)")
    ax.legend(loc="best")
    ax.set_title("wayvert demo: planned vs driven")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def latency_histogram(log: DriveLog, path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4))
    for stage in ("adapter", "engine", "repair", "verifier"):
        v = np.array([f.latency_ms.get(stage, 0.0) for f in log.frames])
        ax.hist(v, bins=40, alpha=0.6, label=f"{stage}: p50 {np.percentile(v, 50):.2f} ms, p99 {np.percentile(v, 99):.2f} ms")
    ax.set_xlabel("latency per frame (ms, this machine, 1 thread)")
    ax.set_ylabel("frames")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _project(cam: Any, points_vehicle: np.ndarray) -> np.ndarray:
    """Pixel (u, v) of vehicle-frame points (NaN where not visible)."""
    from wayvert.sensors import camera_models

    R = np.asarray(cam.extrinsics.R_vehicle_from_optical, np.float64)
    t = np.asarray(cam.extrinsics.translation_m, np.float64)
    optical = (points_vehicle - t) @ R
    uv, ok = camera_models.project(cam.model, optical)
    uv = np.asarray(uv, np.float64)
    ok = np.asarray(ok, bool) & (optical[:, 2] > 0.5)
    uv[~ok] = np.nan
    return uv


def camera_animation(log: DriveLog, canonical: Any, path: Path, fps: int = 10) -> None:
    from PIL import Image, ImageDraw

    frames: list[Any] = []
    for views, plan, caption in log.camera_views:
        pts = np.concatenate([[[0.0, 0.0, 0.0]], np.c_[plan[:, :2], np.zeros(len(plan))]])
        tiles = []
        for cam, view in zip(canonical.cameras, views):
            img = Image.fromarray(view)
            draw = ImageDraw.Draw(img)
            uv = _project(cam, pts)
            line = [tuple(p) for p in uv if np.isfinite(p).all()]
            if len(line) >= 2:
                draw.line(line, fill=(255, 140, 0), width=2)
            tiles.append(img)
        order = sorted(range(len(tiles)), key=lambda i: -canonical.cameras[i].extrinsics.rotation_rpy_rad[2])
        w, h = tiles[0].size
        text = "\n".join(textwrap.wrap(caption, width=max(20, w * len(tiles) // 7)))   # the explanation
        strip = Image.new("RGB", (w * len(tiles), h))
        for j, i in enumerate(order):            # left camera on the left
            strip.paste(tiles[i], (j * w, 0))
        frames.append((strip, text))
    # One caption band for every frame (a GIF's frames share the first one's size): the tallest caption's.
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    band = max((int(measure.multiline_textbbox((0, 0), t, spacing=2)[3]) for _, t in frames), default=0) + 6
    images = []
    for strip, text in frames:
        framed = Image.new("RGB", (strip.width, strip.height + band))
        framed.paste(strip, (0, 0))
        ImageDraw.Draw(framed).multiline_text((3, strip.height + 2), text, fill=(255, 255, 255), spacing=2)
        images.append(framed)
    frames = images
    if frames:
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0)
