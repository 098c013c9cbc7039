"""Run-time repair: each mode slowed down along its own path, offered to the verifier after every original."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from wayvert import EgoState, Reason, Verifier, schema
from wayvert.control.repair import REPAIR_DECEL_MPS2, gentle_stop_profile, with_slowed_variants

TIMES = np.concatenate([[0.0], schema.waypoint_times()])


def mode(speed: float, curvature: float = 0.0, accel: float = 0.0) -> np.ndarray:
    """[1 + T, 5] points along an arc of constant curvature at a constant acceleration from ``speed``."""
    v = np.maximum(speed + accel * TIMES, 0.0)
    s = np.concatenate([[0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * np.diff(TIMES))])
    h = curvature * s
    if abs(curvature) < 1e-9:
        x, y = s, np.zeros_like(s)
    else:
        x, y = np.sin(h) / curvature, (1 - np.cos(h)) / curvature
    return np.stack([TIMES, x, y, h, v], 1)


def _distance_to_polyline(p: np.ndarray, line: np.ndarray) -> float:
    a, b = line[:-1], line[1:]
    ab = b - a
    t = np.clip(((p - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-12), 0, 1)
    return float(np.min(np.hypot(*(a + t[:, None] * ab - p).T)))


def test_variants_follow_their_modes_paths_slower_and_score_below_every_original() -> None:
    cand = np.stack([mode(12.0), mode(12.0, 0.02), mode(12.0, -0.01, 1.0)])
    scores = np.array([0.3, 2.0, -1.0])
    out, out_scores = with_slowed_variants(cand, scores, 12.0, 0.5)
    assert out.shape == (6, len(TIMES), 5)
    np.testing.assert_array_equal(out[:3], cand)                         # the originals untouched
    np.testing.assert_array_equal(out_scores[:3], scores)
    assert out_scores[3:].max() < scores.min()                            # after every original ...
    assert list(np.argsort(-out_scores[3:])) == list(np.argsort(-scores))  # ... in the originals' order
    v, _ = gentle_stop_profile(TIMES, 12.0, 0.5)
    for i in range(3):
        slowed = out[3 + i]
        np.testing.assert_array_equal(slowed[:, 0], cand[i, :, 0])
        np.testing.assert_allclose(slowed[:, 4], v)
        assert slowed[0, 1] == 0.0 and slowed[0, 2] == 0.0
        assert np.all(np.diff(slowed[:, 4]) <= 1e-12) and slowed[-1, 4] < 12.0 - 0.5 * REPAIR_DECEL_MPS2 * 3
        for p in slowed[:, 1:3]:                                          # on the original path
            assert _distance_to_polyline(p, cand[i, :, 1:3]) < 0.02


def test_a_mode_too_fast_for_its_lead_is_driven_slowed_instead_of_the_fallback() -> None:
    # Ego at 15 m/s, 44 m behind a car doing 9 m/s: holding 15 m/s closes the gap under the following rule within
    # the 4 s; the same path slowed by 2 m/s² keeps it, so the verifier drives the slowed mode, not its 6 m/s²
    # fallback. (Gaps of 36-52 m behave so; from 56 m the original passes, under 36 m the slowed mode fails too.)
    ego = EgoState(15.0)
    lead = [[44.0 + 2.25 + 2.0, 0.0, 0.0, 9.0, 4.5, 1.8, 1.0]]
    cand = mode(15.0)[None]
    alone = Verifier().check(cand, [1.0], ego, objects=lead)
    assert alone.fallback_used and alone.reasons[0] & (Reason.FOLLOWING_DISTANCE | Reason.TIME_TO_COLLISION)
    repaired, sc = with_slowed_variants(cand, np.array([1.0]), 15.0, 0.0)
    verdict = Verifier().check(repaired, sc, ego, objects=lead)
    assert verdict.chosen == 1 and not verdict.fallback_used, verdict.reasons


def test_an_original_that_passes_always_wins_and_a_broken_mode_stays_invalid() -> None:
    bad = mode(10.0)
    bad[5, 2] = np.nan
    cand = np.stack([bad, mode(10.0)])
    repaired, sc = with_slowed_variants(cand, np.array([5.0, 1.0]), 10.0, 0.0)
    assert not np.all(np.isfinite(repaired[2]))
    verdict = Verifier().check(repaired, sc, EgoState(10.0))
    assert verdict.reasons[0] == Reason.INVALID and verdict.reasons[2] == Reason.INVALID
    assert verdict.chosen == 1


@settings(max_examples=60, deadline=None)
@given(speed=st.floats(0.0, 30.0), accel=st.floats(-6.0, 3.0), curvature=st.floats(-0.1, 0.1),
       mode_accel=st.floats(-4.0, 2.0))
def test_slowed_variants_are_finite_stops_from_the_ego_state(speed: float, accel: float, curvature: float,
                                                             mode_accel: float) -> None:
    cand = mode(speed, curvature, mode_accel)[None]
    out, sc = with_slowed_variants(cand, np.zeros(1), speed, accel)
    slowed = out[1]
    assert np.all(np.isfinite(slowed)) and sc[1] < sc[0]
    assert slowed[0, 4] == speed and np.all(slowed[:, 4] >= 0) and np.all(np.diff(slowed[:, 4]) <= 1e-9)
    step = np.hypot(np.diff(slowed[:, 1]), np.diff(slowed[:, 2]))
    # the distance between samples is what the speeds say (trapezoid within the 1 ms integration)
    np.testing.assert_allclose(step.sum(), np.trapezoid(slowed[:, 4], TIMES), rtol=0.02, atol=0.05)


def test_odd_candidates_never_raise_and_the_verifier_judges_them() -> None:
    """Whatever a planner hands over (times not increasing, all NaN, a single point in time), the repair returns
    candidates of the same shape and the verifier, not the repair, says what is wrong with them."""
    rng = np.random.default_rng(3)
    for cand in (rng.normal(size=(4, 21, 5)), np.full((2, 21, 5), np.nan), np.zeros((1, 21, 5))):
        out, sc = with_slowed_variants(cand, np.arange(len(cand), dtype=float), 8.0, 0.0)
        assert out.shape == (2 * len(cand), 21, 5) and sc.shape == (2 * len(cand),)
        verdict = Verifier().check(out.astype(np.float32), sc, EgoState(8.0))
        assert len(verdict.reasons) == 2 * len(cand)
