"""`wayvert eval --engine`: the deployed stack (rig cameras, adapter, engine, verifier, tracker) driven closed
loop beside the expert and constant velocity, with the figures issue 14 asks for."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from wayvert import reference_engine_path
from wayvert.cli import main
from wayvert.closed_loop import EVAL_SEED0, comfort_of, drive
from wayvert.closed_loop.routes import EXPERT, CV


def test_eval_engine_drives_two_routes_and_writes_json_and_markdown(tmp_path: Path) -> None:
    out_json, out_md = tmp_path / "eval.json", tmp_path / "eval.md"
    assert main(["eval", "--engine", reference_engine_path(), "--routes", "2", "--frames", "12", "--quiet",
                 "--json", str(out_json), "--markdown", str(out_md)]) == 0
    res = json.loads(out_json.read_text())
    assert res["setup"]["seeds"] == [EVAL_SEED0, EVAL_SEED0 + 1] and res["setup"]["frames"] == 12
    rows = res["rows"]
    engine_row = next(name for name in rows if name not in (EXPERT, CV))
    for name, row in rows.items():
        assert len(row["per_route"]) == 2
        t = row["total"]
        assert t["km"] > 0 and t["collisions_per_km"] >= 0 and t["departures_per_km"] >= 0
        assert 0.0 <= t["uncomfortable_share"] <= 1.0
        if name != EXPERT:
            assert 0.0 <= t["fallback_share"] <= 1.0 and 0.0 < t["route_completion"] <= 1.0
            assert t["progress_ratio"] > 0 and isinstance(t["interventions_by_reason"], dict)
    expert = rows[EXPERT]["total"]
    assert expert["expert_plans_checked"] == 24 and 0.0 <= expert["expert_rejection_rate"] <= 1.0
    text = out_md.read_text()
    assert "| expert |" in text and f"| {engine_row} |" in text and "expert plans rejected" in text


def test_routes_shared_among_processes_give_the_same_figures() -> None:
    from wayvert.closed_loop import evaluate_engine

    one = evaluate_engine(reference_engine_path(), "nuscenes_like_6cam", 3, frames=10, expert_every=5)
    two = evaluate_engine(reference_engine_path(), "nuscenes_like_6cam", 3, frames=10, expert_every=5, workers=2)
    assert two["setup"]["seeds"] == one["setup"]["seeds"] and two["setup"]["workers"] == 2
    assert two["rows"] == one["rows"]


def test_eval_bad_workers_or_missing_engine_are_usage_errors(tmp_path: Path) -> None:
    assert main(["eval", "--engine", reference_engine_path(), "--workers", "0", "--quiet"]) == 2
    assert main(["eval", "--engine", str(tmp_path / "none.wvrt"), "--quiet"]) == 2


def test_view_coverage_says_which_canonical_views_a_rig_fills() -> None:
    from wayvert.closed_loop.planners import view_coverage
    from wayvert.engine import Engine
    from wayvert.sensors import SensorAdapter, shipped_rig
    from wayvert.sensors.rig import Rig

    canonical = Rig.from_dict(Engine.load(reference_engine_path()).meta["canonical_rig"])
    six = shipped_rig("nuscenes_like_6cam")
    full = view_coverage(SensorAdapter(six, canonical), six, canonical)
    assert list(full) == [c.name for c in canonical.cameras] and min(full.values()) > 0.98
    d = six.to_dict()
    d["cameras"] = [c for c in d["cameras"] if "front" in c["name"] and "left" not in c["name"]]
    fewer = Rig.from_dict(d)
    part = view_coverage(SensorAdapter(fewer, canonical), fewer, canonical)
    assert part["front"] > 0.98 and part["front_left"] < full["front_left"] - 0.2


def test_eval_without_data_or_engine_is_a_usage_error() -> None:
    assert main(["eval", "--routes", "1"]) == 2


def test_the_expert_drives_its_route_without_incident_and_its_plans_are_checked() -> None:
    log = drive(None, EVAL_SEED0 + 1, 20, expert_every=5)
    assert not log.collided and not log.departed and log.progress_m > 20
    assert len(log.expert_checks) == 4
    assert comfort_of(log.states, 0.1)["comfortable"]


def test_comfort_flags_a_hard_brake() -> None:
    states = [(10.0, 0.0, 0.0)] * 5 + [(9.0, -6.0, 0.0)] * 5
    c = comfort_of(states, 0.1)
    assert not c["comfortable"] and c["worst"]["lon_accel_mps2"] == pytest.approx(-6.0)


def test_repair_drives_the_networks_path_slowed_where_it_fell_back_before() -> None:
    """Issue 14, run-time repair: on a route where the verifier rejects every mode of the shipped engine on many
    frames (selection route 80000: 26 of the first 60 without the repair, measured 2026-12-04 after the world's
    lane-change changes; route 80004 served until its start stopped putting the ego too close to a lead), the
    variants (smoothed, nudged, slowed along their own path) are driven instead and the fallback is rare."""
    from wayvert.closed_loop.routes import _engine_planner

    runs = {}
    for repair in (False, True):
        planner = _engine_planner(reference_engine_path(), "nuscenes_like_6cam")
        runs[repair] = drive(planner, 80000, 60, repair=repair)
    before, after = runs[False], runs[True]
    fb_before = sum(f.fallback for f in before.frames)
    fb_after = sum(f.fallback for f in after.frames)
    assert not any(f.repaired for f in before.frames)
    assert fb_before >= 10, fb_before                     # the situation the repair is for (26 of 60 measured)
    assert fb_after <= fb_before // 2 and sum(f.repaired for f in after.frames) > 0
    assert not after.collided and not after.departed
    assert after.progress_m >= before.progress_m - 1.0


def test_no_repair_flag_is_recorded_and_gives_no_slowed_frames(tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    assert main(["eval", "--engine", reference_engine_path(), "--routes", "1", "--seed", "80004", "--frames", "30",
                 "--expert-every", "0", "--no-repair", "--quiet", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["setup"]["repair"] is False
    assert all(row["total"].get("repaired_share", 0.0) == 0.0 for row in res["rows"].values())


def test_the_shipped_stack_drives_a_held_out_route_close_to_the_expert() -> None:
    """Regression of what ships (issue 14): the reference engine through the whole stack (six-camera rig, adapter,
    engine, verifier with the run-time repair, tracker) on held-out route 70002 for 10 s. Measured on 2026-12-04
    (the slow-start student, the repair that smooths and nudges): 1.01 of the expert's distance, 8 fallback frames,
    54 on a repaired mode, no incident. Before issue 14 the stack drove about a third of the
    expert's distance, mostly on the fallback."""
    from wayvert.closed_loop.routes import _engine_planner

    log = drive(_engine_planner(reference_engine_path(), "nuscenes_like_6cam"), 70002, 100)
    expert = drive(None, 70002, 100)
    assert not log.collided and not log.departed
    assert log.progress_m >= 0.8 * expert.progress_m, (log.progress_m, expert.progress_m)
    assert sum(f.fallback for f in log.frames) <= 10


