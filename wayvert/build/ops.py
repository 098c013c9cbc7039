"""Typed helpers that add one op each to an :class:`EngineBuilder`: they infer output shapes and, for
int8 ops, turn real scales into the fixed-point multipliers the runtime uses (:mod:`wayvert.quant`).
"""

from __future__ import annotations

import builtins
from typing import Callable, Sequence

import numpy as np
import numpy.typing as npt

from wayvert import quant
from wayvert.build.builder import EngineBuilder, Tensor
from wayvert.errors import BuildError

ACTIVATIONS = {"none": 0, "relu": 1, "relu6": 2, "silu": 3, "gelu": 4}
#: The ``unary`` op's ``function`` codes (docs/engine-format.md, unary).
UNARY_FUNCTIONS = {"sigmoid": 1, "tanh": 2, "silu": 3, "gelu": 4, "hardswish": 5, "hardsigmoid": 6}


def _pair(v: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(v, int):
        return v, v
    a, b = v
    return int(a), int(b)


def activation_fn(name: str) -> Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]:
    """The float definition of a fused activation (used for LUTs and references)."""
    from math import erf, sqrt

    if name == "none":
        return lambda x: x
    if name == "relu":
        return lambda x: np.maximum(x, 0.0)
    if name == "relu6":
        return lambda x: np.clip(x, 0.0, 6.0)
    if name == "silu":
        return lambda x: x * 0.5 * (1.0 + np.tanh(0.5 * x))  # x * sigmoid(x), without exp overflow
    if name == "gelu":
        verf = np.vectorize(erf)
        return lambda x: 0.5 * x * (1.0 + verf(x / sqrt(2.0)))
    if name == "sigmoid":
        return lambda x: 0.5 * (1.0 + np.tanh(0.5 * x))
    if name == "tanh":
        return np.tanh
    if name == "hardswish":
        return lambda x: x * np.clip(x + 3.0, 0.0, 6.0) / 6.0
    if name == "hardsigmoid":
        return lambda x: np.clip(x + 3.0, 0.0, 6.0) / 6.0
    raise BuildError(f"unknown activation {name!r} (use one of {sorted(ACTIVATIONS)} or {sorted(UNARY_FUNCTIONS)})")


def activation_lut(name: str, pre_scale: float, pre_zero: int, out_scale: float, out_zero: int) -> npt.NDArray[np.int8]:
    """256-entry int8 table mapping a pre-activation int8 code (index = code + 128) to the output code."""
    codes = np.arange(-128, 128, dtype=np.float64)
    y = activation_fn(name)((codes - pre_zero) * pre_scale)
    return _quantize_table(y, out_scale, out_zero)


def _relu_bounds(activation: str, out_scale: float, out_zero: int) -> tuple[int, int]:
    """int8 clamp bounds of ReLU / ReLU6 at the output's (scale, zero point); 6.0 rounds half away from zero."""
    if activation == "relu":
        return out_zero, 127
    six = float(quant.round_half_away(np.array([6.0 / out_scale]))[0])
    return out_zero, int(min(127.0, out_zero + six))


