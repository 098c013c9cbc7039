"""Trajectory metrics: ADE, FDE, miss for the top-scored mode and the best of the modes, torch and numpy."""
import numpy as np
import pytest
import torch

from wayvert.training.metrics import ade_fde, min_ade_best_mode, trajectory_metrics


def test_ade_fde_on_a_growing_offset():
    gt = torch.zeros(1, 4, 4)
    pred = gt.clone()
    pred[0, :, 0] = torch.tensor([3.0, 3.0, 3.0, 6.0])
    pred[0, :, 1] = torch.tensor([4.0, 4.0, 4.0, 8.0])     # 5 m, 5 m, 5 m, 10 m
    ade, fde = ade_fde(pred, gt)
    assert ade.item() == pytest.approx(6.25) and fde.item() == pytest.approx(10.0)


def _modes():
    """gt along x; mode 0 drifts 3 m left (scored highest), mode 1 is 0.5 m off, mode 2 is 1 m off."""
    gt = np.zeros((1, 5, 4), np.float32)
    gt[0, :, 0] = np.arange(1, 6)
    modes = np.repeat(gt[:, None], 3, axis=1)
    modes[0, 0, :, 1] = 3.0
    modes[0, 1, :, 1] = 0.5
    modes[0, 2, :, 1] = -1.0
    return modes, np.array([[2.0, 0.0, 1.0]], np.float32), gt


@pytest.mark.parametrize("to", [np.asarray, torch.from_numpy])
def test_top_mode_and_best_mode_metrics(to):
    modes, logits, gt = (to(a) for a in _modes())
    min_ade, best = min_ade_best_mode(modes, gt)
    assert int(best[0]) == 1 and float(min_ade[0]) == pytest.approx(0.5)
    m = trajectory_metrics(modes, logits, gt)
    assert all(type(v) is type(modes) for v in m.values())
    assert float(m["ade"][0]) == pytest.approx(3.0) and float(m["fde"][0]) == pytest.approx(3.0)
    assert float(m["miss"][0]) == 1.0
    assert float(m["min_ade"][0]) == pytest.approx(0.5) and float(m["min_fde"][0]) == pytest.approx(0.5)
    assert float(m["min_miss"][0]) == 0.0
