"""The large reference backbone of the benchmarks: the student's signature with a ResNet-style backbone of about
1 GMAC per frame, lowered to a wayvert int8 engine by the project's own ``lower_student``.

Signature (as ``wayvert.training.models.Student``): image [B, 3 cameras, 3, 128, 256] normalised, ego [B, 2]
(speed m/s, yaw rate rad/s), command [B, 4] one-hot -> the driving heads' ``ModelOutput``. Cameras share the
backbone; the flattened 32 x 4 x 8 maps with ego and command feed the student's 2-layer MLP and heads.

Backbone per camera (3x3 convs, each followed by BatchNorm and ReLU; the BatchNorms fold into the convs at
lowering; ``Basic(c)`` is ``relu(x + bn(conv(relu(bn(conv(x))))))``)::

    conv 3->32 s2      64x128      7.1 MMAC
    conv 32->64 s2     32x64      37.7
    conv 64->128 s2    16x32      37.7
    Basic(128)         16x32     151.0
    conv 128->256 s2    8x16      37.7
    conv 256->256 s2    4x8       18.9
    Basic(256)          4x8       37.7
    conv 1x1 256->32    4x8        0.3
                                 ~328 MMAC per camera, ~0.98 GMAC per frame (+ 0.9 MMAC of MLP and heads)

Weights are random (seeded, He init); the BatchNorm statistics are those of the calibration frames (one pass in
training mode), so every layer sees unit-scale activations as a trained network would. Calibration data: frames of
the synthetic world through the canonical rig (``wayvert.benchmark.engine_feeds`` on the shipped engine, whose
``image`` input has the same parameters ``lower_student`` fixes), 16 frames, entropy calibration (the pipeline's
default). The engine is cached in ``_build/bench/`` under a key of this file's text, the installed calibration code
and the shipped engine, so reruns load it in milliseconds (building it takes about 25 s on 2 cores).

Run as a script to (re)build it and print its cost and SQNR: ``.venv/bin/python benches/large_backbone.py``.
"""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "_build" / "bench"
SEED = 0
CALIBRATION_FRAMES = 16
CALIBRATION_SEED = 1000     # engine_feeds seed of the calibration frames (the benchmark's frames use seed 0)
METHOD = "entropy"


