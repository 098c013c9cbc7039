"""Driving networks: the Student (int8-runtime op set) and the Teacher (CNN + transformer over cameras and time).

Both return a ``ModelOutput`` dict (heads.py). A checkpoint stores ``model.kind`` and ``model.config``;
``build_model(kind, **config)`` rebuilds the architecture for its state_dict.
"""
from __future__ import annotations

from typing import Any

from .cost import forward_macs
from .driving_model import DrivingModel
from .heads import OUTPUT_KEYS, DrivingHeads, ModelOutput
from .student import Student
from .teacher import Teacher

MODEL_KINDS: dict[str, type[DrivingModel]] = {Student.kind: Student, Teacher.kind: Teacher}


def build_model(kind: str, **config: Any) -> DrivingModel:
    """A new "student" or "teacher" built from constructor arguments (as stored in ``model.config``)."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"model kind {kind!r} is not one of {tuple(MODEL_KINDS)}")
    return MODEL_KINDS[kind](**config)


__all__ = ["DrivingHeads", "DrivingModel", "MODEL_KINDS", "ModelOutput", "OUTPUT_KEYS", "Student", "Teacher",
           "build_model", "forward_macs"]
