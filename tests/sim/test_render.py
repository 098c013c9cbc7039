"""Tests for the numpy scene renderer (wayvert/sim/render.py)."""
import numpy as np
import pytest

from wayvert.sensors import shipped_rig
from wayvert.sensors.adapter import FRAME_SHAPES

from wayvert.sim.render import Renderer
from wayvert.sim.scene import Scene, straight_road

RIGS = ["canonical_3cam", "nuscenes_like_6cam", "fisheye_dashcam", "high_pitched_2cam", "ftheta_bayer_front"]
_CACHE = {}


def renderer(name):
    if name not in _CACHE:
        _CACHE[name] = Renderer(shipped_rig(name))
    return _CACHE[name]


def road(**kw):
    return straight_road(**kw)


@pytest.mark.parametrize("name", RIGS)
def test_shapes_dtypes_and_determinism(name):
    rig = shipped_rig(name)
    sc = road(vehicles=[(20.0, 0.0, 0.0, 4.5, 1.9, 1.5)])
    a = renderer(name).render(sc)
    b = Renderer(rig).render(sc)
    assert set(a) == {c.name for c in rig.cameras}
    for c in rig.cameras:
        f = a[c.name]
        assert f.dtype == np.uint8
        assert f.shape == FRAME_SHAPES[c.pixel_format](c.width, c.height)
        assert f.tobytes() == b[c.name].tobytes()
        assert f.std() > 1.0  # not a flat image


def test_from_dict_roundtrip():
    sc = Scene.from_dict({"lane_markings": [[[[0, 1.75], [50, 1.75]], "dashed"], {"points": [[0, -1.75], [50, -1.75]]}],
                          "road_edges": [[[0, 3], [50, 3]]], "vehicles": [[20, 0, 0, 4.5, 1.9, 1.5]],
                          "ego": [1.0, 2.0, 0.1], "weather": "rain", "lighting": "dusk"})
    assert sc.lane_markings[0][1] == "dashed" and sc.lane_markings[1][1] == "solid"
    assert sc.lane_markings[0][0].shape == (2, 2) and sc.ego == (1.0, 2.0, 0.1)
    with pytest.raises(ValueError):
        Scene(weather="snow")


def test_lane_markings_symmetric_and_below_horizon():
    rig = shipped_rig("canonical_3cam")
    cam = rig.camera("front")
    xs = np.arange(-20.0, 120.0, 2.0)
    sc = Scene(lane_markings=[(np.stack([xs, np.full_like(xs, y)], 1), "solid") for y in (1.75, -1.75)])
    img = renderer("canonical_3cam").render(sc)["front"].astype(int)
    white = (img.min(axis=2) > 200)
    rows, cols = np.nonzero(white)
    assert len(rows) > 50
    horizon = cam.model.cy
    assert rows.min() > horizon
    cx = cam.model.cx
    for r in np.unique(rows)[::4]:
        cs = cols[rows == r]
        left, right = cs[cs < cx], cs[cs > cx]
        if len(left) and len(right):
            assert abs((cx - left.mean()) - (right.mean() - cx)) <= 3.0


def test_vehicle_ahead_in_front_centre_not_in_rear():
    base = road()
    car = road(vehicles=[(20.0, 0.0, 0.0, 4.5, 1.9, 1.5)])
    r = renderer("canonical_3cam")
    a, b = r.render(base)["front"], r.render(car)["front"]
    diff = np.abs(a.astype(int) - b.astype(int)).sum(-1) > 0
    _, cols = np.nonzero(diff)
    assert len(cols) > 20
    W = a.shape[1]
    assert abs(np.median(cols) - (W - 1) / 2) < W * 0.05
    assert cols.min() > W * 0.3 and cols.max() < W * 0.7
    rn = renderer("nuscenes_like_6cam")
    fa, fb = rn.render(base), rn.render(car)
    assert not np.array_equal(fa["front"], fb["front"])
    assert np.array_equal(fa["back"], fb["back"])


def test_rain_and_dusk_are_darker():
    r = renderer("canonical_3cam")
    dry = np.mean([f.mean() for f in r.render(road()).values()])
    rain = np.mean([f.mean() for f in r.render(road(weather="rain")).values()])
    dusk = np.mean([f.mean() for f in r.render(road(lighting="dusk")).values()])
    assert rain < dry and dusk < dry


def test_frames_through_sensor_adapter_full_coverage():
    import wayvert
    rig = shipped_rig("nuscenes_like_6cam")
    frames = renderer("nuscenes_like_6cam").render(road(vehicles=[(20.0, 0.0, 0.0, 4.5, 1.9, 1.5)]))
    ad = wayvert.SensorAdapter(rig, shipped_rig("canonical_3cam"))
    tensor, mask = ad.convert(frames)
    assert tensor.dtype == np.int8 and tensor.shape[0] == 3
    assert mask.all()
    assert tensor.std() > 1.0
