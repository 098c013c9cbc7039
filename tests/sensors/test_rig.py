"""Rig files (docs/rig-file.md): the shipped rigs, the extrinsics convention, round trips and every error kind."""

from __future__ import annotations

import copy
import json
import math
import os
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wayvert.errors import InvalidArgumentError, WayvertError
from wayvert.sensors import Rig, RigError
from wayvert.sensors.rig import R_BODY_FROM_OPTICAL, Extrinsics

ROOT = Path(__file__).resolve().parents[2]
RIGS = ROOT / "rigs"
DOC = ROOT / "docs" / "rig-file.md"
SHIPPED = ["canonical_3cam.json", "fisheye_dashcam.json", "ftheta_bayer_front.json", "high_pitched_2cam.json",
           "nuscenes_like_6cam.json"]
PROPS = settings(max_examples=int(os.environ.get("WV_PROPERTY_EXAMPLES", "150")), deadline=None)


def optical_axis(cam: Any) -> np.ndarray:
    return np.asarray(cam.extrinsics.R_vehicle_from_optical[:, 2])


def assert_rotation(r: np.ndarray) -> None:
    assert r.shape == (3, 3) and r.dtype == np.float64
    np.testing.assert_allclose(r.T @ r, np.eye(3), atol=1e-12)
    assert abs(np.linalg.det(r) - 1.0) < 1e-12


# --------------------------------------------------------------------------------------------------------------
# Shipped rigs
# --------------------------------------------------------------------------------------------------------------


def test_the_five_rigs_are_shipped() -> None:
    assert sorted(p.name for p in RIGS.glob("*.json")) == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_rig_loads_and_round_trips(name: str) -> None:
    rig = Rig.load(RIGS / name)
    assert rig.name == name.removesuffix(".json")
    d = rig.to_dict()
    assert Rig.from_dict(d) == rig
    assert Rig.from_dict(json.loads(json.dumps(d))) == rig  # JSON-ready, floats exact
    assert Rig.from_dict(json.loads((RIGS / name).read_text())) == rig
    for cam in rig.cameras:
        assert rig.camera(cam.name) is cam
        assert_rotation(cam.extrinsics.R_vehicle_from_optical)


def test_canonical_rig() -> None:
    rig = Rig.load(RIGS / "canonical_3cam.json")
    assert [c.name for c in rig.cameras] == ["front_right", "front", "front_left"]
    assert [c.extrinsics.rotation_rpy_rad[2] for c in rig.cameras] == [-0.6, 0.0, 0.6]
    for c in rig.cameras:
        m = c.model
        assert (c.width, c.height, c.pixel_format, m.type) == (256, 128, "rgb8", "pinhole")
        assert m.coeffs == (0.0,) * 5 and m.fx == m.fy
        assert c.extrinsics.translation_m == (1.5, 0.0, 1.5)
        assert m.fx is not None and abs(math.degrees(2 * math.atan(c.width / 2 / m.fx)) - 60.0) < 0.5
    assert rig.normalization is not None
    assert rig.normalization.mean == (0.485, 0.456, 0.406) and rig.normalization.std == (0.229, 0.224, 0.225)


def test_nuscenes_like_rig_looks_where_its_names_say() -> None:
    rig = Rig.load(RIGS / "nuscenes_like_6cam.json")
    assert [c.name for c in rig.cameras] == ["front", "front_left", "front_right", "back", "back_left", "back_right"]
    expected_yaw_deg = {"front": 0, "front_left": 55, "front_right": -55, "back": 180, "back_left": 110,
                        "back_right": -110}
    for c in rig.cameras:
        assert (c.width, c.height, c.pixel_format, c.color_matrix, c.color_range) == (1600, 900, "nv12", "bt709", "limited")
        assert c.model.type == "pinhole" and any(c.model.coeffs)
        ax = optical_axis(c)
        yaw = math.degrees(math.atan2(ax[1], ax[0]))
        assert abs((yaw - expected_yaw_deg[c.name] + 180) % 360 - 180) < 1.0
        assert abs(ax[2]) < 0.05  # about level
        hfov = math.degrees(2 * math.atan(c.width / 2 / (c.model.fx or 0)))
        assert (hfov > 100) if c.name == "back" else (60 < hfov < 75)
        # mounted on the body: left cameras on the left, right cameras on the right
        y = c.extrinsics.translation_m[1]
        assert (y > 0.3) if "left" in c.name else (y < -0.3) if "right" in c.name else abs(y) < 0.05


