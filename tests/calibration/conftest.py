"""Shared fixtures of the calibration tests: a briefly trained tiny student and its calibration data.

Everything is tiny (3 cameras of 32 x 64, a few dozen samples) and single-threaded: the suite runs in well
under a minute on 2 cores.
"""
from __future__ import annotations

import pytest
import torch

from wayvert.training.data.dataset import normalize_image
from wayvert.training.losses import imitation_loss
from wayvert.training.models import Student
from wayvert.schema import COMMANDS

torch.set_num_threads(1)

CAMERAS, HEIGHT, WIDTH = 3, 32, 64


def model_batch(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(image normalised [n, V, 3, H, W] from random pixels, ego [n, 2], command [n, 4] one-hot)."""
    g = torch.Generator().manual_seed(seed)
    pixels = torch.randint(0, 256, (n, CAMERAS, 3, HEIGHT, WIDTH), generator=g).to(torch.uint8)
    ego = torch.stack([torch.rand(n, generator=g) * 20.0, 0.2 * torch.randn(n, generator=g)], dim=1)
    command = torch.nn.functional.one_hot(torch.randint(0, len(COMMANDS), (n,), generator=g), len(COMMANDS)).float()
    return normalize_image(pixels), ego, command


@pytest.fixture(scope="session")
def make_batch():
    """``make_batch(n, seed)`` -> model inputs of n random samples (see model_batch)."""
    return model_batch


@pytest.fixture(scope="session")
def student(demonstration_labels) -> Student:
    """A tiny student after 40 Adam steps of imitation on random images (weights away from their init)."""
    torch.manual_seed(0)
    model = Student(cameras=CAMERAS, height=HEIGHT, width=WIDTH, hidden=64)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for step in range(40):
        image, ego, command = model_batch(8, seed=step % 4)
        loss, _ = imitation_loss(model(image, ego, command), demonstration_labels(ego, seed=step % 4))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


@pytest.fixture(scope="session")
def calibration_batches() -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    return [model_batch(8, seed=100 + i) for i in range(4)]


@pytest.fixture(scope="session")
def evaluation_batches() -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    return [model_batch(8, seed=200)]


@pytest.fixture(scope="session")
def lowered(student, calibration_batches, evaluation_batches):
    """``lowered(method) -> (builder, report)``, each method lowered once per session."""
    from wayvert.calibration import lower_student
    cache: dict[str, tuple] = {}

    def get(method: str):
        if method not in cache:
            cache[method] = lower_student(student, calibration_batches, method, evaluation_batches=evaluation_batches)
        return cache[method]
    return get
