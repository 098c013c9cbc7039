"""What a forward pass costs: multiply-accumulates counted from the ATen ops actually run."""
from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def forward_macs(model: nn.Module, *inputs: torch.Tensor) -> int:
    """Multiply-accumulates of one forward pass on ``inputs`` (convolutions, matmuls, attention; elementwise
    ops are not counted). Divide by the batch size for a per-sample figure."""
    counter = FlopCounterMode(display=False)
    # The fused inference path of nn.TransformerEncoder runs ops the counter does not know: count the plain path.
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), counter:
            model(*inputs)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    return counter.get_total_flops() // 2
