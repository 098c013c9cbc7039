"""Training run configuration: a TOML file, overridable from the command line (``--set optim.epochs=3``).

numpy/stdlib only. Every field has a default so a config file names only what it changes; unknown keys are
errors (a typo must not silently train with a default).
"""
from __future__ import annotations

import ast
import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from wayvert.errors import InvalidArgumentError


class ConfigError(InvalidArgumentError):
    """A training configuration file or override is malformed (unknown key, wrong type, unreadable file)."""


@dataclass
class DataConfig:
    train: str = "runs/default/data/train"      # folder of episodes (or one episode)
    aggregate: list = field(default_factory=list)  # more folders trained on with train (DAgger rounds' episodes)
    selection: str = ""                         # a `wayvert curate` selection (CSV): train on exactly its frames
    val: str = "runs/default/data/val"
    bad_dreams: bool = True                     # False: skip episodes recorded from perturbed starts
    workers: int = 0                            # DataLoader worker processes
    mirror: float = 0.0                         # share of training samples mirrored left <-> right (data/mirror.py)


@dataclass
class ModelConfig:
    kind: str = "student"                       # "student" | "teacher"
    modes: int = 6
    cameras: int = 3
    height: int = 128
    width: int = 256
    scenario_branch: bool = False               # student: the scenario head reads its own CNN (models/scenario.py)
    scenario_memory: int = 0                    # with the branch: features remembered from the previous frame set
    scenario_previous_frame: bool = False       # with the branch: its stem also reads the previous frame set


@dataclass
class OptimConfig:
    epochs: int = 10
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 50
    grad_clip: float = 5.0
    threads: int = 0                            # torch intra-op threads; 0 = leave torch's default
    train: str = "all"                          # "scenario": only the scenario branch and head learn (needs init)


@dataclass
class LossConfig:
    """Weights of the loss parts (the same names and defaults as ``wayvert.training.losses.LossWeights``) and
    ``balance_scenario``."""
    position: float = 1.0
    heading: float = 0.5
    speed: float = 0.5
    mode: float = 1.0
    target_speed: float = 0.5
    curvature: float = 0.5
    lead_distance: float = 0.5
    scenario: float = 0.5
    balance_scenario: bool = False              # weight scenario classes by inverse frequency in the training set

    def weights(self) -> dict[str, float]:
        """The loss parts' weights (LossWeights' fields), without the options."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "balance_scenario"}


@dataclass
class DistillConfig:
    teacher: str = ""                           # teacher checkpoint (distill only)
    alpha: float = 0.5                          # weight of the ground-truth imitation loss
    temperature: float = 2.0
    soft_scenario: bool = True                  # the scenario head also follows the teacher's (False: labels only)


@dataclass
class TrainConfig:
    out: str = "runs/default/student"           # checkpoints, logs and the run summary go here
    seed: int = 0
    init: str = ""                              # a checkpoint whose weights start the model (by parameter name)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _apply(obj: Any, values: dict[str, Any], where: str) -> None:
    known = {f.name: f for f in dataclasses.fields(obj)}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(sorted(known))})")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}.{key} must be a table")
            _apply(current, value, f"{where}.{key}")
            continue
        expected = type(current)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{where}.{key} must be {expected.__name__}, got {value!r}")
        setattr(obj, key, value)


def _parse_override(item: str) -> tuple[list[str], Any]:
    if "=" not in item:
        raise ConfigError(f"override {item!r} is not KEY=VALUE (for example optim.epochs=3)")
    key, raw = item.split("=", 1)
    try:
        value: Any = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw                                 # a bare word is a string
    if raw.lower() in ("true", "false"):
        value = raw.lower() == "true"
    return key.strip().split("."), value


def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> TrainConfig:
    """Defaults, then the TOML file (if any), then ``section.key=value`` overrides, in that order."""
    cfg = TrainConfig()
    if path is not None:
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except OSError as e:
            raise ConfigError(f"cannot read config {path}: {e}") from e
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from e
        _apply(cfg, data, str(path))
    for item in overrides:
        keys, value = _parse_override(item)
        nested: dict[str, Any] = {keys[-1]: value}
        for k in reversed(keys[:-1]):
            nested = {k: nested}
        _apply(cfg, nested, "--set")
    if not all(isinstance(p, str) and p for p in cfg.data.aggregate):
        raise ConfigError(f"data.aggregate must be a list of folder paths, got {cfg.data.aggregate!r}")
    if cfg.model.kind not in ("student", "teacher"):
        raise ConfigError(f"model.kind must be 'student' or 'teacher', got {cfg.model.kind!r}")
    if cfg.model.scenario_branch and cfg.model.kind != "student":
        raise ConfigError("model.scenario_branch is a student option")
    if not 0 <= cfg.model.scenario_memory <= 1024:
        raise ConfigError(f"model.scenario_memory must be 0..1024 features, got {cfg.model.scenario_memory}")
    if (cfg.model.scenario_memory or cfg.model.scenario_previous_frame) and not cfg.model.scenario_branch:
        raise ConfigError("model.scenario_memory and model.scenario_previous_frame need model.scenario_branch = true")
    if cfg.model.scenario_memory and cfg.model.scenario_previous_frame:
        raise ConfigError("model.scenario_memory and model.scenario_previous_frame: choose one")
    if not (0.0 <= cfg.data.mirror <= 1.0):
        raise ConfigError(f"data.mirror is the share of samples mirrored, in [0, 1]; got {cfg.data.mirror!r}")
    if cfg.optim.train not in ("all", "scenario"):
        raise ConfigError(f"optim.train must be 'all' or 'scenario', got {cfg.optim.train!r}")
    if cfg.optim.train == "scenario" and not (cfg.init and cfg.model.scenario_branch):
        raise ConfigError("optim.train = 'scenario' trains a scenario branch on a finished student: set "
                          "model.scenario_branch = true and init = the student's checkpoint")
    return cfg
