"""Small networks built straight from numpy weights: for the demo, the tests and the benchmarks.

Real networks come from the calibration package (torch.export); these exist so the runtime can be
exercised and measured without PyTorch. Activation scales come from a min/max pass of the float
reference over a few random calibration inputs, the same rule a min-max calibrator applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from wayvert import quant, reference
from wayvert.build import ops
from wayvert.build.builder import EngineBuilder, Tensor


@dataclass
class ConvLayer:
    """Float weights of one conv layer plus how it is wired."""

    weight: npt.NDArray[np.float32]
    bias: npt.NDArray[np.float32]
    stride: int = 1
    padding: int = 1
    groups: int = 1
    residual_from: int | None = None  # index of the layer whose output is added before the ReLU


@dataclass
class SampleConvNet:
    """A ResNet-ish camera encoder (conv stack, one residual block, global pool, linear head) in float."""

    input_shape: tuple[int, int, int, int]
    convs: list[ConvLayer]
    head_weight: npt.NDArray[np.float32]
    head_bias: npt.NDArray[np.float32]
    scales: dict[str, tuple[float, int]] = field(default_factory=dict)

    def forward_f32(self, x: npt.NDArray[np.float32]) -> dict[str, npt.NDArray[np.float32]]:
        """Float reference forward pass; returns every intermediate by name ('conv0'.., 'pool', 'head')."""
        acts: dict[str, npt.NDArray[np.float32]] = {}
        h: npt.NDArray[Any] = x
        outs: list[npt.NDArray[Any]] = []
        for i, c in enumerate(self.convs):
            attrs = dict(stride_h=c.stride, stride_w=c.stride, pad_top=c.padding, pad_left=c.padding,
                         pad_bottom=c.padding, pad_right=c.padding, groups=c.groups)
            y = reference.conv2d_acc(h.astype(np.float32), c.weight, attrs) + c.bias.reshape(1, -1, 1, 1)
            if c.residual_from is not None:
                y = y + outs[c.residual_from]
            h = np.maximum(y, 0).astype(np.float32)
            outs.append(h)
            acts[f"conv{i}"] = h
        pooled = h.reshape(h.shape[0], h.shape[1], -1).mean(axis=2).astype(np.float32)
        acts["pool"] = pooled
        acts["head"] = (pooled @ self.head_weight.T + self.head_bias).astype(np.float32)
        return acts

    def calibrate(self, batches: list[npt.NDArray[np.float32]]) -> None:
        """Min-max activation ranges over ``batches`` -> int8 (scale, zero point) per tensor."""
        lo: dict[str, float] = {}
        hi: dict[str, float] = {}
        for x in batches:
            acts = {"input": x, **self.forward_f32(x)}
            for k, v in acts.items():
                lo[k] = min(lo.get(k, 0.0), float(v.min()))
                hi[k] = max(hi.get(k, 0.0), float(v.max()))
        self.scales = {k: quant.choose_scale_zero_point(lo[k], hi[k]) for k in lo}

    def build_int8(self, name: str = "sample_convnet_int8") -> EngineBuilder:
        """The int8 engine: quantize -> int8 convs (fused bias/residual/ReLU) -> int8 pool -> int8 head -> dequantize."""
        if not self.scales:
            raise ValueError("call calibrate() first")
        b = EngineBuilder(name, "1")
        x = b.input("image", "float32", self.input_shape)
        s, z = self.scales["input"]
        h = ops.quantize(b, x, s, z, name="image_q")
        outs: list[Tensor] = []
        for i, c in enumerate(self.convs):
            wq, ws = quant.quantize_weights_per_channel(c.weight)
            os_, oz = self.scales[f"conv{i}"]
            res = outs[c.residual_from] if c.residual_from is not None else None
            h = ops.conv2d(b, h, wq, c.bias, stride=c.stride, padding=c.padding, groups=c.groups, activation="relu",
                           residual=res, weight_scales=ws, out_scale=os_, out_zero_point=oz, name=f"conv{i}")
            outs.append(h)
        ps, pz = self.scales["pool"]
        p = ops.global_avg_pool(b, h, out_scale=ps, out_zero_point=pz, name="pool")
        wq, ws = quant.quantize_weights_per_channel(self.head_weight)
        hs, hz = self.scales["head"]
        y = ops.linear(b, p, wq, self.head_bias, weight_scales=ws, out_scale=hs, out_zero_point=hz, name="head")
        b.output(ops.dequantize(b, y, name="logits"))
        b.meta["quantization"] = {"dtype": "int8", "weights": "symmetric per output channel",
                                  "activations": "affine per tensor", "calibration": "min-max (sample_nets)"}
        return b

    def build_f32(self, name: str = "sample_convnet_f32") -> EngineBuilder:
        """The same network in float32 (no quantization)."""
        b = EngineBuilder(name, "1")
        h = b.input("image", "float32", self.input_shape)
        outs: list[Tensor] = []
        for i, c in enumerate(self.convs):
            res = outs[c.residual_from] if c.residual_from is not None else None
            h = ops.conv2d(b, h, c.weight, c.bias, stride=c.stride, padding=c.padding, groups=c.groups,
                           activation="relu", residual=res, name=f"conv{i}")
            outs.append(h)
        p = ops.global_avg_pool(b, h, name="pool")
        b.output(ops.linear(b, p, self.head_weight, self.head_bias, name="logits"))
        return b


def _he(rng: np.random.Generator, shape: tuple[int, ...]) -> npt.NDArray[np.float32]:
    fan_in = int(np.prod(shape[1:]))
    return np.asarray(rng.normal(size=shape) * np.sqrt(2.0 / fan_in), dtype=np.float32)


def sample_convnet(seed: int = 0, height: int = 64, width: int = 128, channels: int = 3, outputs: int = 16,
                   calibration_batches: int = 4) -> SampleConvNet:
    """A calibrated ResNet-ish encoder: 3->16 s2, 16->32 s2, 32->32 (+res), 32->64 s2, depthwise 64, 64->64 1x1, pool, 64->outputs."""
    rng = np.random.default_rng(seed)
    spec = [(16, channels, 3, 2, 1, 1, None), (32, 16, 3, 2, 1, 1, None), (32, 32, 3, 1, 1, 1, 1),
            (64, 32, 3, 2, 1, 1, None), (64, 1, 3, 1, 1, 64, None), (64, 64, 1, 1, 0, 1, None)]
    convs = [ConvLayer(_he(rng, (co, ci, k, k)), (rng.normal(size=co) * 0.1).astype(np.float32), s, p, g, r)
             for co, ci, k, s, p, g, r in spec]
    net = SampleConvNet((1, channels, height, width), convs, _he(rng, (outputs, 64)),
                        (rng.normal(size=outputs) * 0.1).astype(np.float32))
    net.calibrate([rng.uniform(-1, 1, size=net.input_shape).astype(np.float32) for _ in range(calibration_batches)])
    return net


def conv_relu_linear(seed: int = 0) -> EngineBuilder:
    """The smallest int8 pipeline worth checking: int8 image -> conv3x3+ReLU -> flatten -> linear -> (int8, float) logits."""
    rng = np.random.default_rng(seed)
    b = EngineBuilder("conv_relu_linear", "1")
    x = b.input("image", "int8", (1, 3, 16, 16), scale=1 / 64, zero_point=-3)
    wq, ws = quant.quantize_weights_per_channel(rng.normal(size=(8, 3, 3, 3)))
    h = ops.conv2d(b, x, wq, rng.normal(size=8), padding=1, activation="relu", weight_scales=ws, out_scale=0.05,
                   out_zero_point=-128, name="conv1")
    f = ops.reshape(b, h, (1, -1), name="flatten")
    w2, s2 = quant.quantize_weights_per_channel(rng.normal(size=(10, f.shape[1])) * 0.05)
    y = ops.linear(b, f, w2, rng.normal(size=10), weight_scales=s2, out_scale=0.25, out_zero_point=0, name="fc")
    b.output(y, ops.dequantize(b, y, name="logits"))
    return b


def vision_ops(seed: int = 0) -> EngineBuilder:
    """Every int8 op a user's vision model brings, in one small graph (for the C++ tests under the sanitizers and
    qemu): uint8 bytes -> normalised int8 table -> conv3x3 -> max pool (ceil mode) -> silu table -> a gate
    (global pool, sigmoid table) multiplied in by broadcast -> average pool with padding -> bilinear and nearest
    resizes -> strided slice -> int8, dequantized and requantized outputs."""
    rng = np.random.default_rng(seed)
    b = EngineBuilder("vision_ops", "1")
    x = b.input("pixels", "uint8", (1, 3, 12, 12), 1.0, 0)
    q = ops.quantize_bytes(b, x, [1 / (255 * 0.229), 1 / (255 * 0.224), 1 / (255 * 0.225)],
                           [-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225], 2.64 / 127, 0, name="normalised")
    wq, ws = quant.quantize_weights_per_channel(rng.normal(size=(6, 3, 3, 3)) * 0.3)
    c = ops.conv2d(b, q, wq, rng.normal(size=6) * 0.1, padding=1, weight_scales=ws, out_scale=0.06, out_zero_point=3,
                   name="conv")
    p = ops.max_pool2d(b, c, 3, 2, (1, 1, 1, 1), ceil_mode=True, name="max_pool")          # [1, 6, 7, 7]
    s = ops.unary(b, p, "silu", out_scale=0.05, out_zero_point=-100, name="silu")
    g = ops.global_avg_pool(b, s, out_scale=0.03, out_zero_point=-20, keepdims=True, name="gate_pool")
    g = ops.unary(b, g, "sigmoid", out_scale=1 / 255, out_zero_point=-128, name="gate")
    m = ops.mul(b, s, g, out_scale=0.04, out_zero_point=-90, name="gated")
    a = ops.avg_pool2d(b, m, 2, 2, (1, 1, 1, 1), count_include_pad=False, name="avg_pool")  # [1, 6, 4, 4]
    up = ops.resize(b, a, (9, 7), "bilinear", False, name="bilinear")
    up = ops.resize(b, up, (18, 14), "nearest", name="nearest")
    y = ops.slice(b, up, 1, 1, 6, 2, name="channels")                                        # [1, 3, 18, 14]
    b.output(y, ops.dequantize(b, y, name="features"), ops.requantize(b, y, 0.01, 5, name="requantized"))
    return b