def _int8_epilogue(
    b: EngineBuilder, name: str, x: Tensor, w_scales: npt.NDArray[np.float64], bias: npt.ArrayLike | None,
    out_scale: float, out_zero: int, activation: str, residual: Tensor | None, pre_scale: float | None,
    pre_zero: int,
) -> tuple[list[Tensor | None], dict[str, int | float]]:
    """Constants and attributes of the int8 epilogue (slots 2..6)."""
    channels = len(w_scales)
    attrs: dict[str, int | float] = {}
    target_scale = out_scale
    lut = None
    if activation in ("silu", "gelu"):
        if pre_scale is None:
            raise BuildError(f"{name}: int8 {activation} needs pre_scale (the calibrated pre-activation scale)")
        target_scale = pre_scale
        lut = b.constant(f"{name}.lut", activation_lut(activation, pre_scale, pre_zero, out_scale, out_zero))
        attrs["lut_zero_point"] = int(pre_zero)
    elif activation in ("relu", "relu6"):
        lo, hi = _relu_bounds(activation, out_scale, out_zero)
        attrs.update(act_min=lo, act_max=hi)
    elif activation != "none":
        raise BuildError(f"{name}: unknown activation {activation!r}")
    fraction = 2**quant.SUM_FRACTION_BITS if residual is not None else 1
    enc = [quant.quantize_multiplier(x.scale * float(sw) / target_scale * fraction) for sw in w_scales]
    mult = b.constant(f"{name}.multiplier", np.array([m for m, _ in enc], dtype=np.int32))
    shift = b.constant(f"{name}.shift", np.array([s for _, s in enc], dtype=np.int32))
    bias_t = None
    if bias is not None:
        bias_arr = np.asarray(bias)
        if bias_arr.dtype != np.int32:  # a float bias is quantized at scale x_scale * w_scale
            bias_arr = np.clip(quant.round_half_away(bias_arr.astype(np.float64) / (x.scale * w_scales)), -(2**31), 2**31 - 1).astype(np.int32)
        if bias_arr.shape != (channels,):
            raise BuildError(f"{name}: bias must have {channels} elements, got shape {bias_arr.shape}")
        bias_t = b.constant(f"{name}.bias", bias_arr)
    if residual is not None:
        rm, rs = quant.quantize_multiplier(residual.scale / target_scale * fraction)
        attrs.update(residual_multiplier=rm, residual_shift=rs)
    return [bias_t, mult, shift, residual, lut], attrs


def conv2d(
    b: EngineBuilder,
    x: Tensor,
    weight: npt.ArrayLike,
    bias: npt.ArrayLike | None = None,
    *,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    activation: str = "none",
    residual: Tensor | None = None,
    weight_scales: npt.ArrayLike | None = None,
    out_scale: float | None = None,
    out_zero_point: int = 0,
    pre_scale: float | None = None,
    pre_zero_point: int = 0,
    name: str = "conv2d",
) -> Tensor:
    """2-D convolution (NCHW) with fused bias, residual and activation.

    Float32 ``x``: ``weight`` and ``bias`` are float arrays. Int8 ``x``: ``weight`` is int8 with
    per-output-channel ``weight_scales``, ``bias`` int32 (or float, quantized here) and ``out_scale``
    is required. ``padding`` is an int, (h, w) or (top, left, bottom, right).
    """
    w = np.asarray(weight)
    if w.ndim != 4 or len(x.shape) != 4:
        raise BuildError(f"{name}: expects x [N, C, H, W] and weight [Co, C/groups, kh, kw]")
    sh, sw = _pair(stride)
    dh, dw = _pair(dilation)
    pad = (padding, padding, padding, padding) if isinstance(padding, int) else tuple(int(p) for p in padding)
    if len(pad) == 2:
        pad = (pad[0], pad[1], pad[0], pad[1])
    pt, pl, pb, pr = pad
    n, _, h, wd = x.shape
    co, _, kh, kw = w.shape
    ho = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    attrs: dict[str, int | float] = dict(stride_h=sh, stride_w=sw, pad_top=pt, pad_left=pl, pad_bottom=pb,
                                         pad_right=pr, dilation_h=dh, dilation_w=dw, groups=groups)
    shape = (n, co, ho, wo)
    return _with_epilogue(b, "conv2d", x, w, bias, shape, attrs, activation, residual, weight_scales, out_scale,
                          out_zero_point, pre_scale, pre_zero_point, name)


