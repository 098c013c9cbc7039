"""Imitation (winner-takes-all) and distillation losses: exact values on hand-made cases, masks, gradients."""
import math

import pytest
import torch
from torch.nn import functional as F

from wayvert.training.losses import LossWeights, distillation_loss, imitation_loss, soft_cross_entropy
from wayvert.schema import N_WAYPOINTS, SCENARIOS

T = N_WAYPOINTS


def _output(trajectories, mode_logits=None, batch=1, target_speed=10.0, curvature=0.0, lead_distance=30.0):
    """A ModelOutput by hand; trajectories [B, K, T, 4]."""
    k = trajectories.shape[1]
    return dict(trajectories=trajectories,
                mode_logits=torch.zeros(batch, k) if mode_logits is None else mode_logits,
                target_speed=torch.full((batch,), target_speed), curvature=torch.full((batch,), curvature),
                lead_distance=torch.full((batch,), lead_distance),
                scenario_logits=torch.zeros(batch, len(SCENARIOS)))


def _batch(trajectory, target_speed=10.0, curvature=0.0, lead_distance=30.0, has_lead=True, has_scenario=True):
    b = trajectory.shape[0]
    return dict(trajectory=trajectory, target_speed=torch.full((b,), target_speed),
                curvature=torch.full((b,), curvature), lead_distance=torch.full((b,), lead_distance),
                scenario=torch.zeros(b, dtype=torch.int64),
                has_lead_distance=torch.full((b,), has_lead), has_scenario=torch.full((b,), has_scenario))


def _three_modes():
    """Ground truth at the origin; modes 3 m ahead, 0.5 m left (the closest), 2 m behind."""
    modes = torch.zeros(1, 3, T, 4)
    modes[0, 0, :, 0] = 3.0
    modes[0, 1, :, 1] = 0.5
    modes[0, 2, :, 0] = -2.0
    return modes.requires_grad_(), torch.zeros(1, T, 4)


def test_winner_takes_all_regresses_only_the_closest_mode():
    modes, gt = _three_modes()
    total, parts = imitation_loss(_output(modes), _batch(gt))
    # smooth-L1(0.5) = 0.5 * 0.5^2 on y, 0 on x, averaged over x and y.
    assert parts["position"].item() == pytest.approx(0.0625)
    assert parts["heading"].item() == 0.0 and parts["speed"].item() == 0.0
    # uniform logits over 3 modes: cross-entropy to the winner is log 3
    assert parts["mode"].item() == pytest.approx(math.log(3.0))
    total.backward()
    grad = modes.grad[0].abs().sum((1, 2))
    assert grad[1] > 0 and grad[0] == 0 and grad[2] == 0


def test_winner_is_the_mode_classifier_target():
    modes, gt = _three_modes()
    logits = torch.tensor([[0.0, 5.0, 0.0]])
    _, confident = imitation_loss(_output(modes, logits), _batch(gt))
    _, wrong = imitation_loss(_output(modes, logits.roll(1, dims=1)), _batch(gt))
    assert confident["mode"] < 0.02 < 5.0 < wrong["mode"]


def test_heading_and_speed_terms_use_their_loss_units():
    modes = torch.zeros(1, 1, T, 4)
    modes[..., 2] = 0.05      # rad: half a loss unit of 0.1 rad
    modes[..., 3] = 3.0       # m/s: beyond smooth-L1's beta, linear
    _, parts = imitation_loss(_output(modes), _batch(torch.zeros(1, T, 4)))
    assert parts["heading"].item() == pytest.approx(0.125)
    assert parts["speed"].item() == pytest.approx(2.5)


def test_aux_losses_in_their_units():
    modes = torch.zeros(1, 1, T, 4)
    out = _output(modes, target_speed=10.5, curvature=0.003, lead_distance=50.0)
    total, parts = imitation_loss(out, _batch(torch.zeros(1, T, 4), target_speed=10.0, curvature=0.0,
                                              lead_distance=30.0))
    assert parts["target_speed"].item() == pytest.approx(0.125)     # 0.5 m/s
    assert parts["curvature"].item() == pytest.approx(0.045)        # 0.3 units of 0.01 1/m
    assert parts["lead_distance"].item() == pytest.approx(1.5)      # 2 units of 10 m
    assert parts["scenario"].item() == pytest.approx(math.log(len(SCENARIOS)))
    w = LossWeights()
    expected = (w.target_speed * 0.125 + w.curvature * 0.045 + w.lead_distance * 1.5
                + w.scenario * math.log(len(SCENARIOS)))
    assert total.item() == pytest.approx(expected, rel=1e-6)