def test_other_rigs() -> None:
    fish = Rig.load(RIGS / "fisheye_dashcam.json").camera("dashcam")
    assert (fish.width, fish.height, fish.pixel_format, fish.model.type, fish.model.fov_deg) == (
        1280, 720, "yuyv", "kannala_brandt", 190.0)
    assert len(fish.model.coeffs) == 4
    high = Rig.load(RIGS / "high_pitched_2cam.json")
    assert len(high.cameras) == 2
    for c in high.cameras:
        assert (c.width, c.height, c.pixel_format) == (1920, 1080, "bgr8")
        assert c.extrinsics.translation_m[2] > 2.5 and c.extrinsics.rotation_rpy_rad[1] == 0.25
        assert optical_axis(c)[2] < -0.2  # looks down
    assert {round(c.extrinsics.rotation_rpy_rad[2], 2) for c in high.cameras} == {0.35, -0.35}
    ft = Rig.load(RIGS / "ftheta_bayer_front.json").cameras[0]
    assert (ft.width, ft.height, ft.pixel_format, ft.model.type) == (1920, 1208, "bayer_rggb8", "ftheta")
    assert ft.model.fx is None and ft.model.fy is None and len(ft.model.coeffs) == 5
    assert ft.model.fov_deg is not None and 110 <= ft.model.fov_deg <= 130


# --------------------------------------------------------------------------------------------------------------
# Extrinsics convention
# --------------------------------------------------------------------------------------------------------------


def ext(roll: float = 0.0, pitch: float = 0.0, yaw: float = 0.0) -> Extrinsics:
    return Extrinsics((0.0, 0.0, 0.0), (roll, pitch, yaw))


def test_zero_rotation_is_a_level_forward_camera() -> None:
    r = ext().R_vehicle_from_optical
    np.testing.assert_array_equal(r, R_BODY_FROM_OPTICAL)
    np.testing.assert_array_equal(r @ [0, 0, 1], [1, 0, 0])  # optical z (forward) -> vehicle x
    np.testing.assert_array_equal(r @ [1, 0, 0], [0, -1, 0])  # optical x (right) -> vehicle -y
    np.testing.assert_array_equal(r @ [0, 1, 0], [0, 0, -1])  # optical y (down) -> vehicle -z


def test_positive_yaw_looks_left_and_positive_pitch_looks_down() -> None:
    ax = ext(yaw=0.6).R_vehicle_from_optical[:, 2]
    assert ax[0] > 0 and ax[1] > 0 and abs(ax[2]) < 1e-15
    np.testing.assert_allclose(ax, [math.cos(0.6), math.sin(0.6), 0.0], atol=1e-15)
    ax = ext(pitch=0.25).R_vehicle_from_optical[:, 2]
    assert ax[0] > 0 and ax[2] < 0
    np.testing.assert_allclose(ax, [math.cos(0.25), 0.0, -math.sin(0.25)], atol=1e-15)
    ax = ext(yaw=math.pi).R_vehicle_from_optical[:, 2]
    np.testing.assert_allclose(ax, [-1, 0, 0], atol=1e-15)
    # positive roll: the image's right (optical x) tips down (vehicle z < 0), the image's up (-optical y) tips right
    r = ext(roll=0.3).R_vehicle_from_optical
    assert (r @ [1, 0, 0])[2] < 0 and (r @ [0, -1, 0])[1] < 0
    np.testing.assert_allclose(r[:, 2], [1, 0, 0], atol=1e-15)