def linear(
    b: EngineBuilder,
    x: Tensor,
    weight: npt.ArrayLike,
    bias: npt.ArrayLike | None = None,
    *,
    activation: str = "none",
    residual: Tensor | None = None,
    weight_scales: npt.ArrayLike | None = None,
    out_scale: float | None = None,
    out_zero_point: int = 0,
    pre_scale: float | None = None,
    pre_zero_point: int = 0,
    name: str = "linear",
) -> Tensor:
    """``y = x @ weight.T + bias`` over the last dimension, same epilogue rules as :func:`conv2d`."""
    w = np.asarray(weight)
    if w.ndim != 2 or x.shape[-1] != w.shape[1]:
        raise BuildError(f"{name}: weight must be [Co, K] with K = {x.shape[-1]}, got {w.shape}")
    shape = tuple(x.shape[:-1]) + (int(w.shape[0]),)
    return _with_epilogue(b, "linear", x, w, bias, shape, {}, activation, residual, weight_scales, out_scale,
                          out_zero_point, pre_scale, pre_zero_point, name)


def _with_epilogue(
    b: EngineBuilder, op_type: str, x: Tensor, w: npt.NDArray[np.generic], bias: npt.ArrayLike | None,
    shape: tuple[int, ...], attrs: dict[str, int | float], activation: str, residual: Tensor | None,
    weight_scales: npt.ArrayLike | None, out_scale: float | None, out_zero: int, pre_scale: float | None,
    pre_zero: int, name: str,
) -> Tensor:
    if x.dtype == "float32":
        if activation not in ACTIVATIONS:
            raise BuildError(f"{name}: unknown activation {activation!r}")
        wt = b.constant(f"{name}.weight", w.astype(np.float32))
        bt = b.constant(f"{name}.bias", np.asarray(bias, dtype=np.float32)) if bias is not None else None
        attrs["activation"] = ACTIVATIONS[activation]
        (y,) = b.op(op_type, [x, wt, bt, None, None, residual, None], [Tensor(name, "float32", shape)], attrs)
        return y
    if x.dtype != "int8":
        raise BuildError(f"{name}: input dtype {x.dtype} not supported")
    if w.dtype != np.int8 or weight_scales is None or out_scale is None:
        raise BuildError(f"{name}: int8 input needs int8 weight, weight_scales and out_scale")
    scales = np.asarray(weight_scales, dtype=np.float64).reshape(-1)
    if scales.shape[0] != w.shape[0]:
        raise BuildError(f"{name}: {scales.shape[0]} weight scales for {w.shape[0]} output channels")
    wt = b.constant(f"{name}.weight", w, scale=float(scales.max()))
    slots, ep_attrs = _int8_epilogue(b, name, x, scales, bias, out_scale, out_zero, activation, residual, pre_scale, pre_zero)
    attrs.update(ep_attrs)
    (y,) = b.op(op_type, [x, wt, *slots], [Tensor(name, "int8", shape, float(out_scale), int(out_zero))], attrs)
    return y


def add(
    b: EngineBuilder, a: Tensor, c: Tensor, *, activation: str = "none", out_scale: float | None = None,
    out_zero_point: int = 0, name: str = "add",
) -> Tensor:
    """Elementwise ``a + c`` (same shapes). For int8, ``out_scale`` is required; activation none/relu/relu6."""
    if a.shape != c.shape or a.dtype != c.dtype:
        raise BuildError(f"{name}: a {a.dtype}{list(a.shape)} and b {c.dtype}{list(c.shape)} must match")
    if a.dtype == "float32":
        (y,) = b.op("add", [a, c], [Tensor(name, "float32", a.shape)], {"activation": ACTIVATIONS[activation]})
        return y
    if out_scale is None:
        raise BuildError(f"{name}: int8 add needs out_scale")
    f = 2**quant.SUM_FRACTION_BITS
    ma, sa = quant.quantize_multiplier(a.scale / out_scale * f)
    mb, sb = quant.quantize_multiplier(c.scale / out_scale * f)
    attrs: dict[str, int | float] = dict(a_multiplier=ma, a_shift=sa, b_multiplier=mb, b_shift=sb)
    if activation in ("relu", "relu6"):
        lo, hi = _relu_bounds(activation, out_scale, out_zero_point)
        attrs.update(act_min=lo, act_max=hi)
    elif activation != "none":
        raise BuildError(f"{name}: int8 add supports none/relu/relu6")
    (y,) = b.op("add", [a, c], [Tensor(name, "int8", a.shape, float(out_scale), int(out_zero_point))], attrs)
    return y


