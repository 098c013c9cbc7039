"""Camera models in numpy (wayvert/sensors/camera_models.py): round trips, the valid domain, closed forms.

The cameras are the realistic ones of cpp/tests/test_camera_model.cpp (pinhole 1600x900, fisheye 1280x720 with a
190 deg field of view, f-theta 1920x1208 with 120 deg); hypothesis perturbs their parameters and draws pixels and
rays. Validity of fisheye / f-theta pixels is checked against the closed form (image radius against the
polynomial at the edge of the domain), away from a 1e-9 band around the rim.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wayvert.errors import InvalidArgumentError
from wayvert.sensors import camera_models as cm

F64 = npt.NDArray[np.float64]

# WV_PROPERTY_EXAMPLES=2000 for a longer search than the default run's.
PROPS = settings(max_examples=int(os.environ.get("WV_PROPERTY_EXAMPLES", "100")), deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Params:
    type: str
    fx: float | None
    fy: float | None
    cx: float
    cy: float
    coeffs: tuple[float, ...]
    fov_deg: float | None
    width: int = 0
    height: int = 0


PINHOLE = Params("pinhole", 1260.0, 1258.5, 799.5, 449.5, (-0.05, 0.01, 0.0005, -0.0003, -0.001), None, 1600, 900)
FISHEYE = Params("kannala_brandt", 350.0, 349.6, 639.5, 359.5, (0.05, -0.01, 0.002, -0.0003), 190.0, 1280, 720)
FTHETA = Params("ftheta", None, None, 959.5, 603.5, (1000.0, 15.0, -25.0, 6.0, -0.8), 120.0, 1920, 1208)
CAMERAS = {"pinhole": PINHOLE, "kannala_brandt": FISHEYE, "ftheta": FTHETA}


def edge_radius(p: Params, d: cm.Domain) -> float:
    """Image radius at the edge of the domain (normalized for kannala_brandt, pixels for ftheta), test-side."""
    k = list(p.coeffs) + [0.0] * (5 - len(p.coeffs))
    t = d.limit
    if p.type == "kannala_brandt":
        return t * (1 + k[0] * t**2 + k[1] * t**4 + k[2] * t**6 + k[3] * t**8)
    return sum(k[i] * t ** (i + 1) for i in range(5))


def expected_validity(p: Params, uv: F64) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """(expected valid, decidable) per pixel for fisheye / f-theta; pinhole cameras here see the whole image."""
    if p.type == "pinhole":
        ones = np.ones(len(uv), dtype=bool)
        return ones, ones
    d = cm.domain(p)
    if p.type == "kannala_brandt":
        assert p.fx is not None and p.fy is not None
        rad = np.hypot((uv[:, 0] - p.cx) / p.fx, (uv[:, 1] - p.cy) / p.fy)
    else:
        rad = np.hypot(uv[:, 0] - p.cx, uv[:, 1] - p.cy)
    edge = edge_radius(p, d)
    return rad < edge, np.abs(rad - edge) > 1e-9 * edge


def check_pixel_round_trip(p: Params, uv: F64) -> None:
    rays, valid = cm.unproject(p, uv)
    want, decidable = expected_validity(p, uv)
    np.testing.assert_array_equal(valid[decidable], want[decidable])
    assert np.isnan(rays[~valid]).all()
    np.testing.assert_allclose(np.linalg.norm(rays[valid], axis=1), 1.0, rtol=0, atol=1e-12)
    back, bvalid = cm.project(p, rays[valid])
    assert bvalid.all()
    err = np.abs(back - uv[valid]).max(initial=0.0)
    assert err <= 1e-6, f"round trip error {err} px"


def angles_between(a: F64, b: F64) -> F64:
    cross = np.linalg.norm(np.cross(a, b), axis=1)
    out: F64 = np.arctan2(cross, np.sum(a * b, axis=1))
    return out


def rays_at(theta: F64, phi: F64, length: F64 | float = 1.0) -> F64:
    return np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], axis=1) * (
        np.asarray(length)[..., None] if np.ndim(length) else length)


# ---- dense grids ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CAMERAS))
def test_every_pixel_round_trips(name: str) -> None:
    p = CAMERAS[name]
    jj, ii = np.meshgrid(np.arange(p.width, dtype=np.float64), np.arange(p.height, dtype=np.float64))
    uv = np.stack([jj.ravel(), ii.ravel()], axis=1)
    check_pixel_round_trip(p, uv)
    _, valid = cm.unproject(p, uv)
    if name == "pinhole":
        assert valid.all()
    else:  # the field of view cuts the corners
        assert 0.8 < valid.mean() < 1.0


@pytest.mark.parametrize("name", list(CAMERAS))
def test_rays_over_the_field_of_view_round_trip(name: str) -> None:
    p = CAMERAS[name]
    d = cm.domain(p)
    theta, phi = np.meshgrid(np.linspace(0.0, d.max_angle_rad * (1 - 1e-6), 300), np.linspace(0, 2 * np.pi, 361))
    rays = rays_at(theta.ravel(), phi.ravel() + 1e-3, 2.5)
    uv, valid = cm.project(p, rays)
    assert valid.all()
    back, bvalid = cm.unproject(p, uv)
    assert bvalid.all()
    assert angles_between(rays, back).max() <= 1e-9
    # On the rim itself: still valid both ways, pixels consistent.
    rim = rays_at(np.full(360, d.max_angle_rad), np.linspace(0, 2 * np.pi, 360, endpoint=False))
    uv, valid = cm.project(p, rim)
    back, bvalid = cm.unproject(p, uv)
    assert valid.all() and bvalid.all()
    assert angles_between(rim, back).max() <= 1e-7
    again, _ = cm.project(p, back)
    assert np.abs(again - uv).max() <= 1e-6


def test_fisheye_sees_behind_90_degrees() -> None:
    t = math.radians(93.0)
    ray = np.array([[math.sin(t), 0.0, math.cos(t)]])
    uv, valid = cm.project(FISHEYE, ray)
    assert valid[0]
    k = FISHEYE.coeffs
    theta_d = t * (1 + k[0] * t**2 + k[1] * t**4 + k[2] * t**6 + k[3] * t**8)
    assert uv[0, 0] == pytest.approx(639.5 + 350.0 * theta_d, abs=1e-9)
    assert uv[0, 1] == pytest.approx(359.5, abs=1e-12)
    back, bvalid = cm.unproject(FISHEYE, uv)
    assert bvalid[0] and back[0, 2] < 0 and angles_between(ray, back)[0] < 1e-12


def test_ftheta_closed_form_and_ignores_fx() -> None:
    ray = np.array([[0.3, -0.2, 0.9]])
    uv, valid = cm.project(FTHETA, ray)
    rho = math.hypot(0.3, -0.2)
    t = math.atan2(rho, 0.9)
    r = sum(a * t ** (i + 1) for i, a in enumerate(FTHETA.coeffs))
    assert valid[0]
    assert uv[0] == pytest.approx([959.5 + r * 0.3 / rho, 603.5 - r * 0.2 / rho], abs=1e-9)
    uv2, _ = cm.project(replace(FTHETA, fx=123.0, fy=-4.0), ray)
    np.testing.assert_array_equal(uv, uv2)


# ---- closed forms --------------------------------------------------------------------------------------------


def test_pinhole_without_distortion_is_the_closed_form_exactly() -> None:
    p = Params("pinhole", 1000.0, 990.0, 640.0, 360.0, (0.0, 0.0, 0.0, 0.0, 0.0), None)
    a, b = np.meshgrid(np.arange(-20, 21), np.arange(-20, 21))
    rays = np.stack([0.037 * a.ravel(), 0.029 * b.ravel(), np.full(a.size, 1.3)], axis=1)
    uv, valid = cm.project(p, rays)
    assert valid.all()
    np.testing.assert_array_equal(uv[:, 0], 1000.0 * (rays[:, 0] / rays[:, 2]) + 640.0)
    np.testing.assert_array_equal(uv[:, 1], 990.0 * (rays[:, 1] / rays[:, 2]) + 360.0)
    pix = np.stack([640.0 + 31.0 * a.ravel(), 360.0 + 17.0 * b.ravel()], axis=1)
    back, bvalid = cm.unproject(p, pix)
    assert bvalid.all()
    xy1 = np.stack([(pix[:, 0] - 640.0) / 1000.0, (pix[:, 1] - 360.0) / 990.0, np.ones(len(pix))], axis=1)
    np.testing.assert_allclose(back, xy1 / np.linalg.norm(xy1, axis=1, keepdims=True), rtol=0, atol=1e-15)
    # Only the tan(89 deg) cap limits it.
    assert cm.domain(p).limit == pytest.approx(math.tan(math.radians(89.0)), rel=1e-15)


def test_fold_limits_match_closed_forms() -> None:
    # d(r (1 - 0.2 r^2))/dr = 1 - 0.6 r^2
    p = Params("pinhole", 500.0, 500.0, 320.0, 240.0, (-0.2,), None)
    rmax = math.sqrt(1 / 0.6)
    assert cm.domain(p).limit == pytest.approx(rmax, rel=1e-14)
    rd_max = rmax * (1 - 0.2 * rmax**2)
    pix = np.array([[320 + 500 * rd_max * 0.999, 240], [320 + 500 * rd_max * 1.001, 240],
                    [320, 240 + 500 * rd_max * 1.001]])
    _, valid = cm.unproject(p, pix)
    assert valid.tolist() == [True, False, False]
    _, valid = cm.project(p, np.array([[rmax * 0.999, 0, 1], [rmax * 1.001, 0, 1]]))
    assert valid.tolist() == [True, False]
    # k1 = -0.3, k2 = 0.02: 1 - 0.9 s + 0.1 s^2 first vanishes at s = (0.9 - sqrt(0.41)) / 0.2
    p2 = replace(p, coeffs=(-0.3, 0.02))
    assert cm.domain(p2).limit == pytest.approx(math.sqrt((0.9 - math.sqrt(0.41)) / 0.2), rel=1e-14)
    # Fisheye: theta_d' = 1 - 0.3 theta^2 vanishes before 220 deg / 2.
    kb = Params("kannala_brandt", 300.0, 300.0, 640.0, 480.0, (-0.1,), 220.0, 1280, 960)
    assert cm.domain(kb).limit == pytest.approx(math.sqrt(1 / 0.3), rel=1e-14)
    # f-theta: r' = 1000 - 800 theta vanishes at 1.25 rad < 90 deg.
    ft = Params("ftheta", None, None, 960.0, 640.0, (1000.0, -400.0), 180.0, 1920, 1280)
    assert cm.domain(ft).limit == pytest.approx(1.25, rel=1e-14)
    for q in (kb, ft):
        jj, ii = np.meshgrid(np.arange(0, q.width, 3.0), np.arange(0, q.height, 3.0))
        check_pixel_round_trip(q, np.stack([jj.ravel(), ii.ravel()], axis=1))


def test_tangential_distortion_keeps_the_map_one_to_one() -> None:
    p = Params("pinhole", 1260.0, 1258.5, 799.5, 449.5, (-0.05, 0.01, 0.0005, -0.0003, -0.001), None)
    d = cm.domain(p)
    # Rays up to (just inside) the rim come back to themselves: no two directions share a pixel.
    theta, phi = np.meshgrid(np.linspace(0.0, d.max_angle_rad * (1 - 1e-6), 200), np.linspace(0, 2 * np.pi, 720))
    rays = rays_at(theta.ravel(), phi.ravel())
    uv, _ = cm.project(p, rays)
    back, _ = cm.unproject(p, uv)
    assert angles_between(rays, back).max() <= 1e-9


# ---- invalid input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CAMERAS))
def test_rays_outside_the_field_of_view_are_invalid(name: str) -> None:
    p = CAMERAS[name]
    d = cm.domain(p)
    extra = np.array([1e-8, 1e-4, 0.05, 0.5])
    theta = np.minimum(d.max_angle_rad + extra, np.pi)
    t, ph = np.meshgrid(theta, np.linspace(0, 2 * np.pi, 16, endpoint=False))
    bad = np.concatenate([rays_at(t.ravel(), ph.ravel()),
                          np.array([[0, 0, 0], [np.nan, 0, 1], [0, np.inf, 1], [0, 0, -1.0]])])
    uv, valid = cm.project(p, bad)
    assert not valid.any()
    assert np.isnan(uv).all()
    if name == "pinhole":
        _, valid = cm.project(p, np.array([[0.1, 0.1, 0.0], [0.1, 0.1, -1.0]]))
        assert not valid.any()
    rays, valid = cm.unproject(p, np.array([[np.nan, 10.0], [10.0, np.inf], [-1e6, 300.0], [500.0, 1e7]]))
    assert not valid.any() and np.isnan(rays).all()
    # The optical axis and the principal point.
    uv, valid = cm.project(p, np.array([[0.0, 0.0, 2.5]]))
    assert valid[0] and uv[0].tolist() == [p.cx, p.cy]
    rays, valid = cm.unproject(p, np.array([[p.cx, p.cy]]))
    assert valid[0] and rays[0].tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("base, change, needle", [
    (PINHOLE, {"fx": 0.0}, "fx"), (PINHOLE, {"fx": -1.0}, "fx"), (PINHOLE, {"fx": math.nan}, "fx"),
    (PINHOLE, {"fx": None}, "fx"), (PINHOLE, {"fy": 0.0}, "fy"), (PINHOLE, {"cx": math.inf}, "cx"),
    (PINHOLE, {"cy": math.nan}, "cy"), (PINHOLE, {"coeffs": (0.0, 0.0, math.nan)}, "coeffs[2]"),
    (PINHOLE, {"coeffs": (0.0,) * 6}, "coeffs"), (PINHOLE, {"type": "fisheye"}, "type"),
    (FISHEYE, {"fov_deg": 0.0}, "fov_deg"), (FISHEYE, {"fov_deg": 360.0}, "fov_deg"),
    (FISHEYE, {"fov_deg": math.nan}, "fov_deg"), (FISHEYE, {"fov_deg": None}, "fov_deg"),
    (FISHEYE, {"fx": 0.0}, "fx"), (FISHEYE, {"coeffs": (0.05, 0.0, 0.0, 0.0, 0.1)}, "coeffs[4]"),
    (FTHETA, {"coeffs": (0.0, 1.0)}, "increasing at 0"), (FTHETA, {"coeffs": (-1000.0,)}, "a1"),
    (FTHETA, {"fov_deg": 400.0}, "fov_deg"), (FTHETA, {"cx": math.nan}, "cx"),
])
def test_bad_parameters_are_refused(base: Params, change: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidArgumentError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        cm.domain(replace(base, **change))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        cm.project(replace(base, **change), np.zeros((1, 3)))  # type: ignore[arg-type]


def test_shapes_and_ignored_fields() -> None:
    with pytest.raises(InvalidArgumentError):
        cm.project(PINHOLE, np.zeros((4, 2)))
    with pytest.raises(InvalidArgumentError):
        cm.unproject(PINHOLE, np.zeros(2))
    uv, valid = cm.project(PINHOLE, np.zeros((0, 3)))
    assert uv.shape == (0, 2) and valid.shape == (0,)
    # Pinhole ignores fov_deg, f-theta fx / fy (None in rig files).
    assert cm.domain(replace(PINHOLE, fov_deg=math.nan)).limit == cm.domain(PINHOLE).limit
    cm.domain(replace(FTHETA, fx=None, fy=None))
    # A precomputed Domain can stand in for the params.
    d = cm.domain(FISHEYE)
    rays = rays_at(np.array([0.3, 1.0]), np.array([0.2, 2.0]))
    np.testing.assert_array_equal(cm.project(d, rays)[0], cm.project(FISHEYE, rays)[0])


# ---- hypothesis: parameter perturbations, pixels, rays -------------------------------------------------------


@st.composite
def perturbed(draw: st.DrawFn, name: str) -> Params:
    p = CAMERAS[name]
    f = st.floats
    cx = p.cx + draw(f(-20.0, 20.0))
    cy = p.cy + draw(f(-20.0, 20.0))
    if name == "pinhole":
        # Within these ranges the whole 1600 x 900 image is inside the domain.
        fx = draw(f(1100.0, 2000.0))
        coeffs: tuple[float, ...] = (draw(f(-0.1, 0.05)), draw(f(-0.02, 0.02)), draw(f(-1e-3, 1e-3)),
                                     draw(f(-1e-3, 1e-3)), draw(f(-2e-3, 2e-3)))
        return replace(p, fx=fx, fy=fx * draw(f(0.98, 1.02)), cx=cx, cy=cy, coeffs=coeffs)
    if name == "kannala_brandt":
        fx = draw(f(250.0, 450.0))
        k = p.coeffs
        coeffs = tuple(c * draw(f(0.5, 1.5)) for c in k)
        return replace(p, fx=fx, fy=fx * draw(f(0.98, 1.02)), cx=cx, cy=cy, coeffs=coeffs,
                       fov_deg=draw(f(120.0, 220.0)))
    coeffs = (draw(f(800.0, 1200.0)),) + tuple(c * draw(f(0.0, 1.5)) for c in p.coeffs[1:])
    return replace(p, cx=cx, cy=cy, coeffs=coeffs, fov_deg=draw(f(60.0, 200.0)))


def pixels(p: Params) -> st.SearchStrategy[list[tuple[float, float]]]:
    return st.lists(st.tuples(st.floats(-0.5, p.width - 0.5), st.floats(-0.5, p.height - 0.5)),
                    min_size=1, max_size=64)


@pytest.mark.parametrize("name", list(CAMERAS))
@PROPS
@given(data=st.data())
def test_pixel_round_trip_property(name: str, data: st.DataObject) -> None:
    p = data.draw(perturbed(name))
    uv = np.array(data.draw(pixels(p)), dtype=np.float64)
    check_pixel_round_trip(p, uv)


@pytest.mark.parametrize("name", list(CAMERAS))
@PROPS
@given(data=st.data())
def test_ray_round_trip_property(name: str, data: st.DataObject) -> None:
    p = data.draw(perturbed(name))
    d = cm.domain(p)
    n = data.draw(st.integers(1, 32))
    theta = np.array(data.draw(st.lists(st.floats(0.0, d.max_angle_rad * (1 - 1e-6)), min_size=n, max_size=n)))
    phi = np.array(data.draw(st.lists(st.floats(0.0, 2 * math.pi), min_size=n, max_size=n)))
    length = np.array(data.draw(st.lists(st.floats(1e-3, 1e3), min_size=n, max_size=n)))
    rays = rays_at(theta, phi, length)
    uv, valid = cm.project(p, rays)
    assert valid.all()
    back, bvalid = cm.unproject(p, uv)
    assert bvalid.all()
    assert angles_between(rays, back).max() <= 1e-9
    again, _ = cm.project(p, back)
    # 1e-6 px, or rounding for pixels far outside any image (a pinhole near its 89 deg cap: ~1e11 px).
    assert (np.abs(again - uv) <= 1e-6 + 1e-14 * np.abs(uv - [p.cx, p.cy])).all()


@pytest.mark.parametrize("name", list(CAMERAS))
@PROPS
@given(data=st.data())
def test_rays_beyond_the_domain_property(name: str, data: st.DataObject) -> None:
    p = data.draw(perturbed(name))
    d = cm.domain(p)
    lo = d.max_angle_rad * (1 + 1e-9) + 1e-12
    if lo >= math.pi:
        return
    theta = np.array(data.draw(st.lists(st.floats(lo, math.pi), min_size=1, max_size=16)))
    phi = np.array(data.draw(st.lists(st.floats(0.0, 2 * math.pi), min_size=len(theta), max_size=len(theta))))
    uv, valid = cm.project(p, rays_at(theta, phi))
    assert not valid.any() and np.isnan(uv).all()
