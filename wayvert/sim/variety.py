"""The variety of a synthetic world drawn from its seed alone: the same seed gives the same road, traffic and
weather to the recorded episodes, the closed-loop routes and the demo."""
from __future__ import annotations

from typing import Any

import numpy as np


def draw_variety(seed: int) -> dict[str, Any]:
    """World parameters drawn from ``seed``: lanes 1-3, traffic density (vehicles/km/lane), weather (25% rain),
    lighting (25% dusk), obstacles (30% of episodes: 1 or 2 stopped vehicles), junction (the road's own draw)."""
    rng = np.random.default_rng([seed, 0x7A51E7])
    return {
        "lanes": int(rng.integers(1, 4)),
        "traffic_density": float(np.round(rng.uniform(5.0, 40.0), 3)),
        "weather": "rain" if rng.random() < 0.25 else "dry",
        "lighting": "dusk" if rng.random() < 0.25 else "day",
        "obstacles": int(rng.integers(1, 3)) if rng.random() < 0.3 else 0,
        "junction": None,
    }