def global_avg_pool(
    b: EngineBuilder, x: Tensor, *, out_scale: float | None = None, out_zero_point: int = 0, keepdims: bool = False,
    name: str = "pool",
) -> Tensor:
    """Mean over H and W of [N, C, H, W] -> [N, C] (or [N, C, 1, 1] with ``keepdims``)."""
    n, c, h, w = x.shape
    shape = (n, c, 1, 1) if keepdims else (n, c)
    if x.dtype == "float32":
        (y,) = b.op("global_avg_pool", [x], [Tensor(name, "float32", shape)])
        return y
    scale = x.scale if out_scale is None else out_scale
    m, s = quant.quantize_multiplier(x.scale / (scale * h * w))
    (y,) = b.op("global_avg_pool", [x], [Tensor(name, "int8", shape, float(scale), int(out_zero_point))],
                {"multiplier": m, "shift": s})
    return y


def quantize(b: EngineBuilder, x: Tensor, scale: float, zero_point: int = 0, name: str = "quantize") -> Tensor:
    """float32 -> int8 at (scale, zero_point)."""
    (y,) = b.op("quantize", [x], [Tensor(name, "int8", x.shape, float(scale), int(zero_point))])
    return y


def dequantize(b: EngineBuilder, x: Tensor, name: str = "dequantize") -> Tensor:
    """int8 -> float32."""
    (y,) = b.op("dequantize", [x], [Tensor(name, "float32", x.shape)])
    return y


def reshape(b: EngineBuilder, x: Tensor, shape: Sequence[int], name: str = "reshape") -> Tensor:
    """Same elements, new shape (a -1 entry is inferred)."""
    shp = list(shape)
    total = int(np.prod(x.shape))
    if -1 in shp:
        known = int(np.prod([d for d in shp if d != -1]))
        shp[shp.index(-1)] = total // known
    (y,) = b.op("reshape", [x], [Tensor(name, x.dtype, tuple(shp), x.scale, x.zero_point)])
    return y


def permute(b: EngineBuilder, x: Tensor, perm: Sequence[int], name: str = "permute") -> Tensor:
    """``x.transpose(perm)``."""
    shape = tuple(x.shape[p] for p in perm)
    attrs: dict[str, int | float] = {f"perm{i}": int(p) for i, p in enumerate(perm)}
    (y,) = b.op("permute", [x], [Tensor(name, x.dtype, shape, x.scale, x.zero_point)], attrs)
    return y


def concat(b: EngineBuilder, xs: Sequence[Tensor], axis: int, name: str = "concat") -> Tensor:
    """Join along ``axis``; int8 inputs must share scale and zero point."""
    first = xs[0]
    ax = axis % len(first.shape)
    shape = list(first.shape)
    shape[ax] = sum(t.shape[ax] for t in xs)
    (y,) = b.op("concat", list(xs), [Tensor(name, first.dtype, tuple(shape), first.scale, first.zero_point)], {"axis": ax})
    return y


def layernorm(b: EngineBuilder, x: Tensor, gamma: npt.ArrayLike, beta: npt.ArrayLike, eps: float = 1e-5,
              name: str = "layernorm") -> Tensor:
    """LayerNorm over the last dimension (float32)."""
    g = b.constant(f"{name}.gamma", np.asarray(gamma, dtype=np.float32))
    bt = b.constant(f"{name}.beta", np.asarray(beta, dtype=np.float32))
    (y,) = b.op("layernorm", [x, g, bt], [Tensor(name, "float32", x.shape)], {"eps": float(eps)})
    return y


def attention(b: EngineBuilder, q: Tensor, k: Tensor, v: Tensor, num_heads: int, name: str = "attention") -> Tensor:
    """Fused multi-head softmax(q k^T / sqrt(d)) v on [B, L, D] float32 tensors."""
    (y,) = b.op("attention", [q, k, v], [Tensor(name, "float32", q.shape)], {"num_heads": int(num_heads)})
    return y


