"""The sensor adapter end to end: every shipped rig into the canonical rig, missing cameras in the mask, bad
frames refused naming the camera, the identity mapping returns the image quantized, plugins from .so files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import wayvert
from wayvert import Rig, SensorAdapter
from wayvert.sensors.adapter import FRAME_SHAPES

ROOT = Path(__file__).resolve().parents[2]
RIGS = ROOT / "rigs"
CANONICAL = Rig.load(RIGS / "canonical_3cam.json")
PLUGIN = Path(wayvert.__file__).parent / "plugins" / "libwayvert_plugin_bayer12_packed.so"


def frames_for(rig: Rig, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {c.name: rng.integers(0, 256, size=FRAME_SHAPES[c.pixel_format](c.width, c.height), dtype=np.uint8)
            for c in rig.cameras}


@pytest.mark.parametrize("rig_name", ["nuscenes_like_6cam", "fisheye_dashcam", "high_pitched_2cam", "ftheta_bayer_front"])
def test_every_shipped_rig_converts_into_the_canonical_rig(rig_name: str) -> None:
    rig = Rig.load(RIGS / f"{rig_name}.json")
    adapter = SensorAdapter(rig, CANONICAL, scale=1 / 32, zero_point=0)
    tensor, mask = adapter.convert(frames_for(rig))
    v, h, w = len(CANONICAL.cameras), CANONICAL.cameras[0].height, CANONICAL.cameras[0].width
    assert tensor.shape == (v, 3, h, w) and tensor.dtype == np.int8
    assert mask.shape == (v, h, w) and mask.dtype == np.uint8
    coverage = mask.reshape(v, -1).mean(axis=1)
    assert coverage.min() > 0.8, coverage  # every shipped rig sees most of the forward field of view
    assert np.all(tensor[:, :, mask.astype(bool)[0]].std() > 0)  # random frames give varied values where covered
    assert np.all(tensor.transpose(1, 0, 2, 3)[:, mask == 0] == 0)  # uncovered pixels hold the zero point


def test_missing_cameras_are_allowed_and_reported_in_the_mask() -> None:
    rig = Rig.load(RIGS / "nuscenes_like_6cam.json")
    adapter = SensorAdapter(rig, CANONICAL, scale=1 / 32)
    frames = frames_for(rig)
    _, full = adapter.convert(frames)
    frames["front"] = None  # dropped frame
    del frames["front_left"]  # not delivered at all
    _, partial = adapter.convert(frames)
    assert partial.sum() < full.sum()
    front = [c.name for c in CANONICAL.cameras].index("front")
    assert partial[front].mean() < 0.5


def test_bad_frames_raise_input_error_naming_the_camera() -> None:
    rig = Rig.load(RIGS / "nuscenes_like_6cam.json")
    adapter = SensorAdapter(rig, CANONICAL, scale=1 / 32)
    frames = frames_for(rig)
    with pytest.raises(wayvert.InputError, match="front_right"):
        adapter.convert({**frames, "front_right": frames["front_right"][:-2]})
    with pytest.raises(wayvert.InputError, match="back"):
        adapter.convert({**frames, "back": frames["back"].astype(np.float32)})
    with pytest.raises(wayvert.InputError, match="roof"):
        adapter.convert({**frames, "roof": frames["back"]})
    with pytest.raises(wayvert.InputError, match="mapping"):   # issue 15: was AttributeError
        adapter.convert(list(frames.values()))  # type: ignore[arg-type]
    tensor, _ = adapter.convert(frames)  # still works afterwards
    assert tensor.shape[0] == 3


def test_yuyv_frames_are_taken_in_opencvs_h_w_2_layout_too() -> None:
    """Issue 15: OpenCV hands YUYV frames over as (H, W, 2); they were refused. Same bytes, same output."""
    d = CANONICAL.to_dict()
    d["cameras"] = [dict(c, pixel_format="yuyv") for c in d["cameras"] if c["name"] == "front"]
    rig = Rig.from_dict(d)
    cam = rig.cameras[0]
    adapter = SensorAdapter(rig, rig, scale=LUT_SCALE, zero_point=LUT_ZERO)
    flat = frames_for(rig, seed=5)["front"]
    assert flat.shape == (cam.height, 2 * cam.width)
    want = adapter.convert({"front": flat})
    got = adapter.convert({"front": flat.reshape(cam.height, cam.width, 2)})
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    with pytest.raises(wayvert.InputError, match="front"):            # other 3-D shapes are still refused
        adapter.convert({"front": flat.reshape(cam.height, cam.width // 2, 4)})


def test_identity_mapping_returns_the_image_quantized() -> None:
    # One canonical camera as its own source (rgb8): each virtual pixel samples itself with zero fraction.
    # (With several overlapping cameras the most central source wins in the overlaps, so that is no identity.)
    d = CANONICAL.to_dict()
    d["cameras"] = [c for c in d["cameras"] if c["name"] == "front"]
    single = Rig.from_dict(d)
    adapter = SensorAdapter(single, single, scale=1 / 32, zero_point=3)
    frames = frames_for(single, seed=5)
    tensor, mask = adapter.convert(frames)
    mean = np.asarray(CANONICAL.normalization.mean)  # type: ignore[union-attr]
    std = np.asarray(CANONICAL.normalization.std)  # type: ignore[union-attr]
    for v, cam in enumerate(single.cameras):
        img = frames[cam.name].astype(np.float64)  # [H, W, 3]
        x = ((img / 255.0) - mean) / std / (1 / 32)
        want = np.clip(np.trunc(x + np.copysign(0.5, x)) + 3, -128, 127).astype(np.int8).transpose(2, 0, 1)
        inner = mask[v].astype(bool)
        assert inner[:-1, :-1].mean() > 0.99  # all but the last row/column (no right/bottom neighbour) are covered
        np.testing.assert_array_equal(tensor[v][:, inner], want[:, inner])


def _raw12_rig() -> Rig:
    d = {"name": "raw12", "cameras": [{
        "name": "front", "width": 640, "height": 320, "pixel_format": "bayer_rggb12p", "fps": 30,
        "model": {"type": "pinhole", "fx": 400.0, "fy": 400.0, "cx": 319.5, "cy": 159.5},
        "extrinsics": {"translation_m": [1.5, 0.0, 1.5], "rotation_rpy_rad": [0.0, 0.0, 0.0]}}]}
    return Rig.from_dict(d)


def test_example_plugin_loads_from_its_so_and_converts_packed_raw12() -> None:
    assert PLUGIN.exists(), PLUGIN
    rig = _raw12_rig()
    adapter = SensorAdapter.from_plugin(PLUGIN, rig, CANONICAL, scale=1 / 32)
    assert adapter.name == "example.bayer12_packed"
    raw = np.full((320, 640 * 3 // 2), 0x80, dtype=np.uint8)  # every sample 0x808 -> 128 after >> 4
    tensor, mask = adapter.convert({"front": raw})
    front = [c.name for c in CANONICAL.cameras].index("front")
    assert mask[front].mean() > 0.9
    with pytest.raises(wayvert.InputError, match="bayer_rggb12p"):
        adapter.convert({"front": raw[:-1]})


def test_builtin_adapter_refuses_a_plugin_format_and_a_bad_plugin_path() -> None:
    with pytest.raises(wayvert.UnsupportedEngineError, match="bayer_rggb12p"):
        SensorAdapter(_raw12_rig(), CANONICAL)
    with pytest.raises(wayvert.WayvertError, match="cannot load"):
        SensorAdapter.from_plugin(os.devnull, _raw12_rig(), CANONICAL)


LUT_SCALE, LUT_ZERO = 1 / 32, -5


def _numpy_lut(canonical: Rig) -> np.ndarray:
    """The adapter's normalise+quantise table, computed in numpy (float64, round half away from zero)."""
    n = canonical.normalization
    mean = np.asarray(n.mean if n else (0, 0, 0), dtype=np.float64)  # type: ignore[union-attr]
    std = np.asarray(n.std if n else (1, 1, 1), dtype=np.float64)  # type: ignore[union-attr]
    v = np.arange(256, dtype=np.float64)[None, :]
    x = ((v / 255.0) - mean[:, None]) / std[:, None] / LUT_SCALE
    return np.clip(np.trunc(x + np.copysign(0.5, x)) + LUT_ZERO, -128, 127).astype(np.int8)  # [3, 256]


