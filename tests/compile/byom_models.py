"""Models the compile tests build: what an integrator brings (torchvision-style ResNet blocks, a small vision
transformer block, a two-input fusion net), each exported to ONNX and to ``.pt2`` in a temporary folder."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn


class BasicBlock(nn.Module):
    """torchvision's ResNet BasicBlock: conv-bn-relu, conv-bn, a strided 1x1 projection on the shortcut."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class ResNetTiny(nn.Module):
    """Stem, two BasicBlocks (one strided), global average pool, a classifier: input ``image`` [1, 3, 32, 32]."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.layer1 = BasicBlock(16, 16)
        self.layer2 = BasicBlock(16, 32, stride=2)
        self.fc = nn.Linear(32, classes)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.layer2(self.layer1(self.stem(image)))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class FusionNet(nn.Module):
    """Two inputs with names of their own: a camera crop ``cam`` [1, 3, 24, 24] and a float vector ``state`` [1, 6];
    conv features and an MLP of the state joined, two heads (dict outputs)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU6())
        self.state = nn.Sequential(nn.Linear(6, 16), nn.ReLU())
        self.trunk = nn.Sequential(nn.Linear(16 * 6 * 6 + 16, 32), nn.ReLU())
        self.steer = nn.Linear(32, 2)
        self.speed = nn.Linear(32, 1)

    def forward(self, cam: torch.Tensor, state: torch.Tensor) -> dict[str, torch.Tensor]:
        f = torch.cat([torch.flatten(self.conv(cam), 1), self.state(state)], dim=1)
        h = self.trunk(f)
        return {"steer": self.steer(h), "speed": self.speed(h)}


def seeded(cls: type[nn.Module], seed: int = 0) -> nn.Module:
    """``cls()`` with deterministic weights and non-trivial batch-norm statistics, in eval mode."""
    torch.manual_seed(seed)
    model = cls()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return model.eval()


def example_inputs(model: nn.Module) -> dict[str, torch.Tensor]:
    if isinstance(model, BytesNet):
        return {"pixels": torch.zeros(1, 3, 32, 32, dtype=torch.uint8)}
    if isinstance(model, FusionNet):
        return {"cam": torch.zeros(1, 3, 24, 24), "state": torch.zeros(1, 6)}
    return {"image": torch.zeros(1, 3, 32, 32)}


def samples(model: nn.Module, n: int, seed: int = 1) -> dict[str, np.ndarray]:
    """``n`` random samples per input, stacked on the batch axis (the .npz layout compile reads)."""
    rng = np.random.default_rng(seed)
    if isinstance(model, BytesNet):
        return {"pixels": rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)}
    return {k: rng.normal(size=(n, *v.shape[1:])).astype(np.float32) for k, v in example_inputs(model).items()}


def export_onnx(model: nn.Module, path: Path, dynamo: bool = False) -> Path:
    """The TorchScript exporter at opset 17 with named outputs, or the torch.export-based one (torch's default;
    opset 20, its own output names)."""
    import contextlib
    import io

    ins = example_inputs(model)
    with contextlib.redirect_stdout(io.StringIO()):
        if dynamo:
            torch.onnx.export(model, tuple(ins.values()), str(path), input_names=list(ins), dynamo=True)
        else:
            torch.onnx.export(model, tuple(ins.values()), str(path), input_names=list(ins), dynamo=False,
                              output_names=["steer", "speed"] if isinstance(model, FusionNet) else ["logits"],
                              opset_version=17)
    return path


def export_pt2(model: nn.Module, path: Path) -> Path:
    ins = example_inputs(model)
    with torch.no_grad():
        ep = torch.export.export(model, tuple(ins.values()))
    torch.export.save(ep, str(path))
    return path