@PROPS
@given(st.tuples(*[st.floats(-2 * math.pi, 2 * math.pi)] * 3))
def test_rotation_matches_the_spec(rpy: tuple[float, float, float]) -> None:
    roll, pitch, yaw = rpy
    e = ext(roll, pitch, yaw)
    r = e.R_vehicle_from_optical
    assert_rotation(r)
    assert_rotation(e.R_vehicle_from_body)
    c, s = math.cos, math.sin
    rz = np.array([[c(yaw), -s(yaw), 0], [s(yaw), c(yaw), 0], [0, 0, 1]])
    ry = np.array([[c(pitch), 0, s(pitch)], [0, 1, 0], [-s(pitch), 0, c(pitch)]])
    rx = np.array([[1, 0, 0], [0, c(roll), -s(roll)], [0, s(roll), c(roll)]])
    np.testing.assert_allclose(r, rz @ ry @ rx @ np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]]), atol=1e-14)
    np.testing.assert_allclose(r[:, 2], [c(yaw) * c(pitch), s(yaw) * c(pitch), -s(pitch)], atol=1e-14)


# --------------------------------------------------------------------------------------------------------------
# Random valid rigs
# --------------------------------------------------------------------------------------------------------------

finite = st.floats(-1e4, 1e4, allow_nan=False)
positive = st.floats(1e-3, 1e5, allow_nan=False)
small = st.floats(-1.0, 1.0, allow_nan=False)
number = st.one_of(finite, st.integers(-1000, 1000))


@st.composite
def camera_models(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["pinhole", "kannala_brandt", "ftheta"]))
    m: dict[str, Any] = {"type": kind}
    if kind != "ftheta":
        m["fx"], m["fy"] = draw(positive), draw(st.one_of(positive, st.integers(1, 5000)))
    m["cx"], m["cy"] = draw(number), draw(number)
    if kind == "pinhole":
        if draw(st.booleans()):
            m["distortion"] = draw(st.lists(small, min_size=5, max_size=5))
    elif kind == "kannala_brandt":
        m["k"] = draw(st.lists(small, min_size=4, max_size=4))
    else:
        m["poly"] = [draw(positive)] + draw(st.lists(finite, min_size=4, max_size=4))
    if kind != "pinhole":
        m["fov_deg"] = draw(st.floats(0.5, 359.5))
    return m


@st.composite
def cameras(draw: st.DrawFn, name: str) -> dict[str, Any]:
    fmt = draw(st.sampled_from(["rgb8", "bgr8", "nv12", "yuyv", "bayer_rggb8", "bayer_rggb12p", "my_plugin_fmt"]))
    even_w = fmt in ("nv12", "yuyv") or fmt.startswith("bayer_")
    even_h = fmt == "nv12" or fmt.startswith("bayer_")
    w = draw(st.integers(1, 4096)) * (2 if even_w else 1)
    h = draw(st.integers(1, 4096)) * (2 if even_h else 1)
    c: dict[str, Any] = {"name": name, "width": w, "height": h, "pixel_format": fmt,
                         "fps": draw(st.one_of(positive, st.integers(1, 240))), "model": draw(camera_models()),
                         "extrinsics": {"translation_m": draw(st.lists(st.floats(-50, 50), min_size=3, max_size=3)),
                                        "rotation_rpy_rad": draw(st.lists(st.floats(-6.28, 6.28), min_size=3, max_size=3))}}
    color = draw(st.fixed_dictionaries({}, optional={"matrix": st.sampled_from(["bt601", "bt709"]),
                                                     "range": st.sampled_from(["full", "limited"])}))
    explicit_empty = draw(st.booleans())
    if color or explicit_empty:
        c["color"] = color
    return c


@st.composite
def rigs(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.from_regex(r"[A-Za-z0-9_]{1,31}", fullmatch=True), min_size=1, max_size=8, unique=True))
    d: dict[str, Any] = {"name": draw(st.text(min_size=1, max_size=40)), "cameras": [draw(cameras(n)) for n in names]}
    if draw(st.booleans()):
        d["normalization"] = {"mean": draw(st.lists(st.floats(0, 1), min_size=3, max_size=3)),
                              "std": draw(st.lists(st.floats(1e-6, 1), min_size=3, max_size=3))}
    return d