def _model_class() -> Any:
    import torch
    from torch import nn

    from wayvert.training.models.heads import DrivingHeads
    from wayvert.training.models.inputs import EGO_COMMAND_FEATURES, EgoCommandFeatures

    def conv_bn_relu(c_in: int, c_out: int, kernel: int = 3, stride: int = 1) -> nn.Sequential:
        conv = nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2, bias=False)
        nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
        return nn.Sequential(conv, nn.BatchNorm2d(c_out), nn.ReLU())

    class Basic(nn.Module):
        """ResNet's basic block without downsampling: relu(x + bn(conv(relu(bn(conv(x))))))."""

        def __init__(self, c: int) -> None:
            super().__init__()
            self.a = conv_bn_relu(c, c)
            self.b = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))
            nn.init.kaiming_normal_(self.b[0].weight, nonlinearity="relu")

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(x + self.b(self.a(x)))

    class LargeBackbone(nn.Sequential):
        """One camera [N, 3, H, W] -> [N, 32, H/32, W/32]."""

        def __init__(self) -> None:
            super().__init__(conv_bn_relu(3, 32, stride=2), conv_bn_relu(32, 64, stride=2),
                             conv_bn_relu(64, 128, stride=2), Basic(128), conv_bn_relu(128, 256, stride=2),
                             conv_bn_relu(256, 256, stride=2), Basic(256), conv_bn_relu(256, 32, kernel=1))

    class LargeStudent(nn.Module):
        """The student's signature and heads around LargeBackbone."""

        kind = "large_student"

        def __init__(self, cameras: int = 3, height: int = 128, width: int = 256, modes: int = 6,
                     hidden: int = 256) -> None:
            super().__init__()
            self.config = dict(cameras=cameras, height=height, width=width, modes=modes, hidden=hidden)
            self.backbone = LargeBackbone()
            self.ego_command = EgoCommandFeatures()
            flat = cameras * 32 * (height // 32) * (width // 32)
            self.trunk = nn.Sequential(nn.Linear(flat + EGO_COMMAND_FEATURES, hidden), nn.ReLU(),
                                       nn.Linear(hidden, hidden), nn.ReLU())
            self.heads = DrivingHeads(hidden, modes)
            with torch.no_grad():  # undo the heads' small start: the outputs should depend on the backbone
                for head in (self.heads.trajectory, self.heads.mode, self.heads.scenario):
                    head.weight.mul_(10.0)

        def forward(self, image: torch.Tensor, ego: torch.Tensor, command: torch.Tensor) -> Any:
            b, v, c, h, w = image.shape
            maps = self.backbone(image.reshape(b * v, c, h, w))
            features = torch.cat([maps.reshape(b, -1), self.ego_command(ego, command)], dim=1)
            return self.heads(self.trunk(features), ego)

    return LargeStudent


def calibration_frames(count: int = CALIBRATION_FRAMES, seed: int = CALIBRATION_SEED) -> list[dict[str, np.ndarray]]:
    """``count`` float feeds (image [3, 3, 128, 256] normalised, ego [1, 2], command [1, 4]) of the synthetic world
    through the canonical rig, on the pixel grid of the engine's int8 image input."""
    import wayvert
    from wayvert.benchmark import engine_feeds

    return engine_feeds(wayvert.Engine.load(wayvert.reference_engine_path()), count=count, seed=seed).float


def build_model(frames: list[dict[str, np.ndarray]]) -> Any:
    """The seeded LargeStudent in eval mode, its BatchNorm statistics those of ``frames``."""
    import torch

    torch.manual_seed(SEED)
    model = _model_class()()
    image = torch.from_numpy(np.stack([f["image"] for f in frames]))
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None  # cumulative average over the pass below
    model.train()
    with torch.no_grad():
        model.backbone(image.reshape(-1, *image.shape[2:]))
    return model.eval()


def backbone_macs(frames_shape: tuple[int, ...] = (3, 3, 128, 256)) -> int:
    """Multiply-accumulates of the backbone convolutions for one frame (all cameras)."""
    import torch

    macs = 0

    def hook(m: Any, _inp: Any, out: Any) -> None:
        nonlocal macs
        k = m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3]
        macs += int(out.numel()) * k

    model = _model_class()().eval()
    handles = [m.register_forward_hook(hook) for m in model.backbone.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        model.backbone(torch.zeros(frames_shape))
    for h in handles:
        h.remove()
    return macs


def _cache_key() -> str:
    """This file, the installed lowering and calibration code, and the shipped engine (the calibration frames'
    parameters): a change to any of them builds the engine again."""
    import wayvert
    import wayvert.calibration as calibration

    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(str(getattr(wayvert, "__version__", "?")).encode())
    for source in sorted(Path(calibration.__file__).parent.rglob("*.py")):
        h.update(source.read_bytes())
    h.update(Path(wayvert.reference_engine_path()).read_bytes())
    return h.hexdigest()[:16]


def engine_path(rebuild: bool = False, progress: bool = False) -> Path:
    """The large backbone's int8 engine (``_build/bench/large_backbone-<key>.wvrt``), built on first use."""
    import wayvert

    path = CACHE / f"large_backbone-{_cache_key()}.wvrt"
    if path.exists() and not rebuild:
        try:
            wayvert.Engine.load(path)
            return path
        except Exception:  # noqa: BLE001 - a format the installed runtime no longer reads: rebuild
            pass
    from wayvert.calibration.student import lower_student
    from wayvert.sensors import shipped_rig
    from wayvert import schema

    frames = calibration_frames()
    model = build_model(frames)
    batches = [(np.stack([f["image"] for f in frames[i:i + 4]]), np.concatenate([f["ego"] for f in frames[i:i + 4]]),
                np.concatenate([f["command"] for f in frames[i:i + 4]])) for i in range(0, len(frames), 4)]
    builder, report = lower_student(model, batches, METHOD, name="large_backbone_int8", progress=progress)
    builder.meta["canonical_rig"] = shipped_rig(schema.CANONICAL_RIG).to_dict()  # engine_feeds renders its frames
    builder.meta["benchmark"] = {"backbone_macs_per_frame": backbone_macs(), "seed": SEED,
                                 "calibration": f"{len(frames)} synthetic-world frames, {METHOD}",
                                 "output_sqnr_db": report.output_sqnr()}
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    builder.write(tmp)
    os.replace(tmp, path)
    return path


def main() -> int:
    import wayvert

    path = engine_path(rebuild="--rebuild" in sys.argv, progress=True)
    engine = wayvert.Engine.load(path)
    print(path, f"{path.stat().st_size:,} bytes")
    for k, v in engine.meta["benchmark"].items():
        print(f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
