"""Training losses: imitation of the expert (winner-takes-all over modes) and distillation from the teacher.

Both return ``(total, parts)``: ``total`` a scalar to backpropagate, ``parts`` detached scalars for logging.
Regression terms are smooth-L1 (beta 1) in loss units that make typical errors about 1: metres for x and y,
0.1 rad for heading, m/s for speed, 0.01 1/m for curvature, 10 m for the lead distance.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping

import torch
from torch.nn import functional as F

from .metrics import min_ade_best_mode
from wayvert.schema import WAYPOINT_FIELDS

HEADING_LOSS_UNIT_RAD = 0.1
CURVATURE_LOSS_UNIT_PER_M = 0.01
LEAD_DISTANCE_LOSS_UNIT_M = 10.0
_X, _HEADING, _SPEED = (WAYPOINT_FIELDS.index(f) for f in ("x", "heading", "speed"))

Tensors = Mapping[str, torch.Tensor]


@dataclass(frozen=True)
class LossWeights:
    """Weight of each part in the total (the same names key ``parts``; distillation's soft parts use them too)."""
    position: float = 1.0        # trajectory x, y of the winning mode
    heading: float = 0.5
    speed: float = 0.5
    mode: float = 1.0            # mode classification (cross-entropy to the winner; KL to the teacher)
    target_speed: float = 0.5
    curvature: float = 0.5
    lead_distance: float = 0.5   # only where batch["has_lead_distance"]
    scenario: float = 0.5        # only where batch["has_scenario"]


def trajectory_terms(pred: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
    """Smooth-L1 per trajectory: pred, target [..., T, 4] -> "position", "heading", "speed" each [...],
    averaged over waypoints (and over x, y)."""
    def smooth_l1(field: slice | int, unit: float = 1.0) -> torch.Tensor:
        return F.smooth_l1_loss(pred[..., field] / unit, target[..., field] / unit, reduction="none")
    return dict(position=smooth_l1(slice(_X, _X + 2)).mean((-1, -2)),
                heading=smooth_l1(_HEADING, HEADING_LOSS_UNIT_RAD).mean(-1),
                speed=smooth_l1(_SPEED).mean(-1))


def aux_regression_terms(out: Tensors, target: Tensors) -> dict[str, torch.Tensor]:
    """Smooth-L1 per sample [B] of target_speed, curvature and lead_distance, in loss units."""
    def smooth_l1(key: str, unit: float = 1.0) -> torch.Tensor:
        return F.smooth_l1_loss(out[key] / unit, target[key] / unit, reduction="none")
    return dict(target_speed=smooth_l1("target_speed"),
                curvature=smooth_l1("curvature", CURVATURE_LOSS_UNIT_PER_M),
                lead_distance=smooth_l1("lead_distance", LEAD_DISTANCE_LOSS_UNIT_M))


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of values [B] where mask [B] is True; exactly 0 (not NaN) when no entry is."""
    return torch.where(mask, values, torch.zeros_like(values)).sum() / mask.sum().clamp(min=1)


def soft_cross_entropy(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                       temperature: float) -> torch.Tensor:
    """KL(teacher || student) of the softened distributions, times temperature^2 (Hinton et al.), mean over B.
    Exactly 0 for equal logits."""
    t = F.log_softmax(teacher_logits / temperature, dim=-1)
    s = F.log_softmax(student_logits / temperature, dim=-1)
    return (t.exp() * (t - s)).sum(-1).mean() * temperature ** 2


def weighted_total(parts: Mapping[str, torch.Tensor], weights: LossWeights) -> torch.Tensor:
    """Sum of weights.<name> x parts[name]."""
    w = asdict(weights)
    return torch.stack([w[name] * value for name, value in parts.items()]).sum()


def scenario_loss(logits: torch.Tensor, labels: torch.Tensor, known: torch.Tensor,
                  class_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy of the scenario head over the samples whose label is known (0 when none is).

    ``class_weights`` [C]: each sample counts class_weights[label] times, normalised by the batch's sum of
    weights, so a class's share of the loss no longer follows its share of the frames (a class that is 2% of
    them pulls as hard as one that is 48% when the weights are inverse frequencies)."""
    labels = torch.where(known, labels, torch.zeros_like(labels))
    ce = F.cross_entropy(logits, labels, reduction="none")
    if class_weights is None:
        return masked_mean(ce, known)
    w = torch.where(known, class_weights.to(ce.dtype)[labels], torch.zeros_like(ce))
    return (w * ce).sum() / w.sum().clamp(min=1e-12)


def inverse_frequency(counts: torch.Tensor) -> torch.Tensor:
    """Class weights [C] from label counts [C]: total / (classes present x count), 0 for an absent class; the
    weights of a balanced set are all 1."""
    counts = counts.to(torch.float64)
    present = counts > 0
    w = torch.where(present, counts.sum() / (present.sum().clamp(min=1) * counts.clamp(min=1)),
                    torch.zeros_like(counts))
    return w.to(torch.float32)


def imitation_loss(out: Tensors, batch: Tensors, weights: LossWeights = LossWeights(),
                   scenario_class_weights: torch.Tensor | None = None
                   ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Loss of a ModelOutput against the expert's batch (keys: see the module docs of training.data).

    Winner-takes-all: per sample, the mode with the smallest average x, y displacement to batch["trajectory"]
    gets the trajectory regression and is the mode classifier's target; the other modes are left free.
    Labels that are masked off (has_lead_distance / has_scenario False) may hold anything, NaN included.
    ``scenario_class_weights``: see scenario_loss.
    """
    gt = batch["trajectory"]
    with torch.no_grad():
        _, winner = min_ade_best_mode(out["trajectories"], gt)
    chosen = out["trajectories"][torch.arange(len(winner)), winner]
    parts = {name: term.mean() for name, term in trajectory_terms(chosen, gt).items()}
    parts["mode"] = F.cross_entropy(out["mode_logits"], winner)

    has_lead, has_scenario = batch["has_lead_distance"], batch["has_scenario"]
    known = dict(batch)
    known["lead_distance"] = torch.where(has_lead, batch["lead_distance"], out["lead_distance"].detach())
    aux = aux_regression_terms(out, known)
    parts["target_speed"] = aux["target_speed"].mean()
    parts["curvature"] = aux["curvature"].mean()
    parts["lead_distance"] = masked_mean(aux["lead_distance"], has_lead)
    parts["scenario"] = scenario_loss(out["scenario_logits"], batch["scenario"], has_scenario,
                                      scenario_class_weights)

    total = weighted_total(parts, weights)
    return total, {**{k: v.detach() for k, v in parts.items()}, "total": total.detach()}


def distillation_loss(student_out: Tensors, teacher_out: Tensors, batch: Tensors, alpha: float = 0.5,
                      temperature: float = 2.0, weights: LossWeights = LossWeights(), soft_scenario: bool = True,
                      scenario_class_weights: torch.Tensor | None = None
                      ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Soft loss to the teacher's outputs plus ``alpha`` x imitation_loss(student_out, batch).

    Modes are matched by index: student mode k regresses to teacher mode k, weighted by the teacher's
    probability of mode k (softmax at temperature 1), so the student inherits the teacher's mode layout and
    spends its capacity where the teacher puts probability; mode and scenario logits follow the teacher by
    softened KL (times temperature^2); target speed, curvature and lead distance regress to the teacher's (no
    masks: the teacher always answers). ``soft_scenario=False`` leaves the scenario head to the labels alone (a
    teacher that misses a rare class would otherwise teach the student to miss it too). The teacher's outputs are
    detached. Parts: "soft_<name>" and
    "hard_<name>" for each LossWeights name, plus "soft", "hard", "total".
    """
    teacher = {k: v.detach() for k, v in teacher_out.items()}
    mode_weight = F.softmax(teacher["mode_logits"], dim=-1)                              # [B, K]
    per_mode = trajectory_terms(student_out["trajectories"], teacher["trajectories"])    # each [B, K]
    soft = {name: (term * mode_weight).sum(-1).mean() for name, term in per_mode.items()}
    soft["mode"] = soft_cross_entropy(student_out["mode_logits"], teacher["mode_logits"], temperature)
    soft.update({name: term.mean() for name, term in aux_regression_terms(student_out, teacher).items()})
    if soft_scenario:
        soft["scenario"] = soft_cross_entropy(student_out["scenario_logits"], teacher["scenario_logits"], temperature)
    soft_total = weighted_total(soft, weights)

    hard_total, hard = imitation_loss(student_out, batch, weights, scenario_class_weights)
    total = soft_total + alpha * hard_total
    parts = {f"soft_{k}": v.detach() for k, v in soft.items()}
    parts.update({f"hard_{k}": v for k, v in hard.items() if k != "total"})
    parts.update(soft=soft_total.detach(), hard=hard["total"], total=total.detach())
    return total, parts