@PROPS
@given(rigs())
def test_random_valid_rigs_round_trip(d: dict[str, Any]) -> None:
    rig = Rig.from_dict(d)
    out = rig.to_dict()
    assert Rig.from_dict(out) == rig
    assert Rig.from_dict(json.loads(json.dumps(out))) == rig
    assert json.loads(json.dumps(out)) == out
    assert [c.name for c in rig.cameras] == [c["name"] for c in d["cameras"]]
    for cd, cam, co in zip(d["cameras"], rig.cameras, out["cameras"]):
        assert (cam.width, cam.height, cam.pixel_format) == (cd["width"], cd["height"], cd["pixel_format"])
        yuv = cd["pixel_format"] in ("nv12", "yuyv")
        color = cd.get("color", {})
        assert cam.color_matrix == color.get("matrix", "bt709" if yuv else "bt601")
        assert cam.color_range == color.get("range", "limited" if yuv else "full")
        assert co["model"]["type"] == cd["model"]["type"]
        for key, value in cd["model"].items():  # every given value survives, defaults are written out
            assert co["model"][key] == value
        assert_rotation(cam.extrinsics.R_vehicle_from_optical)


# --------------------------------------------------------------------------------------------------------------
# Defaults and lookups
# --------------------------------------------------------------------------------------------------------------


def base() -> dict[str, Any]:
    d: dict[str, Any] = json.loads((RIGS / "nuscenes_like_6cam.json").read_text())
    return d


def test_defaults() -> None:
    d = base()
    for c in d["cameras"]:
        del c["color"]
        del c["model"]["distortion"]
    d["cameras"][1]["pixel_format"] = "rgb8"
    d["cameras"][2]["pixel_format"] = "bayer_rggb8"
    d["cameras"][3]["color"] = {"range": "full"}
    d["cameras"][4]["color"] = {"matrix": "bt601"}
    rig = Rig.from_dict(d)
    assert rig.normalization is None and "normalization" not in rig.to_dict()
    got = [(c.color_matrix, c.color_range) for c in rig.cameras]
    assert got == [("bt709", "limited"), ("bt601", "full"), ("bt601", "full"), ("bt709", "full"),
                   ("bt601", "limited"), ("bt709", "limited")]
    assert all(c.model.coeffs == (0.0,) * 5 and c.model.fov_deg is None for c in rig.cameras)
    assert rig.to_dict()["cameras"][0]["model"]["distortion"] == [0.0] * 5


def test_ints_become_floats_and_tuples_are_accepted() -> None:
    d = base()
    d["cameras"][0]["model"]["fx"] = 1266
    d["cameras"][0]["extrinsics"]["translation_m"] = (1, 0, 2)
    cam = Rig.from_dict(d).cameras[0]
    assert cam.model.fx == 1266.0 and isinstance(cam.model.fx, float)
    assert cam.extrinsics.translation_m == (1.0, 0.0, 2.0)
    assert all(isinstance(v, float) for v in cam.extrinsics.translation_m)


def test_camera_lookup() -> None:
    rig = Rig.from_dict(base())
    assert rig.camera("back").extrinsics.rotation_rpy_rad[2] == pytest.approx(math.pi, abs=1e-4)
    with pytest.raises(InvalidArgumentError, match="no camera 'rear'"):
        rig.camera("rear")


def test_rig_error_is_a_wayvert_value_error() -> None:
    assert issubclass(RigError, WayvertError) and issubclass(RigError, ValueError)


def test_rigs_are_frozen() -> None:
    rig = Rig.from_dict(base())
    with pytest.raises(AttributeError):
        rig.cameras[0].width = 3  # type: ignore[misc]
    hash(rig)


# --------------------------------------------------------------------------------------------------------------
# Bad rigs: every kind of mistake names the JSON path of the bad field
# --------------------------------------------------------------------------------------------------------------


