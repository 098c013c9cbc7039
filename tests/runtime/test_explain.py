"""Grounded explanations: every stated fact is read from the outputs or the verdict, and nothing else is stated."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wayvert import schema
from wayvert.explain import ACTIONS, SCENARIO_CONFIDENCE, explain


def _traj(v0: float, v1: float, heading: float = 0.0) -> np.ndarray:
    t = np.linspace(0.0, 4.0, 21)
    v = np.linspace(v0, v1, 21)
    return np.stack([t, np.cumsum(v) * 0.2, 0 * t, np.linspace(0, heading, 21), v], axis=1)


def _verdict(traj: np.ndarray, chosen: int = 0, top: int = 0, fallback: bool = False,
             reasons: list[list[str]] | None = None) -> dict:
    return {"trajectory": traj.tolist(), "chosen": -1 if fallback else chosen, "top": top, "fallback_used": fallback,
            "reasons": reasons or [[], []]}


@settings(max_examples=200, deadline=None)
@given(lead=st.floats(0.0, 120.0), logits=st.lists(st.floats(-8, 8), min_size=5, max_size=5),
       prev=st.one_of(st.none(), st.floats(0.0, 120.0)), v0=st.floats(0, 30), v1=st.floats(0, 30),
       heading=st.floats(-1, 1), with_verdict=st.booleans(), fallback=st.booleans())
def test_nothing_is_stated_that_the_inputs_do_not_hold(lead, logits, prev, v0, v1, heading, with_verdict, fallback):
    outputs = {"lead_distance": np.array([lead], np.float32), "scenario_logits": np.array([logits], np.float32)}
    verdict = _verdict(_traj(v0, v1, heading), fallback=fallback) if with_verdict else None
    if verdict is None:
        outputs["trajectories"] = _traj(v0, v1, heading)[None, None, 1:, 1:].astype(np.float32)
        outputs["mode_logits"] = np.zeros((1, 1), np.float32)
    e = explain(outputs, verdict, previous_lead_m=prev, dt_s=0.5)
    kinds = [f.kind for f in e.facts]
    assert e.action in ACTIONS
    assert e.sentence.endswith(".") and all(f.text in e.sentence for f in e.facts)
    lead32 = float(np.float32(lead))
    assert ("lead" in kinds) == (lead32 < schema.LEAD_DISTANCE_CAP_M - 2.0)
    if "lead" in kinds:
        assert next(f.value for f in e.facts if f.kind == "lead") == round(lead32, 1)
    if "closing" in kinds:
        closing = next(f.value for f in e.facts if f.kind == "closing")
        assert prev is not None and closing == pytest.approx(round((prev - lead32) / 0.5, 1), abs=0.06)
    z = np.asarray(logits, np.float32).astype(np.float64)
    p = np.exp(z - z.max())
    p /= p.sum()
    if "scenario" in kinds:
        assert next(f.value for f in e.facts if f.kind == "scenario") == schema.SCENARIOS[int(np.argmax(p))]
        assert p.max() >= SCENARIO_CONFIDENCE - 1e-9
    else:
        assert p.max() < SCENARIO_CONFIDENCE + 1e-9
    assert ("fallback" in kinds) == bool(with_verdict and fallback)
    assert "verifier" not in kinds             # chosen == top here


def test_outputs_it_does_not_get_are_never_mentioned():
    e = explain({}, None)
    assert e.facts == [] and e.sentence == "Keep lane."


@pytest.mark.parametrize("v0, v1, heading, lead, want", [
    (12.0, 12.0, 0.0, 80.0, "keep lane"),
    (12.0, 12.0, 0.0, 25.0, "follow"),
    (12.0, 6.0, 0.0, 80.0, "slow"),
    (12.0, 0.2, 0.0, 15.0, "stop"),
    (8.0, 8.0, 0.6, 80.0, "turn left"),
    (8.0, 8.0, -0.6, 80.0, "turn right"),
])
def test_action_follows_the_driven_trajectory(v0, v1, heading, lead, want):
    e = explain({"lead_distance": np.array([lead])}, _verdict(_traj(v0, v1, heading)))
    assert e.action == want, e.sentence


def test_the_verifiers_choice_and_fallback_are_stated_with_their_checks():
    traj = _traj(10.0, 10.0)
    e = explain({}, _verdict(traj, chosen=1, top=0, reasons=[["lateral_jerk"], []]))
    assert any(f.kind == "verifier" and "lateral_jerk" in f.text for f in e.facts)
    e = explain({}, _verdict(_traj(10.0, 0.0), fallback=True, top=0, reasons=[["time_to_collision"], []]))
    assert e.action == "stop" and "time_to_collision" in e.sentence and "minimum-risk stop" in e.sentence
