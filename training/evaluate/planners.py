"""Planners for closed-loop driving: a trained model seeing the rendered canonical cameras, and the
constant-velocity baseline. (The expert is not a planner here: it drives the world directly.)"""
from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from wayvert import schema
from wayvert.sensors import shipped_rig
from wayvert.sim import World
from wayvert.sim.render import Renderer
from wayvert.training.run.inputs import model_inputs

RENDER_INTERNAL_WIDTH = 128   # the same renderer setting the training data was made with


class Planner(Protocol):
    name: str

    def reset(self) -> None: ...

    def plan(self, world: World) -> np.ndarray:
        """[T, 4] (x, y, heading, speed) in the ego frame now, at ``schema.waypoint_times()``."""
        ...


class ConstantVelocityPlanner:
    name = "constant velocity"

    def reset(self) -> None:
        pass

    def plan(self, world: World) -> np.ndarray:
        t = schema.waypoint_times()
        v = world.ego.speed
        return np.stack([v * t, np.zeros_like(t), np.zeros_like(t), np.full_like(t, v)], 1)


class ModelPlanner:
    """Renders the canonical rig, keeps the frame history the teacher needs, runs the model, returns the
    top-scored mode."""

    def __init__(self, model: torch.nn.Module, kind: str, name: str, renderer: Renderer | None = None):
        self.model, self.kind, self.name = model.eval(), kind, name
        self.renderer = renderer or Renderer(shipped_rig(schema.CANONICAL_RIG), max_internal_width=RENDER_INTERNAL_WIDTH)
        self.cameras = [c.name for c in self.renderer.rig.cameras]
        self.history: list[np.ndarray] = []

    def reset(self) -> None:
        self.history = []

    def _image(self, world: World) -> np.ndarray:
        frames = self.renderer.render(world.scene())
        return np.stack([frames[c].transpose(2, 0, 1) for c in self.cameras])      # [V, 3, H, W] uint8

    @torch.no_grad()
    def _outputs(self, world: World, history: list[np.ndarray]) -> dict[str, torch.Tensor]:
        from wayvert.sim.labels import route_command

        image = history[-1]
        frames = [history[0]] * (schema.HISTORY_FRAMES - len(history)) + history
        command = np.zeros(len(schema.COMMANDS), np.float32)
        command[schema.command_index(route_command(world))] = 1.0
        batch = {"image": torch.from_numpy(image)[None], "history": torch.from_numpy(np.stack(frames))[None],
                 "ego": torch.tensor([[world.ego.speed, world.ego.yaw_rate]], dtype=torch.float32),
                 "command": torch.from_numpy(command)[None]}
        return self.model(*model_inputs(self.kind, batch))

    def plan(self, world: World) -> np.ndarray:
        """Called every HISTORY_STRIDE ticks: the history is the previous call's frame."""
        self.history = (self.history + [self._image(world)])[-schema.HISTORY_FRAMES:]
        out = self._outputs(world, self.history)
        best = int(out["mode_logits"][0].argmax())
        return out["trajectories"][0, best].numpy().astype(np.float64)

    def propose(self, world: World) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
        """Every tick (wayvert.closed_loop's planner protocol): every mode and its score, for the verifier; the
        history frame is the one HISTORY_STRIDE ticks ago."""
        from wayvert.replay.pipeline import candidates

        self.history = (self.history + [self._image(world)])[-(schema.HISTORY_STRIDE + 1):]
        out = self._outputs(world, [self.history[0], self.history[-1]] if len(self.history) > 1 else self.history)
        return (candidates(out["trajectories"][0].numpy(), world.ego.speed),
                out["mode_logits"][0].numpy().astype(np.float64), {})