def setter(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def f(d: dict[str, Any]) -> None:
        obj: Any = d
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value
    return f


def deleter(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def f(d: dict[str, Any]) -> None:
        obj: Any = d
        for k in path[:-1]:
            obj = obj[k]
        del obj[path[-1]]
    return f


def fisheye(d: dict[str, Any]) -> None:
    d["cameras"][1]["model"] = {"type": "kannala_brandt", "fx": 300.0, "fy": 300.0, "cx": 800.0, "cy": 450.0,
                                "k": [0.0, 0.0, 0.0, 0.0], "fov_deg": 190}


def ftheta(d: dict[str, Any]) -> None:
    d["cameras"][2]["model"] = {"type": "ftheta", "cx": 800.0, "cy": 450.0, "poly": [900.0, 0, 0, 0, 0], "fov_deg": 120}


def chain(*fs: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def f(d: dict[str, Any]) -> None:
        for g in fs:
            g(d)
    return f


C = "cameras"
BAD: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    # missing fields
    ("missing name", deleter(["name"]), "name: missing"),
    ("missing cameras", deleter(["cameras"]), "cameras: missing"),
    ("missing width", deleter([C, 2, "width"]), "cameras[2].width: missing"),
    ("missing model", deleter([C, 0, "model"]), "cameras[0].model: missing"),
    ("missing fy", deleter([C, 0, "model", "fy"]), "cameras[0].model.fy: missing (required for a pinhole model)"),
    ("missing model type", deleter([C, 3, "model", "type"]), "cameras[3].model.type: missing"),
    ("missing fov", chain(fisheye, deleter([C, 1, "model", "fov_deg"])), "cameras[1].model.fov_deg: missing"),
    ("missing k", chain(fisheye, deleter([C, 1, "model", "k"])), "cameras[1].model.k: missing"),
    ("missing poly", chain(ftheta, deleter([C, 2, "model", "poly"])), "cameras[2].model.poly: missing"),
    ("missing translation", deleter([C, 5, "extrinsics", "translation_m"]), "cameras[5].extrinsics.translation_m: missing"),
    ("missing std", setter(["normalization"], {"mean": [0.5, 0.5, 0.5]}), "normalization.std: missing"),
    # wrong types
    ("top level list", lambda d: d.clear(), "name: missing"),
    ("name number", setter(["name"], 3), "name: must be a non-empty string, got 3"),
    ("empty name", setter(["name"], ""), 'name: must be a non-empty string, got ""'),
    ("cameras object", setter([C], {"front": {}}), "cameras: must be a non-empty list"),
    ("no cameras", setter([C], []), "cameras: must be a non-empty list of cameras, got []"),
    ("camera not object", setter([C, 4], "front"), 'cameras[4]: must be a JSON object, got "front"'),
    ("width string", setter([C, 1, "width"], "1600"), 'cameras[1].width: must be an integer in 1..65535, got "1600"'),
    ("width float", setter([C, 1, "width"], 1600.0), "cameras[1].width: must be an integer in 1..65535, got 1600.0"),
    ("width bool", setter([C, 1, "width"], True), "cameras[1].width: must be an integer in 1..65535, got true"),
    ("height zero", setter([C, 1, "height"], 0), "cameras[1].height: must be an integer in 1..65535, got 0"),
    ("height huge", setter([C, 1, "height"], 70000), "cameras[1].height: must be an integer"),
    ("fx string", setter([C, 0, "model", "fx"], "1266"), 'cameras[0].model.fx: must be a number > 0, got "1266"'),
    ("fx null", setter([C, 0, "model", "fx"], None), "cameras[0].model.fx: must be a number > 0, got null"),
    ("cx bool", setter([C, 0, "model", "cx"], False), "cameras[0].model.cx: must be a finite number, got false"),
    ("fps nan", setter([C, 3, "fps"], float("nan")), "cameras[3].fps: must be a number > 0, got NaN"),
    ("fps inf", setter([C, 3, "fps"], float("inf")), "cameras[3].fps: must be a number > 0, got Infinity"),
    ("model string", setter([C, 0, "model"], "pinhole"), 'cameras[0].model: must be a JSON object, got "pinhole"'),
    ("distortion short", setter([C, 0, "model", "distortion"], [0.1, 0.2, 0, 0]),
     "cameras[0].model.distortion: must be a list of 5 numbers [k1, k2, p1, p2, k3], got [0.1, 0.2, 0, 0]"),
    ("distortion element", setter([C, 0, "model", "distortion", 3], "x"), "cameras[0].model.distortion[3]: must be a finite number"),
    ("k long", chain(fisheye, setter([C, 1, "model", "k"], [0.0] * 5)), "cameras[1].model.k: must be a list of 4 numbers"),
    ("translation scalar", setter([C, 2, "extrinsics", "translation_m"], 1.5),
     "cameras[2].extrinsics.translation_m: must be a list of 3 numbers [x, y, z] (metres), got 1.5"),
    ("rotation element", setter([C, 2, "extrinsics", "rotation_rpy_rad", 1], "0.1"),
     "cameras[2].extrinsics.rotation_rpy_rad[1]: must be a number in"),
    ("pixel format number", setter([C, 0, "pixel_format"], 12), "cameras[0].pixel_format: must be a string of 1..31"),
    ("pixel format spaces", setter([C, 0, "pixel_format"], "rgb 8"), "cameras[0].pixel_format: must be a string of 1..31"),
    ("color string", setter([C, 0, "color"], "bt709"), 'cameras[0].color: must be a JSON object, got "bt709"'),
    ("color matrix", setter([C, 0, "color", "matrix"], "bt2020"),
     'cameras[0].color.matrix: must be one of "bt601", "bt709", got "bt2020"'),
    ("color range", setter([C, 0, "color", "range"], "tv"), 'cameras[0].color.range: must be one of "full", "limited", got "tv"'),
    # out of range values
    ("negative focal", setter([C, 2, "model", "fx"], -3), "cameras[2].model.fx: must be a number > 0, got -3"),
    ("zero focal", setter([C, 2, "model", "fy"], 0), "cameras[2].model.fy: must be a number > 0, got 0"),
    ("negative fisheye focal", chain(fisheye, setter([C, 1, "model", "fx"], -300.0)), "cameras[1].model.fx: must be a number > 0"),
    ("zero fps", setter([C, 3, "fps"], 0), "cameras[3].fps: must be a number > 0, got 0"),
    ("fov 360", chain(fisheye, setter([C, 1, "model", "fov_deg"], 360)),
     "cameras[1].model.fov_deg: must be a number in (0, 360) (degrees), got 360"),
    ("fov 0", chain(ftheta, setter([C, 2, "model", "fov_deg"], 0)), "cameras[2].model.fov_deg: must be a number in (0, 360)"),
    ("ftheta a1", chain(ftheta, setter([C, 2, "model", "poly", 0], 0.0)), "cameras[2].model.poly[0]: a1 (pixels per radian"),
    ("degrees for radians", setter([C, 3, "extrinsics", "rotation_rpy_rad", 2], 180),
     "cameras[3].extrinsics.rotation_rpy_rad[2]: must be a number in [-6.28319, 6.28319] (radians), got 180"),
    ("millimetres for metres", setter([C, 0, "extrinsics", "translation_m", 0], 1700),
     "cameras[0].extrinsics.translation_m[0]: must be a number in [-50, 50] (metres), got 1700"),
    ("normalization 0..255", setter(["normalization"], {"mean": [123.675, 116.28, 103.53], "std": [0.2, 0.2, 0.2]}),
     "normalization.mean[0]: must be a number in [0, 1] (RGB in [0, 1], not 0..255), got 123.675"),
    ("normalization zero std", setter(["normalization"], {"mean": [0.5] * 3, "std": [0.2, 0.0, 0.2]}),
     "normalization.std[1]: must be a number in (0, 1]"),
    ("normalization list", setter(["normalization"], [0.5, 0.2]), "normalization: must be a JSON object"),
    # unknown model type
    ("unknown model type", setter([C, 0, "model", "type"], "fisheye"),
     'cameras[0].model.type: must be one of "pinhole", "kannala_brandt", "ftheta", got "fisheye"'),
    ("model type case", setter([C, 0, "model", "type"], "Pinhole"), "cameras[0].model.type: must be one of"),
    # unknown keys
    ("unknown top key", setter(["version"], 1), "version: unknown key"),
    ("typo in camera", setter([C, 4, "pixelformat"], "nv12"), 'cameras[4].pixelformat: unknown key (did you mean "pixel_format"?'),
    ("typo in model", chain(setter([C, 0, "model", "distorsion"], [0.0] * 5), deleter([C, 0, "model", "distortion"])),
     'cameras[0].model.distorsion: unknown key (did you mean "distortion"? allowed for a pinhole model: '
     "cx, cy, distortion, fx, fy, type)"),
    ("fov on pinhole", setter([C, 0, "model", "fov_deg"], 70), "cameras[0].model.fov_deg: unknown key"),
    ("fx on ftheta", chain(ftheta, setter([C, 2, "model", "fx"], 900.0)), "cameras[2].model.fx: unknown key"),
    ("distortion on fisheye", chain(fisheye, setter([C, 1, "model", "distortion"], [0.0] * 5)),
     "cameras[1].model.distortion: unknown key"),
    ("unknown extrinsics key", setter([C, 5, "extrinsics", "rotation_quat"], [1, 0, 0, 0]),
     "cameras[5].extrinsics.rotation_quat: unknown key"),
    ("unknown color key", setter([C, 1, "color", "gamma"], 2.2), "cameras[1].color.gamma: unknown key"),
    ("unknown normalization key", setter(["normalization"], {"mean": [0.5] * 3, "std": [0.2] * 3, "scale": 1}),
     "normalization.scale: unknown key"),
    # names
    ("duplicate camera name", setter([C, 3, "name"], "front"), 'cameras[3].name: duplicate camera name "front" (also cameras[0].name)'),
    ("camera name with dash", setter([C, 1, "name"], "front-left"), 'cameras[1].name: must be a string of 1..31 characters from [A-Za-z0-9_], got "front-left"'),
    ("camera name too long", setter([C, 1, "name"], "c" * 32), "cameras[1].name: must be a string of 1..31"),
    ("camera name empty", setter([C, 1, "name"], ""), "cameras[1].name: must be a string of 1..31"),
    # size rules of pixel formats
    ("odd width nv12", setter([C, 0, "width"], 1599), "cameras[0].width: nv12 needs an even width, got 1599"),
    ("odd height nv12", setter([C, 0, "height"], 901), "cameras[0].height: nv12 needs an even height, got 901"),
    ("odd width yuyv", chain(setter([C, 2, "pixel_format"], "yuyv"), setter([C, 2, "width"], 1601)),
     "cameras[2].width: yuyv needs an even width, got 1601"),
    ("odd height bayer", chain(setter([C, 4, "pixel_format"], "bayer_rggb8"), setter([C, 4, "height"], 899)),
     "cameras[4].height: bayer_rggb8 needs an even height, got 899"),
    ("odd width plugin bayer", chain(setter([C, 4, "pixel_format"], "bayer_rggb12p"), setter([C, 4, "width"], 1599)),
     "cameras[4].width: bayer_rggb12p needs an even width, got 1599"),
]


@pytest.mark.parametrize("mutate, expected", [pytest.param(m, e, id=i) for i, m, e in BAD])
def test_bad_rig_names_the_field(mutate: Callable[[dict[str, Any]], None], expected: str) -> None:
    d = base()
    d["normalization"] = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
    Rig.from_dict(copy.deepcopy(d))  # the base is valid
    mutate(d)
    with pytest.raises(RigError) as err:
        Rig.from_dict(d)
    assert str(err.value).startswith(expected), str(err.value)


def test_allowed_odd_sizes() -> None:
    d = base()
    for i, fmt in enumerate(["rgb8", "bgr8", "yuyv", "my_plugin_fmt"]):
        d["cameras"][i].update(pixel_format=fmt, width=1601 if fmt != "yuyv" else 1600, height=901)
    Rig.from_dict(d)


@pytest.mark.parametrize("top", [[1, 2], "rig", None, 3])
def test_top_level_must_be_an_object(top: Any) -> None:
    with pytest.raises(RigError, match=r"^\(top level\): must be a JSON object"):
        Rig.from_dict(top)


# --------------------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "nope.json"
    with pytest.raises(RigError, match=re.escape(f"{p}: cannot read rig file: No such file or directory")):
        Rig.load(p)
    with pytest.raises(RigError, match="cannot read rig file"):
        Rig.load(tmp_path)  # a directory


def test_bad_json_names_file_and_line(tmp_path: Path) -> None:
    text = (RIGS / "fisheye_dashcam.json").read_text().splitlines()
    line = next(i for i, t in enumerate(text) if '"fps"' in t)
    text[line] = text[line].rstrip(",")  # drop a comma
    p = tmp_path / "bad.json"
    p.write_text("\n".join(text))
    with pytest.raises(RigError) as err:
        Rig.load(p)
    msg = str(err.value)
    assert msg.startswith(f"{p}: line {line + 2}, column ") and "invalid JSON: Expecting ',' delimiter" in msg, msg
    p.write_text("")
    with pytest.raises(RigError, match=re.escape(f"{p}: line 1, column 1: invalid JSON")):
        Rig.load(str(p))


def test_duplicate_json_key(tmp_path: Path) -> None:
    p = tmp_path / "dup.json"
    p.write_text((RIGS / "fisheye_dashcam.json").read_text().replace('"fx": 372.5,', '"fx": 372.5, "fx": 10,'))
    with pytest.raises(RigError, match=re.escape(f'{p}: invalid rig: key "fx" appears twice in one object')):
        Rig.load(p)


def test_not_utf8(tmp_path: Path) -> None:
    p = tmp_path / "latin1.json"
    p.write_bytes(b'{\n"name": "caf\xe9",\n"cameras": []}')
    with pytest.raises(RigError, match=re.escape(f"{p}: line 2: not UTF-8 text")):
        Rig.load(p)


def test_bad_field_in_file_names_file_and_path(tmp_path: Path) -> None:
    d = base()
    d["cameras"][2]["model"]["fx"] = -3
    p = tmp_path / "car.json"
    p.write_text(json.dumps(d))
    with pytest.raises(RigError, match=re.escape(f"{p}: cameras[2].model.fx: must be a number > 0, got -3")):
        Rig.load(p)


# --------------------------------------------------------------------------------------------------------------
# The document stays true
# --------------------------------------------------------------------------------------------------------------


def test_doc_example_is_a_valid_rig() -> None:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 1
    rig = Rig.from_dict(json.loads(blocks[0]))
    front, rear = rig.cameras
    assert (front.color_matrix, front.color_range) == ("bt709", "limited")
    assert (rear.color_matrix, rear.color_range) == ("bt601", "limited")
    ax = optical_axis(rear)
    assert ax[0] < -0.8 and ax[2] < -0.3  # looks back and down


def test_doc_error_table_matches_the_messages(tmp_path: Path) -> None:
    doc = DOC.read_text()
    cases: list[Callable[[dict[str, Any]], None]] = [
        deleter([C, 0, "model", "fy"]),
        setter([C, 1, "width"], "1600"),
        setter([C, 2, "model", "fx"], -3),
        setter([C, 0, "model", "type"], "fisheye"),
        chain(setter([C, 0, "model", "distorsion"], [0.0] * 5), deleter([C, 0, "model", "distortion"])),
        chain(fisheye, setter([C, 1, "model", "k"], [0.1, 0.2])),
        setter([C, 3, "name"], "front"),
        setter([C, 0, "width"], 1599),
        setter([C, 0, "extrinsics", "rotation_rpy_rad", 2], 180),
    ]
    for mutate in cases:
        d = base()
        mutate(d)
        with pytest.raises(RigError) as err:
            Rig.from_dict(d)
        assert f"`{err.value}`" in doc, str(err.value)
    with pytest.raises(RigError) as err:
        Rig.from_dict([1, 2])  # type: ignore[arg-type]
    assert f"`{err.value}`" in doc