@pytest.mark.parametrize("fmt,matrix,rng_", [("rgb8", "bt601", "full"), ("bgr8", "bt601", "full"),
                                             ("nv12", "bt709", "limited"), ("nv12", "bt601", "full"),
                                             ("yuyv", "bt601", "limited"), ("yuyv", "bt709", "full"),
                                             ("bayer_rggb8", "bt601", "full")])
def test_each_pixel_format_matches_its_numpy_reference_bit_for_bit(fmt: str, matrix: str, rng_: str) -> None:
    # Identity geometry (one camera as its own source) isolates the format decode: every covered pixel must be
    # LUT[fetch_rgb(pixel)] with the numpy reference of the same integer arithmetic.
    from wayvert.sensors import pixel_formats

    d = CANONICAL.to_dict()
    d["cameras"] = [dict(c, pixel_format=fmt, color={"matrix": matrix, "range": rng_}) for c in d["cameras"]
                    if c["name"] == "front"]
    rig = Rig.from_dict(d)
    adapter = SensorAdapter(rig, rig, scale=LUT_SCALE, zero_point=LUT_ZERO)
    frame = frames_for(rig, seed=11)["front"]
    tensor, mask = adapter.convert({"front": frame})
    cam = rig.cameras[0]
    ys, xs = np.nonzero(mask[0])
    rgb = pixel_formats.fetch_rgb(frame, fmt, xs, ys, matrix=matrix, full_range=rng_ == "full")
    lut = _numpy_lut(rig)
    want = np.stack([lut[c][rgb[:, c]] for c in range(3)])
    assert len(xs) > 0.99 * (cam.width - 1) * (cam.height - 1)
    np.testing.assert_array_equal(tensor[0][:, ys, xs], want)