def _quantize_table(real: npt.NDArray[np.float64], scale: float, zero_point: int) -> npt.NDArray[np.int8]:
    """The int8 codes of real values at (scale, zero_point): rounded half away from zero, saturated (a quantize
    op's table)."""
    return np.asarray(np.clip(quant.round_half_away(real / float(scale)) + int(zero_point), -128, 127), dtype=np.int8)


def quantize_bytes(b: EngineBuilder, x: Tensor, a: npt.ArrayLike, c: npt.ArrayLike, scale: float, zero_point: int = 0,
                   name: str = "quantize_bytes") -> Tensor:
    """uint8 -> int8 through a table per channel (axis 1): ``y = quantize(a[ch] * x + c[ch])`` at (scale, zero_point),
    computed here in float64 and rounded half away from zero. ``a``/``c`` hold one value, or one per channel:
    the model's normalisation of camera bytes, folded into the conversion."""
    if x.dtype != "uint8":
        raise BuildError(f"{name}: quantize_bytes takes a uint8 tensor, got {x.dtype}")
    av, cv = np.atleast_1d(np.asarray(a, np.float64)), np.atleast_1d(np.asarray(c, np.float64))
    channels = max(av.size, cv.size)
    if channels > 1 and (len(x.shape) < 2 or x.shape[1] != channels or av.size not in (1, channels)
                         or cv.size not in (1, channels)):
        raise BuildError(f"{name}: {channels} per-channel values do not match axis 1 of {list(x.shape)}")
    u = np.arange(256, dtype=np.float64)
    real = np.broadcast_to(av, (channels,))[:, None] * u[None, :] + np.broadcast_to(cv, (channels,))[:, None]
    lut = b.constant(f"{name}.table", _quantize_table(real, scale, zero_point).reshape(-1))
    (y,) = b.op("quantize", [x, lut], [Tensor(name, "int8", x.shape, float(scale), int(zero_point))])
    return y


def unary(b: EngineBuilder, x: Tensor, function: str, *, out_scale: float | None = None, out_zero_point: int = 0,
          name: str = "unary") -> Tensor:
    """``y = f(x)`` for ``function`` in UNARY_FUNCTIONS. int8: ``out_scale`` is required and the op is a 256-entry
    table from x's quantization to the output's (built here in float64, rounded half away from zero)."""
    if function not in UNARY_FUNCTIONS:
        raise BuildError(f"{name}: unknown unary function {function!r} (use one of {sorted(UNARY_FUNCTIONS)})")
    attrs = {"function": UNARY_FUNCTIONS[function]}
    if x.dtype == "float32":
        (y,) = b.op("unary", [x], [Tensor(name, "float32", x.shape)], attrs)
        return y
    if x.dtype != "int8" or out_scale is None:
        raise BuildError(f"{name}: unary takes float32, or int8 with out_scale")
    lut = b.constant(f"{name}.lut", activation_lut(function, x.scale, x.zero_point, float(out_scale), int(out_zero_point)))
    (y,) = b.op("unary", [x, lut], [Tensor(name, "int8", x.shape, float(out_scale), int(out_zero_point))], attrs)
    return y


def mul(b: EngineBuilder, a: Tensor, c: Tensor, *, out_scale: float | None = None, out_zero_point: int = 0,
        name: str = "mul") -> Tensor:
    """``y = a * c`` with ``c`` broadcast to ``a``'s shape (same rank, dims 1 or equal). int8 needs ``out_scale``."""
    if len(c.shape) != len(a.shape) or any(d not in (1, e) for e, d in zip(a.shape, c.shape)):
        raise BuildError(f"{name}: {list(c.shape)} does not broadcast to {list(a.shape)}")
    if a.dtype != c.dtype or a.dtype not in ("float32", "int8"):
        raise BuildError(f"{name}: mul takes two float32 or two int8 operands, got {a.dtype} and {c.dtype}")
    if a.dtype == "float32":
        (y,) = b.op("mul", [a, c], [Tensor(name, "float32", a.shape)])
        return y
    if out_scale is None:
        raise BuildError(f"{name}: int8 mul needs out_scale")
    m, s = quant.quantize_multiplier(a.scale * c.scale / float(out_scale))
    (y,) = b.op("mul", [a, c], [Tensor(name, "int8", a.shape, float(out_scale), int(out_zero_point))],
                {"multiplier": m, "shift": s})
    return y


