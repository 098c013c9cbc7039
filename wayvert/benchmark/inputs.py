"""Inputs to benchmark an engine on: what it sees in use where that can be made, random codes otherwise.

An engine with a ``canonical_rig`` in its meta and an int8 ``image`` input of that rig's shape gets frames of the
synthetic world (``wayvert.sim``, numpy only) rendered through that rig and quantized by the sensor
adapter, with the ego state and a route command; any other input is filled with seeded random values (int8: codes
in the middle half of the range; float: standard normal). The float peers get the same values dequantized.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from wayvert.engine import Engine, TensorSpec

Feeds = dict[str, npt.NDArray[Any]]


@dataclass
class EngineFeeds:
    """``int8[i]``: the engine's feeds (its dtypes); ``float[i]``: the same inputs in float32 for the peers."""

    engine: list[Feeds]
    float: list[Feeds]
    source: str  # "synthetic world" or "random"


def _dequantize(spec: TensorSpec, value: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    if spec.dtype == "int8":
        return ((value.astype(np.float32) - spec.zero_point) * np.float32(spec.scale)).astype(np.float32)
    return np.asarray(value, np.float32)


def _world_images(engine: Engine, count: int, seed: int) -> tuple[list[npt.NDArray[np.int8]], list[npt.NDArray[np.float32]]] | None:
    spec = next((s for s in engine.inputs if s.name == "image" and s.dtype == "int8"), None)
    if spec is None or "canonical_rig" not in engine.meta:
        return None
    from wayvert import Rig, SensorAdapter
    from wayvert.sim import World
    from wayvert.sim.render import Renderer

    rig = Rig.from_dict(engine.meta["canonical_rig"])
    adapter = SensorAdapter(rig, rig, scale=spec.scale, zero_point=spec.zero_point)
    renderer = Renderer(rig, max_internal_width=128)  # the training data's setting
    world = World(seed, obstacles=1)
    images, egos = [], []
    for _ in range(count):
        tensor, _ = adapter.convert(renderer.render(world.scene()))
        if tensor.shape != tuple(spec.shape):
            return None
        images.append(tensor)
        egos.append(np.array([[world.ego.speed, world.ego.yaw_rate]], np.float32))
        for _ in range(5):
            world.step(0.1)
    return images, egos


def engine_feeds(engine: Engine, count: int = 8, seed: int = 0) -> EngineFeeds:
    """``count`` sets of feeds for ``engine``."""
    rng = np.random.default_rng(seed)
    world = _world_images(engine, count, seed + 90000)
    feeds: list[Feeds] = []
    for i in range(count):
        f: Feeds = {}
        for s in engine.inputs:
            if world is not None and s.name == "image":
                f[s.name] = world[0][i]
            elif world is not None and s.name == "ego" and tuple(s.shape) == (1, 2):
                f[s.name] = world[1][i]
            elif world is not None and s.name == "command":
                f[s.name] = np.eye(1, int(np.prod(s.shape)), dtype=np.float32).reshape(s.shape)
            elif s.dtype == "int8":
                f[s.name] = rng.integers(-64, 64, s.shape).astype(np.int8)
            else:
                f[s.name] = rng.standard_normal(s.shape).astype(np.dtype(s.dtype))
        feeds.append(f)
    floats = [{s.name: _dequantize(s, f[s.name]) for s in engine.inputs} for f in feeds]
    return EngineFeeds(feeds, floats, "synthetic world" if world is not None else "random")
