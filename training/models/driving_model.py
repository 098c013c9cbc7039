"""What every driving network shares: the constructor config a checkpoint needs, and a parameter count."""
from __future__ import annotations

from typing import Any, ClassVar

from torch import nn


class DrivingModel(nn.Module):
    """Base of Student and Teacher: ``config`` holds the constructor arguments, so
    ``build_model(model.kind, **model.config)`` rebuilds the same architecture for a checkpoint's state_dict."""

    kind: ClassVar[str]

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.config: dict[str, Any] = dict(config)

    def count_parameters(self, trainable_only: bool = True) -> int:
        """Number of scalar parameters (buffers such as the kinematic prior are not counted)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)


def check_image_size(height: int, width: int, stride: int = 32) -> None:
    """Both backbones downsample by 32: the feature map is height/32 x width/32."""
    if height <= 0 or width <= 0 or height % stride or width % stride:
        raise ValueError(f"image size {height}x{width} must be positive multiples of {stride}")
