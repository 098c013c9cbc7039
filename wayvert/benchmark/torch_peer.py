"""The PyTorch peer, found through the ``wayvert.bench_peers`` entry-point group.

The runtime package never imports PyTorch: the peer module lives in the toolchain (``wayvert.calibration.torch_peer``,
the ``train`` extra) and registers itself in ``pyproject.toml``, the way the toolchain's commands do.
"""
from __future__ import annotations

from importlib.metadata import entry_points
from types import ModuleType

from wayvert.errors import InvalidArgumentError

GROUP = "wayvert.bench_peers"


def load_torch_peer() -> ModuleType:
    """The module with ``TorchRunner``, ``pickled_twin_loader`` and ``torch_twin``; a typed error without the extra."""
    found = [ep for ep in entry_points(group=GROUP) if ep.name == "torch"]
    if not found:
        raise InvalidArgumentError(f"no 'torch' peer registered in the {GROUP!r} entry points "
                                   "(pip install 'wayvert[train]')")
    try:
        module = found[0].load()
    except ImportError as e:
        raise InvalidArgumentError(f"the PyTorch peer needs PyTorch (pip install 'wayvert[train]'): {e}") from e
    assert isinstance(module, ModuleType)
    return module
