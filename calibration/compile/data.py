"""Calibration and held-out data for ``wayvert compile``: an ``.npz`` with one array per model input, first axis =
sample. Every mismatch with the model's inputs (a missing or unknown name, a shape, a dtype, NaN, too few samples)
is one line of one :class:`CalibrationDataError`."""
from __future__ import annotations

import os
import zipfile
from typing import Sequence

import numpy as np

from wayvert.errors import InputError

from ..lower.from_onnx import InputSpec

HELD_OUT_SHARE = 0.2   # without --val, the last 20% of the samples are held out


class CalibrationDataError(InputError):
    """The calibration (or held-out) file does not match the model's inputs; ``problems`` has one line each."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        self.problems = list(problems)
        super().__init__(message + "".join(f"\n  - {p}" for p in self.problems))


def load_samples(path: str | os.PathLike[str], inputs: Sequence[InputSpec]) -> list[dict[str, np.ndarray]]:
    """One ``{input: array shaped as the model input}`` dict per sample of ``path``.

    An array may hold the samples stacked on a new first axis (``[S, *shape]``) or, for an input whose batch axis
    is 1, along that axis (``[S, *shape[1:]]``)."""
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise CalibrationDataError(f"{path}: no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise CalibrationDataError(f"{path}: not a readable .npz file ({e})") from None
    problems = []
    names = [s.name for s in inputs]
    for extra in sorted(set(arrays) - set(names)):
        problems.append(f"array {extra!r} is not a model input (the inputs are {names})")
    counts = {}
    per_sample: dict[str, np.ndarray] = {}
    for s in inputs:
        if s.name not in arrays:
            problems.append(f"input {s.name!r} {s.dtype} {list(s.shape)} has no array")
            continue
        a = arrays[s.name]
        if a.ndim >= 1 and tuple(a.shape[1:]) == s.shape:
            per_sample[s.name] = a
        elif s.shape and s.shape[0] == 1 and tuple(a.shape[1:]) == s.shape[1:]:
            per_sample[s.name] = a[:, None]
        else:
            problems.append(f"input {s.name!r}: array shape {list(a.shape)} is neither [samples, *{list(s.shape)}] "
                            f"nor [samples, *{list(s.shape[1:])}]")
            continue
        if s.dtype in ("uint8", "int8") and a.dtype != np.dtype(s.dtype):
            problems.append(f"input {s.name!r} is {s.dtype}; the array is {a.dtype}")
        elif s.dtype == "float32" and not np.issubdtype(a.dtype, np.floating):
            problems.append(f"input {s.name!r} is float32; the array is {a.dtype}")
        elif np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
            problems.append(f"input {s.name!r}: the array holds NaN or inf")
        counts[s.name] = a.shape[0]
    if len(set(counts.values())) > 1:
        problems.append("the arrays hold different numbers of samples: "
                        + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if not problems and counts and min(counts.values()) == 0:
        problems.append("the arrays hold no samples")
    if problems:
        raise CalibrationDataError(f"{path} does not match the model's inputs:", problems)
    n = next(iter(counts.values()))
    dtypes = {s.name: np.dtype(s.dtype) for s in inputs}
    return [{k: np.ascontiguousarray(v[i]).astype(dtypes[k]) for k, v in per_sample.items()} for i in range(n)]


def split(samples: list[dict[str, np.ndarray]], val: list[dict[str, np.ndarray]] | None
          ) -> tuple[list[dict[str, np.ndarray]], list[dict[str, np.ndarray]], str]:
    """(calibration samples, held-out samples, description): ``val`` if given, else the last 20% held out."""
    if val is not None:
        return samples, val, "--val"
    if len(samples) < 2:
        raise CalibrationDataError("one sample cannot be split into calibration and held-out samples: give more, or --val")
    cut = max(1, min(len(samples) - 1, int(round(len(samples) * (1.0 - HELD_OUT_SHARE)))))
    return samples[:cut], samples[cut:], f"the last {len(samples) - cut} of {len(samples)} samples"