def _pool_size(n: int, p0: int, p1: int, k: int, s: int, d: int, ceil: bool) -> int:
    span = n + p0 + p1 - d * (k - 1) - 1
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= n + p0:
        out -= 1
    return out


def _pool_covers(n: int, n_out: int, p0: int, k: int, s: int, d: int) -> bool:
    """Whether every output position's window (taps o s - p0 + j d) holds at least one input element."""
    return all(any(0 <= o * s - p0 + j * d < n for j in range(k)) for o in range(n_out))


def _pool(b: EngineBuilder, op: str, x: Tensor, kernel: int | Sequence[int], stride: int | Sequence[int] | None,
          padding: Sequence[int], dilation: int | Sequence[int], ceil_mode: bool, extra: dict[str, int],
          name: str) -> Tensor:
    kh, kw = _pair(kernel)
    sh, sw = _pair(stride) if stride is not None else (kh, kw)
    dh, dw = _pair(dilation)
    pt, pl, pb, pr = (int(p) for p in padding)
    n, c, h, w = x.shape
    ho, wo = _pool_size(h, pt, pb, kh, sh, dh, ceil_mode), _pool_size(w, pl, pr, kw, sw, dw, ceil_mode)
    if ho < 1 or wo < 1:
        raise BuildError(f"{name}: a {kh}x{kw} window (dilation {dh}x{dw}) does not fit in {h}x{w} padded by "
                         f"{(pt, pl, pb, pr)} (top, left, bottom, right)")
    if not (_pool_covers(h, ho, pt, kh, sh, dh) and _pool_covers(w, wo, pl, kw, sw, dw)):
        raise BuildError(f"{name}: a window covers padding only (kernel {kh}x{kw}, dilation {dh}x{dw}, padding "
                         f"{(pt, pl, pb, pr)} on {h}x{w}); the engine needs an input element in every window")
    attrs = {"kernel_h": kh, "kernel_w": kw, "stride_h": sh, "stride_w": sw, "pad_top": pt, "pad_left": pl,
             "pad_bottom": pb, "pad_right": pr, **extra}
    if op == "max_pool2d":
        attrs.update(dilation_h=dh, dilation_w=dw)
    (y,) = b.op(op, [x], [Tensor(name, x.dtype, (n, c, ho, wo), x.scale, x.zero_point)], attrs)
    return y


def max_pool2d(b: EngineBuilder, x: Tensor, kernel: int | Sequence[int], stride: int | Sequence[int] | None = None,
               padding: Sequence[int] = (0, 0, 0, 0), dilation: int | Sequence[int] = 1, ceil_mode: bool = False,
               name: str = "max_pool2d") -> Tensor:
    """Max over NCHW windows; padding (top, left, bottom, right) never wins; int8 keeps x's quantization."""
    return _pool(b, "max_pool2d", x, kernel, stride, padding, dilation, ceil_mode, {}, name)


def avg_pool2d(b: EngineBuilder, x: Tensor, kernel: int | Sequence[int], stride: int | Sequence[int] | None = None,
               padding: Sequence[int] = (0, 0, 0, 0), count_include_pad: bool = False, ceil_mode: bool = False,
               name: str = "avg_pool2d") -> Tensor:
    """Mean over NCHW windows (int8: exact integer mean rounded half away, x's quantization kept)."""
    return _pool(b, "avg_pool2d", x, kernel, stride, padding, 1, ceil_mode,
                 {"count_include_pad": int(bool(count_include_pad))}, name)