def test_masks_with_no_entries_give_zero_not_nan():
    modes = torch.zeros(2, 1, T, 4)
    out = _output(modes, batch=2)
    out["lead_distance"] = out["lead_distance"].clone().requires_grad_()
    out["scenario_logits"] = out["scenario_logits"].clone().requires_grad_()
    batch = _batch(torch.zeros(2, T, 4), lead_distance=float("nan"), has_lead=False, has_scenario=False)
    batch["scenario"] = torch.full((2,), -1)           # unlabelled: anything may be stored
    total, parts = imitation_loss(out, batch)
    assert parts["lead_distance"].item() == 0.0 and parts["scenario"].item() == 0.0
    assert torch.isfinite(total)
    total.backward()
    assert torch.equal(out["lead_distance"].grad, torch.zeros(2))
    assert torch.equal(out["scenario_logits"].grad, torch.zeros(2, len(SCENARIOS)))


def test_masked_entries_are_left_out_of_the_mean():
    out = _output(torch.zeros(2, 1, T, 4), batch=2, lead_distance=50.0)
    batch = _batch(torch.zeros(2, T, 4), lead_distance=30.0)
    batch["lead_distance"] = torch.tensor([30.0, float("nan")])
    batch["has_lead_distance"] = torch.tensor([True, False])
    _, parts = imitation_loss(out, batch)
    assert parts["lead_distance"].item() == pytest.approx(1.5)


def _random_output(seed, batch=3, modes=4):
    g = torch.Generator().manual_seed(seed)
    return dict(trajectories=torch.randn(batch, modes, T, 4, generator=g),
                mode_logits=torch.randn(batch, modes, generator=g),
                target_speed=10 + torch.randn(batch, generator=g), curvature=0.01 * torch.randn(batch, generator=g),
                lead_distance=40 + 10 * torch.randn(batch, generator=g),
                scenario_logits=torch.randn(batch, len(SCENARIOS), generator=g))


def test_distillation_with_student_equal_to_teacher_has_zero_soft_part():
    out = _random_output(0)
    batch = _batch(torch.randn(3, T, 4))
    total, parts = distillation_loss(out, out, batch, alpha=0.3, temperature=2.0)
    soft = {k: v for k, v in parts.items() if k.startswith("soft")}
    assert len(soft) == 9 and all(v.item() == 0.0 for v in soft.values()), soft
    hard, _ = imitation_loss(out, batch)
    assert total.item() == pytest.approx(0.3 * hard.item())


def test_distillation_weights_each_mode_by_the_teachers_probability():
    teacher = _output(torch.zeros(1, 2, T, 4), mode_logits=torch.tensor([[0.0, math.log(3.0)]]))  # p = 1/4, 3/4
    student_modes = torch.zeros(1, 2, T, 4)
    student_modes[0, 0, :, 1] = 0.5                       # only mode 0 is off, by 0.5 m in y
    student = _output(student_modes, mode_logits=teacher["mode_logits"].clone())
    _, parts = distillation_loss(student, teacher, _batch(torch.zeros(1, T, 4)), alpha=0.0)
    assert parts["soft_position"].item() == pytest.approx(0.25 * 0.0625)
    assert parts["soft_mode"].item() == 0.0


def test_distillation_does_not_train_the_teacher():
    teacher = {k: v.requires_grad_() for k, v in _random_output(1).items()}
    student = {k: v.requires_grad_() for k, v in _random_output(2).items()}
    total, _ = distillation_loss(student, teacher, _batch(torch.randn(3, T, 4)))
    total.backward()
    assert all(v.grad is None for v in teacher.values())
    assert all(v.grad is not None for v in student.values())


@pytest.mark.parametrize("temperature", [1.0, 3.0])
def test_soft_cross_entropy_is_kl_times_temperature_squared(temperature):
    s, t = torch.randn(5, 6), torch.randn(5, 6)
    expected = F.kl_div(F.log_softmax(s / temperature, -1), F.log_softmax(t / temperature, -1),
                        reduction="batchmean", log_target=True) * temperature ** 2
    torch.testing.assert_close(soft_cross_entropy(s, t, temperature), expected)


def test_without_soft_scenario_the_teachers_scenario_does_not_reach_the_student():
    """distill.soft_scenario = false: a teacher that never calls a rare class cannot teach the student to miss it."""
    student = _random_output(2)
    batch = _batch(torch.randn(3, T, 4))
    teacher_a, teacher_b = _random_output(3), _random_output(3)
    teacher_b["scenario_logits"] = teacher_b["scenario_logits"] + torch.tensor([5.0, 0.0, 0.0, -5.0, 0.0])
    with_soft = [distillation_loss(student, t, batch, alpha=0.5)[0].item() for t in (teacher_a, teacher_b)]
    without = [distillation_loss(student, t, batch, alpha=0.5, soft_scenario=False) for t in (teacher_a, teacher_b)]
    assert with_soft[0] != pytest.approx(with_soft[1])
    assert without[0][0].item() == pytest.approx(without[1][0].item())
    assert "soft_scenario" not in without[0][1] and "hard_scenario" in without[0][1]
