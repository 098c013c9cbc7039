"""Dependencies run one way: the runtime package ``wayvert`` never imports its toolchain (``wayvert.training``,
``wayvert.calibration``, which install inside it), not even lazily inside a function (../shared/DESIGN.md §2).

Two checks: every runtime module imports in a fresh interpreter where the toolchain and PyTorch cannot be imported,
and no import statement (top level or inside a function, relative ones resolved) in the runtime's source names the
toolchain. The second catches the lazy imports that the first cannot see.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "wayvert"
TOOLCHAIN = ("wayvert.training", "wayvert.calibration", "training", "calibration")
BLOCKED = ("wayvert.training", "wayvert.calibration", "torch")
# Benchmark peers run an engine's float twin in another framework; they import that framework, and nothing else
# from outside the runtime, when a peer is asked for.
OPTIONAL_PEERS = "wayvert.benchmark.peers"
PEER_FRAMEWORKS = ("onnx", "onnxruntime")  # never torch: the PyTorch peer lives in the toolchain


def _within(name: str, roots: tuple[str, ...]) -> bool:
    return any(name == r or name.startswith(r + ".") for r in roots)


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_modules(root: Path = RUNTIME) -> dict[str, Path]:
    """Every module of the runtime package in the source tree: dotted name -> file."""
    return {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def imported_names(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``, at any depth: ``import a.b``, ``from a import
    b`` (both ``a`` and ``a.b``), relative imports resolved against ``module``, and ``importlib.import_module`` /
    ``__import__`` calls with a literal name."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.append((node.lineno, prefix))
            found += [(node.lineno, f"{prefix}.{a.name}") for a in node.names if a.name != "*"]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            f = node.func
            callee = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if callee in ("import_module", "__import__"):
                found.append((node.lineno, node.args[0].value))
    return sorted(found)


def toolchain_imports(root: Path = RUNTIME) -> list[str]:
    """``file:line: name`` for each import of the toolchain in the runtime's source."""
    bad = []
    for module, path in runtime_modules(root).items():
        names = imported_names(path.read_text(), module, path.name == "__init__.py")
        bad += [f"{path.relative_to(root.parent)}:{line}: {name}" for line, name in names
                if _within(name, TOOLCHAIN + ("torch",))]
    return bad


_IMPORT_ALL = r"""
import importlib, importlib.abc, json, sys

BLOCKED = tuple(sys.argv[1].split(","))

class Unimportable(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in BLOCKED):
            raise ModuleNotFoundError(f"{name} is made unimportable by the layering test", name=name)
        return None

sys.meta_path.insert(0, Unimportable())
failed = {}
for name in sys.argv[2:]:
    try:
        importlib.import_module(name)
    except ImportError as e:
        failed[name] = [e.name, f"{type(e).__name__}: {e}"]
import wayvert.cli
wayvert.cli.build_parser().format_help()
leaked = sorted(m for m in sys.modules if any(m == b or m.startswith(b + ".") for b in BLOCKED))
print(json.dumps({"failed": failed, "leaked": leaked}))
"""


def test_runtime_modules_import_without_the_toolchain_or_torch() -> None:
    modules = sorted(runtime_modules())
    assert "wayvert.cli" in modules
    proc = subprocess.run([sys.executable, "-c", _IMPORT_ALL, ",".join(BLOCKED), *modules], capture_output=True,
                          text=True, cwd="/")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    failed = {m: why for m, (missing, why) in report["failed"].items()
              if not (_within(m, (OPTIONAL_PEERS,)) and missing and _within(missing, PEER_FRAMEWORKS))}
    assert not failed, f"runtime modules that need the toolchain or PyTorch: {failed}"
    assert not report["leaked"], report["leaked"]


def test_runtime_source_never_imports_the_toolchain() -> None:
    bad = toolchain_imports()
    assert not bad, "the runtime package imports its toolchain (register a command through the 'wayvert.commands' " \
                    "entry points, or move the shared piece down into wayvert/):\n" + "\n".join(bad)


def test_import_reader_sees_lazy_relative_and_dynamic_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "wayvert" / "demo"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "drive.py").write_text(
        "import numpy as np\n"
        "def drive():\n"
        "    from ..training import schema\n"
        "    from wayvert import calibration\n"
        "    import importlib\n"
        "    return importlib.import_module('wayvert.training.world')\n"
        "from . import figures\n")
    assert toolchain_imports(tmp_path / "wayvert") == [
        f"wayvert/demo/drive.py:{line}: {name}" for line, name in
        [(3, "wayvert.training"), (3, "wayvert.training.schema"), (4, "wayvert.calibration"),
         (6, "wayvert.training.world")]]
