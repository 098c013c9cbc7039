"""Sensor adapter: six 1600x900 NV12 cameras (``rigs/nuscenes_like_6cam.json``, BT.709 limited range) onto the
three 256x128 virtual cameras of ``rigs/canonical_3cam.json`` as the engine's int8 input (benchmark group
"sensor adapter 6x1600x900 nv12 -> 3x128x256"; normalisation from the canonical rig, scale 1/32, zero point 0).

Peers (all single-threaded; random NV12 frames, seeded):

* ``wayvert``: ``SensorAdapter.convert(frames)``; the adapter (its remap tables) is built once, outside the
  timing. Per virtual pixel: bilinear sampling of the most central source camera (8-bit fixed-point weights),
  YUV -> RGB in integers at each of the 4 neighbours, then one LUT per channel to int8.
* ``opencv``: what one would write with OpenCV + numpy. Outside the timing, per virtual camera and per source
  camera that contributes to it, float32 maps (mapx, mapy) and a selection mask, from the numpy camera models
  (``wayvert.sensors.camera_models``) and the same rule as the C++ (``cpp/src/sensors/remap_table.cpp``: the
  source that sees the direction closest to its optical axis, with both bilinear neighbours inside). Timed: per
  contributing source camera ``cv2.cvtColor(COLOR_YUV2RGB_NV12)`` of the whole frame, per (virtual, source)
  pair ``cv2.remap(INTER_LINEAR)`` combined by the selection mask, then numpy ``(x/255 - mean)/std``,
  ``np.clip(np.rint(x/scale) + zp)`` to int8 CHW (invalid pixels = zero point, as wayvert). OpenCV's NV12
  conversion knows only BT.601 (limited range); the arithmetic is the same as BT.709's, so its output is checked
  against a wayvert adapter on a BT.601 twin of the rig (same cameras, ``color_matrix="bt601"``).
* ``opencv_bt709``: the same, but colour-correct for this rig: OpenCV has no BT.709 NV12 code, so the chroma
  plane is upsampled (``cv2.resize`` INTER_NEAREST), merged with Y and converted by ``cv2.transform`` with the
  BT.709 limited 3x4 matrix. Checked against the wayvert output itself.

Agreement (asserted before timing, loosely: OpenCV's bilinear weights have 5 fractional bits, wayvert's 8, and the
colour rounding differs): the validity masks differ on < 0.1 % of the pixels, and on pixels valid in both the mean
absolute difference is < 2 int8 codes. Timings are recorded, never asserted; each OpenCV case records its median
and min and the ratio opencv / wayvert (medians, mins) in ``extra_info`` once the wayvert case has run.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Callable

import numpy as np
import numpy.typing as npt
import pytest

import wayvert
from wayvert.sensors import camera_models
from wayvert.sensors.adapter import FRAME_SHAPES

GROUP = "sensor adapter 6x1600x900 nv12 -> 3x128x256"
ROOT = Path(__file__).resolve().parent.parent
RIG = ROOT / "rigs" / "nuscenes_like_6cam.json"
CANONICAL = ROOT / "rigs" / "canonical_3cam.json"
SCALE = 1.0 / 32
ZERO_POINT = 0
SEED = 2024
MASK_MISMATCH_BOUND = 1e-3  # fraction of virtual pixels
MEAN_ABS_CODES_BOUND = 2.0  # int8 codes, on pixels valid in both

I8 = npt.NDArray[np.int8]
U8 = npt.NDArray[np.uint8]

# Results of this run, for the ratios: case name -> benchmark stats.
_STATS: dict[str, Any] = {}


# ----------------------------------------------------------------------------------------------------------
# Inputs


def random_frames(rig: wayvert.Rig, seed: int = SEED) -> dict[str, U8]:
    rng = np.random.default_rng(seed)
    return {c.name: rng.integers(0, 256, size=FRAME_SHAPES[c.pixel_format](c.width, c.height), dtype=np.uint8)
            for c in rig.cameras}


def with_matrix(rig: wayvert.Rig, matrix: str) -> wayvert.Rig:
    return dataclasses.replace(rig, cameras=tuple(dataclasses.replace(c, color_matrix=matrix) for c in rig.cameras))


def normalization(canonical: wayvert.Rig) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    n = canonical.normalization
    assert n is not None
    return np.asarray(n.mean, dtype=np.float32), np.asarray(n.std, dtype=np.float32)


# ----------------------------------------------------------------------------------------------------------
# The remap geometry in numpy (the rule of cpp/src/sensors/remap_table.cpp, vectorised over virtual pixels)


@dataclasses.dataclass
class VirtualMaps:
    """One virtual camera: per contributing source index, (mapx, mapy) float32 [H, W] (-16 where not selected)
    and the selection mask [H, W]; ``valid`` [H, W] is the union of the selections."""

    sources: list[int]
    maps: list[tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]]
    select: list[npt.NDArray[np.bool_]]
    valid: npt.NDArray[np.bool_]


def build_maps(rig: wayvert.Rig, canonical: wayvert.Rig) -> list[VirtualMaps]:
    out = []
    for virt in canonical.cameras:
        h, w = virt.height, virt.width
        jj, ii = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
        rays, ok = camera_models.unproject(virt.model, np.stack([jj.ravel(), ii.ravel()], axis=1))
        vr = np.where(ok[:, None], rays, 0.0) @ virt.extrinsics.R_vehicle_from_optical.T  # vehicle frame
        n = h * w
        best_cos = np.full(n, -2.0)
        choice = np.full(n, -1, dtype=np.int64)
        best_uv = np.zeros((n, 2))
        for s, cam in enumerate(rig.cameras):
            sr = vr @ cam.extrinsics.R_vehicle_from_optical  # R^T maps vehicle -> source optical (row form)
            with np.errstate(invalid="ignore", divide="ignore"):
                cos_axis = sr[:, 2] / np.linalg.norm(sr, axis=1)
            cand = ok & (cos_axis > best_cos)
            uv, pv = camera_models.project(cam.model, np.where(cand[:, None], sr, [0.0, 0.0, 1.0]))
            cand &= pv
            with np.errstate(invalid="ignore"):
                cand &= (uv[:, 0] >= -1e-6) & (uv[:, 1] >= -1e-6)
            u = np.maximum(np.nan_to_num(uv[:, 0]), 0.0)
            v = np.maximum(np.nan_to_num(uv[:, 1]), 0.0)
            x0, y0 = np.floor(u), np.floor(v)
            fx, fy = np.floor((u - x0) * 256.0 + 0.5), np.floor((v - y0) * 256.0 + 0.5)  # lround (>= 0)
            x0 = np.where(fx == 256, x0 + 1, x0)
            y0 = np.where(fy == 256, y0 + 1, y0)
            cand &= (x0 + 1 <= cam.width - 1) & (y0 + 1 <= cam.height - 1)
            best_cos = np.where(cand, cos_axis, best_cos)
            choice = np.where(cand, s, choice)
            best_uv = np.where(cand[:, None], np.stack([u, v], axis=1), best_uv)
        sources = sorted(int(s) for s in np.unique(choice) if s >= 0)
        maps, select = [], []
        for s in sources:
            sel = (choice == s).reshape(h, w)
            mx = np.where(sel, best_uv[:, 0].reshape(h, w), -16.0).astype(np.float32)
            my = np.where(sel, best_uv[:, 1].reshape(h, w), -16.0).astype(np.float32)
            maps.append((mx, my))
            select.append(sel)
        out.append(VirtualMaps(sources, maps, select, (choice >= 0).reshape(h, w)))
    return out


# ----------------------------------------------------------------------------------------------------------
# The OpenCV + numpy peer


def bt709_limited_3x4() -> npt.NDArray[np.float32]:
    """[Y, U, V, 1] -> [R, G, B] for BT.709 limited range (the float matrix of pixel_formats.YUV_COEFFS)."""
    cy, crv, cgu, cgv, cbu = 1.164, 1.793, 0.213, 0.533, 2.112
    m = np.array([[cy, 0.0, crv], [cy, -cgu, -cgv], [cy, cbu, 0.0]])
    off = -(m @ np.array([16.0, 128.0, 128.0]))
    return np.concatenate([m, off[:, None]], axis=1).astype(np.float32)


def make_opencv_peer(rig: wayvert.Rig, canonical: wayvert.Rig, maps: list[VirtualMaps],
                     colour: str) -> Callable[[dict[str, U8]], tuple[I8, U8]]:
    import cv2

    names = [c.name for c in rig.cameras]
    used = sorted({s for vm in maps for s in vm.sources})
    mean, std = normalization(canonical)
    mean_b, std_b = mean.reshape(1, 1, 1, 3), std.reshape(1, 1, 1, 3)
    h, w = canonical.cameras[0].height, canonical.cameras[0].width
    valid = np.stack([vm.valid for vm in maps])  # [V, H, W]
    invalid = ~valid
    mask_u8 = valid.astype(np.uint8)
    select3 = [[sel[..., None] for sel in vm.select] for vm in maps]
    m709 = bt709_limited_3x4()

    def to_rgb(frame: U8, cam_w: int, cam_h: int) -> U8:
        if colour == "bt601":
            return cv2.cvtColor(frame, cv2.COLOR_YUV2RGB_NV12)
        uv = frame[cam_h:].reshape(cam_h // 2, cam_w // 2, 2)
        uv_full = cv2.resize(uv, (cam_w, cam_h), interpolation=cv2.INTER_NEAREST)
        yuv = cv2.merge([frame[:cam_h], uv_full[..., 0], uv_full[..., 1]])
        return cv2.transform(yuv, m709)

    def run(frames: dict[str, U8]) -> tuple[I8, U8]:
        rgb = {s: to_rgb(frames[names[s]], rig.cameras[s].width, rig.cameras[s].height) for s in used}
        img = np.zeros((len(maps), h, w, 3), dtype=np.uint8)
        for v, vm in enumerate(maps):
            for k, s in enumerate(vm.sources):
                mx, my = vm.maps[k]
                r = cv2.remap(rgb[s], mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
                np.copyto(img[v], r, where=select3[v][k])
        x = (img.astype(np.float32) / np.float32(255.0) - mean_b) / std_b
        q = np.clip(np.rint(x / np.float32(SCALE)) + ZERO_POINT, -128, 127)
        q[invalid] = ZERO_POINT
        return np.ascontiguousarray(q.astype(np.int8).transpose(0, 3, 1, 2)), mask_u8

    return run


# ----------------------------------------------------------------------------------------------------------
# Fixtures


@dataclasses.dataclass
class Case:
    rig: wayvert.Rig
    canonical: wayvert.Rig
    frames: dict[str, U8]
    adapter: wayvert.SensorAdapter
    ref: tuple[I8, U8]
    maps: list[VirtualMaps]


@pytest.fixture(scope="module")
def case() -> Case:
    rig, canonical = wayvert.Rig.load(RIG), wayvert.Rig.load(CANONICAL)
    frames = random_frames(rig)
    adapter = wayvert.SensorAdapter(rig, canonical, SCALE, ZERO_POINT)
    ref = adapter.convert(frames)
    maps = build_maps(rig, canonical)
    return Case(rig, canonical, frames, adapter, ref, maps)


def agreement(out: tuple[I8, U8], ref: tuple[I8, U8]) -> dict[str, float]:
    (t, m), (rt, rm) = out, ref
    assert t.shape == rt.shape and t.dtype == np.int8 and m.shape == rm.shape
    both = (m != 0) & (rm != 0)
    d = np.abs(t.astype(np.int16) - rt.astype(np.int16)).transpose(1, 0, 2, 3)[:, both]  # [3, n]
    return {"mask_mismatch_fraction": float(np.mean((m != 0) != (rm != 0))),
            "valid_fraction": float(np.mean(rm != 0)),
            "mean_abs_codes": float(d.mean()), "max_abs_codes": float(d.max()),
            "p99_abs_codes": float(np.percentile(d, 99))}


def record(benchmark: Any, name: str) -> None:
    st = benchmark.stats.stats
    _STATS[name] = st
    benchmark.extra_info["median_ms"] = st.median * 1e3
    benchmark.extra_info["min_ms"] = st.min * 1e3
    ref = _STATS.get("wayvert")
    if name != "wayvert" and ref is not None:
        benchmark.extra_info["ratio_vs_wayvert_median"] = st.median / ref.median
        benchmark.extra_info["ratio_vs_wayvert_min"] = st.min / ref.min


# ----------------------------------------------------------------------------------------------------------
# Benchmarks (wayvert first, so the OpenCV cases can record their ratio)


@pytest.mark.benchmark(group=GROUP)
def test_wayvert(benchmark: Any, case: Case) -> None:
    t, m = case.ref
    assert t.shape == (3, 3, 128, 256) and t.dtype == np.int8 and m.shape == (3, 128, 256)
    assert 0.5 < float(np.mean(m)) <= 1.0, "most virtual pixels should see a source camera"
    benchmark.extra_info.update(isa=wayvert.cpu_isa(), threads=1, adapter=case.adapter.name,
                                valid_fraction=float(np.mean(m)))
    out = benchmark(case.adapter.convert, case.frames)
    assert np.array_equal(out[0], t) and np.array_equal(out[1], m)
    record(benchmark, "wayvert")


@pytest.mark.parametrize("colour", ["bt601", "bt709"], ids=["opencv", "opencv_bt709"])
@pytest.mark.benchmark(group=GROUP)
def test_opencv(benchmark: Any, case: Case, colour: str) -> None:
    cv2 = pytest.importorskip("cv2", reason="opencv-python-headless not installed (pip install '.[bench]')")
    cv2.setNumThreads(1)
    run = make_opencv_peer(case.rig, case.canonical, case.maps, colour)
    if colour == "bt601":  # OpenCV's NV12 code is BT.601: check against wayvert on a BT.601 twin of the rig
        ref = wayvert.SensorAdapter(with_matrix(case.rig, "bt601"), case.canonical, SCALE, ZERO_POINT).convert(case.frames)
    else:
        ref = case.ref
    agree = agreement(run(case.frames), ref)
    benchmark.extra_info.update(agree)
    benchmark.extra_info.update(cv2_version=cv2.__version__, threads=1, colour=colour,
                                sources_converted=len({s for vm in case.maps for s in vm.sources}),
                                remaps=sum(len(vm.sources) for vm in case.maps))
    assert agree["mask_mismatch_fraction"] < MASK_MISMATCH_BOUND, agree
    assert agree["mean_abs_codes"] < MEAN_ABS_CODES_BOUND, agree
    benchmark(run, case.frames)
    record(benchmark, "opencv" if colour == "bt601" else "opencv_bt709")