def test_the_canonical_rig_travels_in_the_engine_meta() -> None:
    from wayvert.build import EngineBuilder, ops

    b = EngineBuilder("with_rig", "1")
    x = b.input("image", "int8", (1, 3, 128, 256), scale=1 / 32, zero_point=0)
    b.output(ops.dequantize(b, x))
    b.meta["canonical_rig"] = CANONICAL.to_dict()
    engine = wayvert.Engine.from_bytes(b.to_bytes())
    rig = Rig.from_dict(engine.meta["canonical_rig"])
    assert rig == CANONICAL
    spec = engine.inputs[0]
    adapter = SensorAdapter(Rig.load(RIGS / "fisheye_dashcam.json"), rig, scale=spec.scale, zero_point=spec.zero_point)
    tensor, _ = adapter.convert(frames_for(Rig.load(RIGS / "fisheye_dashcam.json")))
    out = engine.session().run({"image": tensor[1:2]})  # the front virtual camera as a 1-camera batch
    assert out["dequantize"].shape == (1, 3, 128, 256)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(width=st.integers(8, 96).map(lambda v: 2 * v), height=st.integers(4, 48).map(lambda v: 2 * v),
       fov_scale=st.floats(0.4, 1.5), yaw=st.floats(-3.0, 3.0), pitch=st.floats(-0.5, 0.5), seed=st.integers(0, 2**16))
def test_identity_mapping_property_same_rig_in_and_out_gives_the_image_quantized(
        width: int, height: int, fov_scale: float, yaw: float, pitch: float, seed: int) -> None:
    f = fov_scale * width
    d = {"name": "one", "cameras": [{
        "name": "cam", "width": width, "height": height, "pixel_format": "rgb8", "fps": 10,
        "model": {"type": "pinhole", "fx": f, "fy": f, "cx": (width - 1) / 2, "cy": (height - 1) / 2},
        "extrinsics": {"translation_m": [1.0, 0.0, 1.4], "rotation_rpy_rad": [0.0, pitch, yaw]}}],
        "normalization": {"mean": [0.4, 0.5, 0.6], "std": [0.2, 0.25, 0.3]}}
    rig = Rig.from_dict(d)
    image = np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    tensor, mask = SensorAdapter(rig, rig, scale=LUT_SCALE, zero_point=LUT_ZERO).convert({"cam": image})
    covered = mask[0].astype(bool)
    assert covered[:-1, :-1].all()  # everything with a right and a bottom neighbour maps onto itself
    want = np.stack([_numpy_lut(rig)[c][image[..., c]] for c in range(3)])
    np.testing.assert_array_equal(tensor[0][:, covered], want[:, covered])
