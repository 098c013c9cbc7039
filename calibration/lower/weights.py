"""int8 weights: symmetric per output channel, with a scale floor that keeps the int32 bias in range."""
from __future__ import annotations

import numpy as np

from wayvert import quant

#: |bias| must stay below 2^30 at scale s_x * s_w (the kernels' rule); 2^29 leaves rounding margin.
BIAS_LIMIT = 2.0**29


def quantize_weights(weight: np.ndarray, bias: np.ndarray | None, input_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(int8 weight in [-127, 127], scale per output channel). A channel whose bias would not fit as int32 at
    ``input_scale * scale`` (tiny weights, large bias) gets a larger scale: coarser weights, exact bias range."""
    w = np.asarray(weight, dtype=np.float64)
    flat = w.reshape(w.shape[0], -1)
    scales = np.abs(flat).max(axis=1) / 127.0
    if bias is not None:
        scales = np.maximum(scales, np.abs(np.asarray(bias, dtype=np.float64)) / (input_scale * BIAS_LIMIT))
    scales = np.where(scales > 0, scales, 1.0)
    q = np.clip(quant.round_half_away(flat / scales[:, None]), -127, 127).astype(np.int8)
    return q.reshape(w.shape), scales