class Unsupported(nn.Module):
    """A conv net with three ops wayvert has no kernel for (sin, cumsum, topk) and one it has (the conv)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = torch.sin(self.conv(image))
        x = torch.cumsum(torch.flatten(x, 1), dim=1)
        return torch.topk(x, 5, dim=1).values


class BytesNet(nn.Module):
    """Takes camera bytes: ``pixels`` uint8 [1, 3, 32, 32], normalised per channel (ImageNet mean/std) inside the
    model, then a padded conv stack and a classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.conv = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1), nn.ReLU(), nn.Conv2d(16, 16, 3, 2, 1), nn.ReLU())
        self.fc = nn.Linear(16, 5)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = (pixels.float() / 255.0 - self.mean) / self.std
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.conv(x), 1), 1))


class ViTBlock(nn.Module):
    """A small vision transformer: 8x8 patches of ``image`` [1, 3, 32, 32] -> 16 tokens of 32, a learned position
    embedding, one pre-norm block (4-head attention through F.scaled_dot_product_attention, a GELU MLP), a final
    LayerNorm and a classifier over the flattened tokens."""

    def __init__(self, classes: int = 10, dim: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.patch = nn.Conv2d(3, dim, 8, 8)
        self.pos = nn.Parameter(torch.randn(1, 16, dim) * 0.5)
        self.ln1, self.ln2, self.ln_f = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.q, self.k, self.v, self.proj = (nn.Linear(dim, dim) for _ in range(4))
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.head = nn.Linear(16 * dim, classes)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.patch(image).flatten(2).transpose(1, 2) + self.pos
        b, n, d = x.shape
        h = self.ln1(x)
        split = lambda t: t.view(b, n, self.heads, d // self.heads).transpose(1, 2)  # noqa: E731
        a = nn.functional.scaled_dot_product_attention(split(self.q(h)), split(self.k(h)), split(self.v(h)))
        x = x + self.proj(a.transpose(1, 2).reshape(b, n, d))
        x = x + self.mlp(self.ln2(x))
        return self.head(self.ln_f(x).flatten(1))


class OpZoo(nn.Module):
    """The rest of the op coverage in one net on ``image`` [1, 3, 32, 32]: max pooling (ceil mode), a
    squeeze-and-excitation gate (global pool, linear, sigmoid, a broadcast product), SiLU, a dilated depthwise
    conv subtracted, a broadcast add, average pooling,
    nearest and bilinear upsampling, a channel split and concat, hardswish, tanh and softmax heads."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1), nn.BatchNorm2d(16), nn.ReLU())
        self.se = nn.Sequential(nn.Linear(16, 4), nn.ReLU(), nn.Linear(4, 16))
        self.conv = nn.Conv2d(16, 16, 3, 1, 1)
        self.dw = nn.Conv2d(16, 16, 3, 1, padding=2, dilation=2, groups=16)
        self.up = nn.Conv2d(16, 8, 1)
        self.head = nn.Linear(8 * 16 * 16, 6)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = nn.functional.max_pool2d(self.stem(image), 3, 2, 1, ceil_mode=True)              # [1, 16, 16, 16]
        g = torch.sigmoid(self.se(x.mean(dim=(2, 3)))).view(1, 16, 1, 1)
        x = nn.functional.silu(self.conv(x * g))
        x = x - self.dw(x)                                                 # depthwise, dilated; a difference
        x = x + x.mean(dim=(2, 3), keepdim=True)                           # a broadcast add of [1, 16, 1, 1]
        y = nn.functional.avg_pool2d(x, 2)                                                     # [1, 16, 8, 8]
        a, b = torch.split(y, 8, dim=1)
        y = torch.cat([nn.functional.interpolate(a, scale_factor=2.0, mode="nearest"),
                       nn.functional.interpolate(b, size=(16, 16), mode="bilinear", align_corners=False)], dim=1)
        y = nn.functional.hardswish(self.up(y))
        logits = self.head(torch.flatten(y, 1))
        return torch.softmax(logits, dim=1), torch.tanh(logits)
