"""Convolution building blocks from the runtime's op set: conv2d (groups allowed), ReLU, residual add."""
from __future__ import annotations

import torch
from torch import nn


def conv(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """A conv with He init; odd kernels are padded so the output is input size / stride."""
    layer = nn.Conv2d(c_in, c_out, kernel, stride, padding=(kernel - 1) // 2 if kernel % 2 else 0, groups=groups)
    # He init keeps activations at about unit scale through the ReLUs (PyTorch's default shrinks them per layer).
    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    assert layer.bias is not None
    nn.init.zeros_(layer.bias)
    return layer


def conv_relu(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """Conv -> ReLU."""
    return nn.Sequential(conv(c_in, c_out, kernel, stride, groups), nn.ReLU())


class SeparableResidual(nn.Module):
    """relu(x + pointwise(relu(depthwise3x3(x)))): a cheap residual block (c^2 + 9c MACs per pixel).

    The pointwise conv starts at zero, so the block starts as the identity (stable without normalisation).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.depthwise = conv_relu(channels, channels, 3, groups=channels)
        self.pointwise = conv(channels, channels, 1)
        nn.init.zeros_(self.pointwise.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.pointwise(self.depthwise(x)))