def resize(b: EngineBuilder, x: Tensor, size: Sequence[int], mode: str = "nearest", align_corners: bool = False,
           name: str = "resize") -> Tensor:
    """[N, C, H, W] -> [N, C, *size], ``mode`` "nearest" or "bilinear" (docs/engine-format.md, resize)."""
    if mode not in ("nearest", "bilinear"):
        raise BuildError(f"{name}: mode must be 'nearest' or 'bilinear', got {mode!r}")
    ho, wo = (int(v) for v in size)
    attrs = {"mode": 0 if mode == "nearest" else 1}
    if mode == "bilinear":
        attrs["align_corners"] = int(bool(align_corners))
    (y,) = b.op("resize", [x], [Tensor(name, x.dtype, (x.shape[0], x.shape[1], ho, wo), x.scale, x.zero_point)], attrs)
    return y


def softmax(b: EngineBuilder, x: Tensor, name: str = "softmax") -> Tensor:
    """Softmax over the last axis (float32)."""
    if x.dtype != "float32":
        raise BuildError(f"{name}: softmax runs in float32 (dequantize first), got {x.dtype}")
    (y,) = b.op("softmax", [x], [Tensor(name, "float32", x.shape)])
    return y


def matmul(b: EngineBuilder, a: Tensor, c: Tensor, name: str = "matmul") -> Tensor:
    """``a [..., M, K] @ c [..., K, N]`` (float32, equal batch dims)."""
    if a.dtype != "float32" or c.dtype != "float32":
        raise BuildError(f"{name}: matmul runs in float32 (dequantize first), got {a.dtype} and {c.dtype}")
    if len(a.shape) < 2 or len(c.shape) != len(a.shape) or a.shape[:-2] != c.shape[:-2] or a.shape[-1] != c.shape[-2]:
        raise BuildError(f"{name}: cannot multiply {list(a.shape)} by {list(c.shape)} (ranks >= 2, equal batch dims)")
    (y,) = b.op("matmul", [a, c], [Tensor(name, "float32", tuple(a.shape[:-1]) + (c.shape[-1],))])
    return y


def slice(b: EngineBuilder, x: Tensor, axis: int, start: int, stop: int, step: int = 1,  # noqa: A001
          name: str = "slice") -> Tensor:
    """``x[..., start:stop:step, ...]`` along ``axis`` (Python slicing rules for start/stop)."""
    if not -len(x.shape) <= axis < len(x.shape) or step < 1:
        raise BuildError(f"{name}: axis {axis} of rank {len(x.shape)}, step {step} (>= 1)")
    axis = axis % len(x.shape)
    lo, hi, st = builtins.slice(start, stop, step).indices(x.shape[axis])
    count = len(range(lo, hi, st))
    if count < 1:
        raise BuildError(f"{name}: slice {start}:{stop}:{step} of extent {x.shape[axis]} is empty")
    shape = list(x.shape)
    shape[axis] = count
    (y,) = b.op("slice", [x], [Tensor(name, x.dtype, tuple(shape), x.scale, x.zero_point)],
                {"axis": axis, "start": lo, "step": st})
    return y


def requantize(b: EngineBuilder, x: Tensor, scale: float, zero_point: int = 0, name: str = "requantize") -> Tensor:
    """int8 -> int8 at (scale, zero_point): one table lookup per element (the ``quantize`` op with an int8 input),
    each code's real value ``(q - z_x) s_x`` re-quantized here in float64, rounded half away from zero, saturated."""
    if x.dtype != "int8":
        raise BuildError(f"{name}: requantize takes an int8 tensor, got {x.dtype}")
    real = (np.arange(-128, 128, dtype=np.float64) - x.zero_point) * x.scale
    lut = b.constant(f"{name}.table", _quantize_table(real, scale, zero_point))
    (y,) = b.op("quantize", [x, lut], [Tensor(name, "int8", x.shape, float(scale), int(zero_point))])
    return y
