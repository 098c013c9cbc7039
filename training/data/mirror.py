"""Mirror augmentation: a training batch reflected left <-> right (y -> -y in the ego frame).

A mirrored world is a world too: right-hand traffic becomes left-hand traffic, a left turn a right one, a vehicle
cutting in from the left one cutting in from the right. For a rig whose cameras come in mirror pairs (the
canonical rig: front_right, front, front_left at yaw -0.6, 0, +0.6 rad), the mirrored frame set is every image
flipped horizontally and moved to its mirror camera's slot; the targets follow:

* ego yaw rate, and the trajectory's y and heading, change sign; so does curvature;
* the commands "left" and "right" swap;
* speeds, lead distance and the scenario are unchanged (schema.SCENARIOS has no sided class).

``mirror_permutation(rig)`` finds the camera pairs (a ``ValueError`` names a camera without a mirror);
``mirror_batch`` reflects the chosen samples of a collated batch. numpy and torch only.
"""
from __future__ import annotations

import math
from typing import Any

import torch

from wayvert import schema

_TOLERANCE = 1e-6


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=_TOLERANCE, abs_tol=_TOLERANCE)


def _is_mirror(a: Any, b: Any) -> bool:
    """Whether camera ``b`` sees the mirror image of what camera ``a`` sees (a pixel column c of a is column
    width - 1 - c of b)."""
    ma, mb = a.model, b.model
    if (a.width, a.height, a.pixel_format, ma.type) != (b.width, b.height, b.pixel_format, mb.type):
        return False
    if not all(_close(x, y) for x, y in ((ma.fx or 0.0, mb.fx or 0.0), (ma.fy or 0.0, mb.fy or 0.0),
                                         (ma.cy, mb.cy), (ma.cx, (a.width - 1) - mb.cx))):
        return False
    if (ma.fov_deg is None) != (mb.fov_deg is None) or (ma.fov_deg is not None and not _close(ma.fov_deg, mb.fov_deg)):
        return False
    coeffs_b = list(mb.coeffs)
    if ma.type == "pinhole" and len(coeffs_b) >= 4:
        coeffs_b[3] = -coeffs_b[3]  # Brown-Conrady p2 multiplies odd powers of x: it changes sign in a mirror
    if len(ma.coeffs) != len(coeffs_b) or not all(_close(x, y) for x, y in zip(ma.coeffs, coeffs_b)):
        return False
    (xa, ya, za), (xb, yb, zb) = a.extrinsics.translation_m, b.extrinsics.translation_m
    (ra, pa, wa), (rb, pb, wb) = a.extrinsics.rotation_rpy_rad, b.extrinsics.rotation_rpy_rad
    return all(_close(x, y) for x, y in ((xa, xb), (ya, -yb), (za, zb), (ra, -rb), (pa, pb), (wa, -wb)))


def mirror_permutation(rig: Any) -> list[int]:
    """``perm[i]``: the camera whose mirrored image takes slot ``i`` of a mirrored frame set."""
    perm = []
    for a in rig.cameras:
        match = [j for j, b in enumerate(rig.cameras) if _is_mirror(a, b)]
        if not match:
            raise ValueError(f"rig {rig.name!r}: camera {a.name!r} has no mirror camera (same intrinsics with cx "
                             f"reflected, mounted at y -> -y, roll and yaw negated), so frame sets of this rig "
                             "cannot be mirrored")
        perm.append(match[0])
    return perm


def mirror_batch(batch: dict[str, torch.Tensor], perm: list[int], which: torch.Tensor) -> dict[str, torch.Tensor]:
    """A new batch with the samples where ``which`` (bool [B]) is true mirrored; the others, and every key
    this function does not know, unchanged. Images are [B, V, 3, H, W] ("image") or [B, T, V, 3, H, W]
    ("history")."""
    which = which.to(torch.bool)
    if not bool(which.any()):
        return dict(batch)
    out = dict(batch)
    index = torch.tensor(perm, dtype=torch.int64)

    def pick(key: str, mirrored: torch.Tensor) -> None:
        shape = (-1,) + (1,) * (mirrored.dim() - 1)
        out[key] = torch.where(which.reshape(shape), mirrored, batch[key])

    if "image" in batch:
        pick("image", batch["image"].index_select(1, index).flip(-1))
    if "history" in batch:
        pick("history", batch["history"].index_select(2, index).flip(-1))
    if "ego" in batch:
        pick("ego", batch["ego"] * torch.tensor([1.0, -1.0], dtype=batch["ego"].dtype))
    if "command" in batch:
        left, right = schema.command_index("left"), schema.command_index("right")
        swap = list(range(batch["command"].shape[-1]))
        swap[left], swap[right] = right, left
        pick("command", batch["command"][..., swap])
    if "trajectory" in batch:
        sign = torch.ones(len(schema.WAYPOINT_FIELDS), dtype=batch["trajectory"].dtype)
        sign[schema.WAYPOINT_FIELDS.index("y")] = -1.0
        sign[schema.WAYPOINT_FIELDS.index("heading")] = -1.0
        pick("trajectory", batch["trajectory"] * sign)
    if "curvature" in batch:
        pick("curvature", -batch["curvature"])
    return out
