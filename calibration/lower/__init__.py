"""Lowering: torch.export graph -> fused wayvert layers (pipeline.py) -> int8 engine graph (emit.py)."""
from .emit import emit_engine
from .errors import LoweringError
from .graph import Graph, Layer
from .pipeline import lower_exported

__all__ = ["Graph", "Layer", "LoweringError", "emit_engine", "lower_exported"]