def test_expert_plans_can_be_checked_from_the_states_each_planner_reaches() -> None:
    """The diagnostic of issue 14 item 4: the verifier on the expert's plans over the states the planner drove
    into (are the states bad, or the plans?), every N ticks, reported in the planner's row."""
    from wayvert.closed_loop import evaluate_engine

    res = evaluate_engine(reference_engine_path(), "nuscenes_like_6cam", 1, frames=10, expert_every=0,
                          expert_on_policy=5)
    assert res["setup"]["expert_on_policy"] == 5
    for name, row in res["rows"].items():
        t = row["total"]
        if name == EXPERT:
            assert "expert_plans_checked" not in t
        else:
            assert t["expert_plans_checked"] == 2 and 0 <= t["expert_plans_rejected"] <= 2


def test_zeroing_the_ego_input_changes_what_the_engine_plans() -> None:
    from wayvert.closed_loop.loop import world_for
    from wayvert.closed_loop.planners import EnginePlanner
    from wayvert.engine import Engine
    from wayvert.sensors import shipped_rig

    engine, rig = Engine.load(reference_engine_path()), shipped_rig("nuscenes_like_6cam")
    world = world_for(EVAL_SEED0)
    assert world.ego.speed > 1.0
    measured = EnginePlanner(engine, rig).propose(world)[0]
    zeroed = EnginePlanner(engine, rig, zero_ego=True).propose(world)[0]
    assert measured.shape == zeroed.shape and not np.allclose(measured, zeroed)


def test_the_experts_plans_drive_through_the_stack_like_the_expert() -> None:
    """The stack's loop with a planner known to drive well: the expert's own plans through the verifier and the
    tracker keep pace with the expert and pass the verifier (measured on 80000-80005: 0.99 of the expert's
    distance, 0.6% fallback), so what the engine loses is in its plans, not in the tracker."""
    from wayvert.closed_loop import ExpertPlanner

    log = drive(ExpertPlanner(), 80000, 60)
    expert = drive(None, 80000, 60)
    assert not log.collided and not log.departed
    assert log.progress_m >= 0.95 * expert.progress_m
    assert sum(f.fallback for f in log.frames) <= 3
