"""Numpy reference of every op, and an interpreter for graphs built with :class:`~wayvert.build.EngineBuilder`.

Int8 ops follow :mod:`wayvert.quant` exactly, so the C++ kernels must match them bit for bit.
Float ops compute in float64 and return float32: compare them with a tolerance.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from wayvert import quant
from wayvert.build.builder import EngineBuilder, OpRecord

I8 = npt.NDArray[np.int8]
F32 = npt.NDArray[np.float32]

_ACT = {0: "none", 1: "relu", 2: "relu6", 3: "silu", 4: "gelu"}


def _activate(code: int, x: npt.NDArray[np.float64]) -> Any:
    from wayvert.build.ops import activation_fn

    return activation_fn(_ACT[int(code)])(x)


def _patches(x: npt.NDArray[Any], kh: int, kw: int, stride: tuple[int, int], pad: tuple[int, int, int, int],
             dilation: tuple[int, int], fill: float) -> Any:
    """[N, C, Ho, Wo, kh, kw] windows of x padded with ``fill``."""
    pt, pl, pb, pr = pad
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=fill)
    dh, dw = dilation
    win = np.lib.stride_tricks.sliding_window_view(xp, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    win = win[:, :, :: stride[0], :: stride[1], ::dh, ::dw]
    return win


def conv2d_acc(x: npt.NDArray[Any], w: npt.NDArray[Any], attrs: Mapping[str, Any], fill: float = 0) -> Any:
    """Raw convolution sums [N, Co, Ho, Wo] (int64 for integer inputs, float64 for float)."""
    g = int(attrs.get("groups", 1))
    stride = (int(attrs.get("stride_h", 1)), int(attrs.get("stride_w", 1)))
    pad = (int(attrs.get("pad_top", 0)), int(attrs.get("pad_left", 0)), int(attrs.get("pad_bottom", 0)), int(attrs.get("pad_right", 0)))
    dil = (int(attrs.get("dilation_h", 1)), int(attrs.get("dilation_w", 1)))
    co, cig, kh, kw = w.shape
    wide = np.int64 if np.issubdtype(x.dtype, np.integer) else np.float64
    win = _patches(x.astype(wide), kh, kw, stride, pad, dil, fill)
    outs = []
    cog = co // g
    for gi in range(g):
        xs = win[:, gi * cig:(gi + 1) * cig]
        ws = w[gi * cog:(gi + 1) * cog].astype(wide)
        outs.append(np.einsum("nchwij,ocij->nohw", xs, ws))
    return np.concatenate(outs, axis=1)


def int8_epilogue(acc: npt.NDArray[np.int64], channel_axis: int, bias: npt.NDArray[Any] | None,
                  mult: npt.NDArray[Any], shift: npt.NDArray[Any], out_zero: int, attrs: Mapping[str, Any],
                  residual: npt.NDArray[np.int8] | None, residual_zero: int, lut: npt.NDArray[np.int8] | None) -> Any:
    """The fused int8 epilogue of conv2d/linear, as specified in requantize.hpp."""
    shape = [1] * acc.ndim
    shape[channel_axis] = -1
    a = acc.astype(np.int64)
    if bias is not None:
        a = a + bias.astype(np.int64).reshape(shape)
    v = quant.rescale(a, mult.reshape(shape), shift.reshape(shape))
    if residual is not None:
        r = quant.rescale(residual.astype(np.int64) - residual_zero, int(attrs["residual_multiplier"]), int(attrs["residual_shift"]))
        v = quant.rescale(v + r, 1, quant.SUM_FRACTION_BITS)
    q = np.clip(v + out_zero, int(attrs.get("act_min", -128)), int(attrs.get("act_max", 127)))
    if lut is not None:
        return lut[q + 128].astype(np.int8)
    return q.astype(np.int8)


class _Interp:
    def __init__(self, b: EngineBuilder) -> None:
        self.b = b
        self.env: dict[str, npt.NDArray[Any]] = {}

    def t(self, name: str | None) -> Any:
        assert name is not None
        return self.b.values[name].tensor

    def val(self, name: str | None) -> Any:
        if name is None:
            return None
        rec = self.b.values[name]
        return rec.data if rec.data is not None else self.env[name]

    def run_op(self, op: OpRecord) -> Any:
        ins = [self.val(n) for n in op.inputs]
        a = op.attrs
        out = self.t(op.outputs[0])
        t0: Any = self.t(op.inputs[0]) if op.inputs[0] else None
        if op.op_type in ("conv2d", "linear"):
            x, w = ins[0], ins[1]
            bias, mult, shift, res, lut = (ins + [None] * 7)[2:7]
            if x.dtype == np.int8:
                if op.op_type == "conv2d":
                    acc = conv2d_acc(x.astype(np.int64) - t0.zero_point, w, a, fill=0)
                    axis = 1
                else:
                    acc = (x.astype(np.int64) - t0.zero_point) @ w.astype(np.int64).T
                    axis = acc.ndim - 1
                rz = self.t(op.inputs[5]).zero_point if res is not None else 0
                zero = int(a.get("lut_zero_point", out.zero_point)) if lut is not None else out.zero_point
                return int8_epilogue(acc, axis, bias, mult, shift, zero, a, res, rz, lut)
            if op.op_type == "conv2d":
                y = conv2d_acc(x, w, a)
                if bias is not None:
                    y = y + bias.astype(np.float64).reshape(1, -1, 1, 1)
            else:
                y = x.astype(np.float64) @ w.astype(np.float64).T
                if bias is not None:
                    y = y + bias.astype(np.float64)
            if res is not None:
                y = y + res
            return _activate(int(a.get("activation", 0)), y).astype(np.float32)
        if op.op_type == "add":
            x, c = ins[0], ins[1]
            if x.dtype == np.int8:
                tb = self.t(op.inputs[1])
                v = quant.rescale(
                    quant.rescale(x.astype(np.int64) - t0.zero_point, a["a_multiplier"], a["a_shift"])
                    + quant.rescale(c.astype(np.int64) - tb.zero_point, a["b_multiplier"], a["b_shift"]),
                    1, quant.SUM_FRACTION_BITS)
                lut = ins[2] if len(ins) > 2 else None
                v = v + (int(a.get("lut_zero_point", out.zero_point)) if lut is not None else out.zero_point)
                q = np.clip(v, int(a.get("act_min", -128)), int(a.get("act_max", 127)))
                return (lut[q + 128] if lut is not None else q).astype(np.int8)
            return _activate(int(a.get("activation", 0)), x.astype(np.float64) + c).astype(np.float32)
        if op.op_type == "global_avg_pool":
            x = ins[0]
            n, c = x.shape[:2]
            if x.dtype == np.int8:
                s = (x.astype(np.int64) - t0.zero_point).reshape(n, c, -1).sum(axis=2)
                q = np.clip(quant.rescale(s, a["multiplier"], a["shift"]) + out.zero_point, -128, 127).astype(np.int8)
            else:
                q = x.astype(np.float64).reshape(n, c, -1).mean(axis=2).astype(np.float32)
            return q.reshape(out.shape)
        if op.op_type == "quantize":
            if ins[0].dtype == np.uint8:   # bytes through a table per channel (axis 1) or one table
                x, table = ins[0], ins[1].reshape(-1, 256)
                if table.shape[0] == 1:
                    return table[0][x]
                c = np.arange(x.shape[1]).reshape((1, -1) + (1,) * (x.ndim - 2))
                return table[c, x].astype(np.int8)
            if ins[0].dtype == np.int8:    # requantization through its table
                return np.asarray(ins[1].reshape(-1)[ins[0].astype(np.int64) + 128], np.int8)
            return quant.quantize(ins[0], out.scale, out.zero_point)
        if op.op_type == "dequantize":
            return quant.dequantize(ins[0], t0.scale, t0.zero_point)
        if op.op_type == "reshape":
            return ins[0].reshape(out.shape)
        if op.op_type == "permute":
            perm = [int(a[f"perm{i}"]) for i in range(len(out.shape))]
            return np.ascontiguousarray(ins[0].transpose(perm))
        if op.op_type == "concat":
            return np.concatenate(ins, axis=int(a["axis"]))
        if op.op_type == "layernorm":
            x = ins[0].astype(np.float64)
            mu = x.mean(axis=-1, keepdims=True)
            var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
            y = (x - mu) / np.sqrt(var + float(a.get("eps", 1e-5))) * ins[1] + ins[2]
            return y.astype(np.float32)
        if op.op_type == "attention":
            q, k, v = (z.astype(np.float64) for z in ins)
            h = int(a["num_heads"])
            bsz, lq, d = q.shape
            dh = d // h
            qh = q.reshape(bsz, lq, h, dh).transpose(0, 2, 1, 3)
            kh = k.reshape(bsz, -1, h, dh).transpose(0, 2, 1, 3)
            vh = v.reshape(bsz, -1, h, dh).transpose(0, 2, 1, 3)
            s = qh @ kh.transpose(0, 1, 3, 2) / np.sqrt(dh)
            s = np.exp(s - s.max(axis=-1, keepdims=True))
            p = s / s.sum(axis=-1, keepdims=True)
            return (p @ vh).transpose(0, 2, 1, 3).reshape(bsz, lq, d).astype(np.float32)
        if op.op_type == "mul" and ins[0].dtype == np.int8:
            tb = self.t(op.inputs[1])
            p = (ins[0].astype(np.int64) - t0.zero_point) * (ins[1].astype(np.int64) - tb.zero_point)
            v = quant.rescale(p, a["multiplier"], a["shift"]) + out.zero_point
            return np.clip(v, int(a.get("act_min", -128)), int(a.get("act_max", 127))).astype(np.int8)
        if op.op_type in _NEW_OPS:
            return _NEW_OPS[op.op_type](ins, a, t0, out)
        raise NotImplementedError(f"no reference for op {op.op_type!r}")


def initial_state(builder: EngineBuilder) -> dict[str, npt.NDArray[Any]]:
    """Each state value as a new session holds it: the zero point (0 for float)."""
    out = {}
    for name, _ in builder.states:
        t = builder.values[name].tensor
        out[name] = np.full(t.shape, t.zero_point, dtype=t.dtype)
    return out


def run(builder: EngineBuilder, inputs: Mapping[str, npt.ArrayLike],
        state: dict[str, npt.NDArray[Any]] | None = None) -> dict[str, npt.NDArray[Any]]:
    """Interpret the builder's graph on ``inputs`` with the numpy references; returns every graph output.

    Recurrent state is read from ``state`` (initial state when None); a given dict is updated in place with
    the state after this run, as a session's state is.
    """
    it = _Interp(builder)
    current = state if state is not None else initial_state(builder)
    for name in builder.inputs:
        it.env[name] = np.asarray(inputs[name])
    for name, _ in builder.states:
        it.env[name] = current[name]
    for op in builder.ops:
        it.env[op.outputs[0]] = it.run_op(op)
    for name, nxt in builder.states:
        current[name] = it.env[nxt]
    return {n: it.env[n] for n in builder.outputs}


# ---- unary, mul, pooling, resize, softmax, matmul, slice (docs/engine-format.md section 8) --------------------

_UNARY = {1: "sigmoid", 2: "tanh", 3: "silu", 4: "gelu", 5: "hardswish", 6: "hardsigmoid"}


def _unary(ins: Any, a: Any, t0: Any, out: Any) -> npt.NDArray[Any]:
    x = ins[0]
    if x.dtype == np.int8:
        return np.asarray(ins[1].reshape(-1)[x.astype(np.int64) + 128].astype(np.int8))
    from wayvert.build.ops import activation_fn

    return activation_fn(_UNARY[int(a["function"])])(x.astype(np.float64)).astype(np.float32)


def _mul(ins: Any, a: Any, t0: Any, out: Any) -> npt.NDArray[Any]:
    x, c = ins[0], ins[1]
    if x.dtype == np.int8:
        raise RuntimeError("int8 mul needs the second operand's zero point: handled in _Interp")
    return np.asarray((x.astype(np.float32) * c.astype(np.float32)).astype(np.float32))


def _windows(x_shape: Any, out: Any, a: Any) -> tuple[Any, ...]:
    kh, kw = int(a["kernel_h"]), int(a["kernel_w"])
    sh, sw = int(a.get("stride_h", kh)), int(a.get("stride_w", kw))
    return kh, kw, sh, sw, int(a.get("pad_top", 0)), int(a.get("pad_left", 0)), int(a.get("pad_bottom", 0)), \
        int(a.get("pad_right", 0)), int(a.get("dilation_h", 1)), int(a.get("dilation_w", 1))


def _max_pool(ins: Any, a: Any, t0: Any, out: Any) -> npt.NDArray[Any]:
    x = ins[0]
    n, c, h, w = x.shape
    ho, wo = out.shape[2:]
    kh, kw, sh, sw, pt, pl, _, _, dh, dw = _windows(x.shape, out, a)
    y = np.empty((n, c, ho, wo), dtype=x.dtype)
    for oy in range(ho):
        rows = [oy * sh - pt + k * dh for k in range(kh)]
        rows = [r for r in rows if 0 <= r < h]
        for ox in range(wo):
            cols = [ox * sw - pl + k * dw for k in range(kw)]
            cols = [q for q in cols if 0 <= q < w]
            y[:, :, oy, ox] = x[:, :, rows][:, :, :, cols].max(axis=(2, 3))
    return y


def _avg_pool(ins: Any, a: Any, t0: Any, out: Any) -> npt.NDArray[Any]:
    x = ins[0]
    n, c, h, w = x.shape
    ho, wo = out.shape[2:]
    kh, kw, sh, sw, pt, pl, pb, pr, _, _ = _windows(x.shape, out, a)
    include = bool(int(a.get("count_include_pad", 0)))
    y = np.empty((n, c, ho, wo), dtype=x.dtype)
    for oy in range(ho):
        y0 = oy * sh - pt
        y1 = min(y0 + kh, h + pb)
        for ox in range(wo):
            x0 = ox * sw - pl
            x1 = min(x0 + kw, w + pr)
            padded = (y1 - y0) * (x1 - x0)
            r0, r1, c0, c1 = max(y0, 0), min(y1, h), max(x0, 0), min(x1, w)
            count = padded if include else (r1 - r0) * (c1 - c0)
            win = x[:, :, r0:r1, c0:c1]
            if x.dtype == np.int8:
                s = (win.astype(np.int64) - t0.zero_point).sum(axis=(2, 3))
                mag = (2 * np.abs(s) + count) // (2 * count)
                y[:, :, oy, ox] = np.clip(np.where(s < 0, -mag, mag) + t0.zero_point, -128, 127)
            else:
                acc = np.zeros((n, c), np.float32)
                for r in range(r0, r1):
                    for q in range(c0, c1):
                        acc = (acc + win[:, :, r - r0, q - c0]).astype(np.float32)
                y[:, :, oy, ox] = acc / np.float32(count)
    return y


def _int_taps(n_in: int, n_out: int, align: bool) -> tuple[list[int], list[int], list[int]]:
    i0s, i1s, fs = [], [], []
    for o in range(n_out):
        if align:
            num, den = (o * (n_in - 1), n_out - 1) if n_out > 1 else (0, 1)
        else:
            num, den = max((2 * o + 1) * n_in - n_out, 0), 2 * n_out
        i0, rem = divmod(num, den)
        f = (2 * rem * 2048 + den) // (2 * den)
        if f == 2048:
            i0, f = i0 + 1, 0
        if i0 >= n_in - 1:
            i0, f = n_in - 1, 0
        i0s.append(i0)
        i1s.append(min(i0 + 1, n_in - 1))
        fs.append(f)
    return i0s, i1s, fs


def _resize(ins: Any, a: Any, t0: Any, out: Any) -> npt.NDArray[Any]:
    x = ins[0]
    h, w = x.shape[2:]
    ho, wo = out.shape[2:]
    if int(a.get("mode", 0)) == 0:
        return np.asarray(x[:, :, (np.arange(ho) * h) // ho][:, :, :, (np.arange(wo) * w) // wo])
    align = bool(int(a.get("align_corners", 0)))
    if x.dtype == np.int8:
        (y0, y1, fy), (x0, x1, fx) = _int_taps(h, ho, align), _int_taps(w, wo, align)
        z = t0.zero_point
        v = x.astype(np.int64) - z
        fx_, fy_ = np.array(fx, np.int64), np.array(fy, np.int64)[:, None]
        top = v[:, :, y0][:, :, :, x0] * (2048 - fx_) + v[:, :, y0][:, :, :, x1] * fx_
        bot = v[:, :, y1][:, :, :, x0] * (2048 - fx_) + v[:, :, y1][:, :, :, x1] * fx_
        acc = top * (2048 - fy_) + bot * fy_
        mag = (np.abs(acc) + (1 << 21)) >> 22
        return np.asarray(np.clip(np.where(acc < 0, -mag, mag) + z, -128, 127).astype(np.int8))
    def taps(n_in: int, n_out: int) -> tuple[Any, Any, Any]:
        scale = np.float32((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0) if align else np.float32(n_in / n_out)
        o = np.arange(n_out, dtype=np.float32)
        src = scale * o if align else scale * (o + np.float32(0.5)) - np.float32(0.5)
        src = np.maximum(src, np.float32(0)).astype(np.float32)
        i0 = np.minimum(src.astype(np.int64), n_in - 1)
        return i0, np.minimum(i0 + 1, n_in - 1), (src - i0).astype(np.float32)
    (y0, y1, fy), (x0, x1, fx) = taps(h, ho), taps(w, wo)
    fy = fy[:, None]
    top = x[:, :, y0][:, :, :, x0] * (1 - fx) + x[:, :, y0][:, :, :, x1] * fx
    bot = x[:, :, y1][:, :, :, x0] * (1 - fx) + x[:, :, y1][:, :, :, x1] * fx
    return np.asarray((top * (1 - fy) + bot * fy).astype(np.float32))


def _softmax(ins: Any, a: Any, t0: Any, out: Any) -> npt.NDArray[Any]:
    x = ins[0].astype(np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return np.asarray((e / e.sum(axis=-1, keepdims=True)).astype(np.float32))


def _matmul(ins: Any, a: Any, t0: Any, out: Any) -> npt.NDArray[Any]:
    return np.asarray((ins[0].astype(np.float64) @ ins[1].astype(np.float64)).astype(np.float32))


def _slice(ins: Any, a: Any, t0: Any, out: Any) -> npt.NDArray[Any]:
    x = ins[0]
    axis = int(a.get("axis", 0)) % x.ndim
    start, step = int(a.get("start", 0)), int(a.get("step", 1))
    index = [slice(None)] * x.ndim
    index[axis] = slice(start, start + out.shape[axis] * step, step)
    return np.ascontiguousarray(x[tuple(index)])


_NEW_OPS = {"unary": _unary, "mul": _mul, "max_pool2d": _max_pool, "avg_pool2d": _avg_pool, "resize": _resize,
            "softmax": _softmax, "matmul": _matmul, "slice": _slice}


#: The ops whose float form :func:`float_op` computes.
FLOAT_FORM_OPS = tuple(_NEW_OPS)


def float_op(op_type: str, inputs: Sequence[npt.ArrayLike], attrs: Mapping[str, Any],
             out_shape: Sequence[int]) -> npt.NDArray[np.float32]:
    """What the engine's float32 kernel of ``op_type`` (one of FLOAT_FORM_OPS) computes on these float inputs, given
    the op's attributes and output shape (which carries the pooling mode, the resize size and the slice count)."""
    ins = [np.asarray(v, np.float32) for v in inputs]
    return _NEW_OPS[op_type](ins, attrs, None, SimpleNamespace(shape=tuple(int(d) for d in out_shape)))
