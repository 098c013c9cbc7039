"""Every error a user of the runtime can meet, as a trigger: docs/errors.md's rows, one function each.

``CASES[id] = (trigger, exception type, message pattern)``: calling ``trigger(tmp_path)`` must raise exactly that
type (or, for a non-error row, return normally) with a message matching the pattern. test_errors_catalogue.py runs
them all and checks that docs/errors.md lists exactly these ids (and the compile ids of tests/compile)."""
from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np

import wayvert
from wayvert import errors as E
from wayvert.build import EngineBuilder, Tensor, ops, sample_nets
from wayvert.curate import CurriculumError, SelectionFileError
from wayvert.index import IndexFileError
from wayvert.safety import EgoState, Reason, Verifier

Trigger = Callable[[Path], Any]


def _engine(tmp: Path) -> Path:
    p = tmp / "net.wvrt"
    sample_nets.conv_relu_linear(seed=0).write(p)
    return p


def _bytes(tmp: Path) -> bytes:
    return _engine(tmp).read_bytes()


def _fix_crc(d: bytearray) -> bytes:
    d[40:44] = struct.pack("<I", zlib.crc32(bytes(d[64:])) & 0xFFFFFFFF)
    return bytes(d)


def _patched_load(tmp: Path, edit: Callable[[bytearray], None], crc: bool = True) -> Any:
    d = bytearray(_bytes(tmp))
    edit(d)
    return wayvert.Engine.from_bytes(_fix_crc(d) if crc else bytes(d))


def _build_and_load(tmp: Path, build: Callable[[EngineBuilder], Tensor]) -> Any:
    b = EngineBuilder("bad", "1")
    b.output(build(b))
    b.write(tmp / "bad.wvrt")
    return wayvert.Engine.load(tmp / "bad.wvrt")


def _session(tmp: Path) -> Any:
    return wayvert.Engine.load(_engine(tmp)).session()


def _image(dtype: Any = np.int8, shape: tuple[int, ...] = (1, 3, 16, 16)) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


def _float_session(tmp: Path) -> Any:
    b = EngineBuilder("f", "1")
    x = b.input("x", "float32", (1, 4))
    b.output(ops.linear(b, x, np.eye(4, dtype=np.float32), name="y"))
    b.write(tmp / "f.wvrt")
    return wayvert.Engine.load(tmp / "f.wvrt").session()


def _traj(modes: int = 2, points: int = 8) -> np.ndarray:
    t = 0.5 * np.arange(1, points + 1, dtype=np.float32)
    one = np.stack([t, 10 * t, 0 * t, 0 * t, 10 + 0 * t], axis=1)
    return np.repeat(one[None], modes, axis=0)


def _verifier() -> Verifier:
    return Verifier(max_modes=4, max_points=16, max_objects=4, max_boundary_points=8)


def _rig_file(tmp: Path, text: str) -> Any:
    p = tmp / "rig.json"
    p.write_text(text)
    from wayvert.sensors import Rig
    return Rig.load(p)


def _rig_dict(change: Callable[[dict[str, Any]], None]) -> Any:
    from wayvert.sensors import Rig, shipped_rig
    d = shipped_rig("fisheye_dashcam").to_dict()
    change(d)
    return Rig.from_dict(d)


def _adapter() -> Any:
    from wayvert import schema
    from wayvert.sensors import SensorAdapter, shipped_rig
    return SensorAdapter(shipped_rig("fisheye_dashcam"), shipped_rig(schema.CANONICAL_RIG))


def _cli(tmp: Path, *args: str) -> None:
    r = subprocess.run([sys.executable, "-m", "wayvert.cli", *args], capture_output=True, text=True, cwd=tmp,
                       timeout=300)
    raise CliExit(r.returncode, r.stdout + r.stderr)


class CliExit(Exception):
    """A CLI row's outcome: the exit code and what it printed (``str`` is "exit N: output")."""

    def __init__(self, code: int, output: str) -> None:
        super().__init__(f"exit {code}: {output}")
        self.code = code


def _set(d: dict[str, Any], path: list[Any], value: Any) -> None:
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = value


CASES: dict[str, tuple[Trigger, type[BaseException] | None, str]] = {
    # ---- engine files ----
    "E01": (lambda t: wayvert.Engine.load(t / "missing.wvrt"), E.EngineIOError, r"missing\.wvrt"),
    "E02": (lambda t: wayvert.Engine.load(t), E.EngineIOError, r""),
    "E03": (lambda t: wayvert.Engine.from_bytes(b""), E.EngineFormatError, r"empty"),
    "E04": (lambda t: _patched_load(t, lambda d: d.__setitem__(slice(0, 8), b"NOTWAYVT"), crc=False),
            E.EngineFormatError, r"magic"),
    "E05": (lambda t: _patched_load(t, lambda d: d.__setitem__(-1, d[-1] ^ 0xFF), crc=False),
            E.EngineFormatError, r"checksum|CRC"),
    "E06": (lambda t: _patched_load(t, lambda d: d.__setitem__(slice(8, 10), struct.pack("<H", 99))),
            E.UnsupportedEngineError, r"engine format 99\.0 is not readable"),
    "E07": (lambda t: _build_and_load(t, lambda b: b.op("fft", [b.input("x", "float32", (4,))],
                                                        [Tensor("y", "float32", (4,))])[0]),
            E.UnsupportedEngineError, r"fft"),
    "E08": (lambda t: _build_and_load(t, lambda b: b.op("softmax", [b.input("x", "float32", (4,))],
                                                        [Tensor("y", "float32", (4,))], {"foo": 1})[0]),
            E.EngineFormatError, r"unknown attribute 'foo'"),
    "E09": (lambda t: _build_and_load(t, lambda b: b.op("linear", [b.input("x", "int8", (1, 4), 0.1, 0),
                                                                   b.constant("w", np.ones((2, 4), np.int8))],
                                                        [Tensor("y", "int8", (1, 2), 0.1, 0)])[0]),
            E.EngineFormatError, r"multiplier"),
    "E10": (lambda t: wayvert.Engine.from_bytes(_bytes(t)[:200]), E.EngineFormatError, r""),
    "E11": (lambda t: _build_and_load(t, lambda b: b.op("add", [b.input("a", "float32", (2, 3)),
                                                                b.input("c", "float32", (3, 2))],
                                                        [Tensor("y", "float32", (2, 3))])[0]),
            E.EngineFormatError, r"one shape"),
    # ---- sessions and their inputs ----
    "S01": (lambda t: _session(t).run({"image": _image(), "imgae": _image()}), E.InputError, r"imgae"),
    "S02": (lambda t: _session(t).run({}), E.InputError, r"image"),
    "S03": (lambda t: _session(t).run({"image": _image(np.float32)}), E.InputError, r"dtype|int8"),
    "S04": (lambda t: _session(t).run({"image": _image(shape=(1, 3, 16, 15))}), E.InputError, r"shape"),
    "S05": (lambda t: _float_session(t).run({"x": np.full((1, 4), np.nan, np.float32)}), E.InputError,
            r"NaN|finite"),
    "S06": (lambda t: wayvert.Engine.load(_engine(t)).session(threads=0), E.InvalidArgumentError, r"threads"),
    "S07": (lambda t: wayvert.Engine.load(_engine(t)).session(threads=2.5), E.InvalidArgumentError, r"integer"),
    "S08": (lambda t: wayvert.Engine.load(_engine(t)).session(threads=65), E.InvalidArgumentError, r"threads"),
    "S09": (lambda t: wayvert.Engine.load(_engine(t)).session(device="gpu"), E.InvalidArgumentError, r"device"),
    "S10": (lambda t: wayvert.Engine.load(_engine(t)).session(device="cuda:99"), E.DeviceError, r"^CUDA: "),
    # ---- verifier ----
    "V01": (lambda t: _verifier().check(np.zeros((2, 8, 4), np.float32), [1, 0], EgoState(10.0)), E.InputError,
            r"\[K, T, 5\]"),
    "V02": (lambda t: _verifier().check(_traj(), [1.0], EgoState(10.0)), E.InputError, r"1 scores for 2 modes"),
    "V03": (lambda t: _verifier().check(_traj(modes=5), np.ones(5), EgoState(10.0)), E.InputError, r"mode"),
    "V04": (lambda t: _verifier().check(_traj(), [1, 0], EgoState(10.0), objects=np.zeros((2, 6))), E.InputError,
            r"objects"),
    "V05": (lambda t: _verifier().check(_traj(), [1, 0], EgoState(10.0),
                                        boundaries=(np.zeros((3, 3)), np.zeros((3, 2)))), E.InputError,
            r"boundary"),
    "V06": (lambda t: _nan_verdict(), None, r""),
    # ---- rigs ----
    "R01": (lambda t: _rig_load(t / "no.json"), E.RigError, r"cannot read rig file"),
    "R02": (lambda t: _rig_file(t, '{"name": "x", "cameras": [}'), E.RigError, r"line 1, column \d+: invalid JSON"),
    "R03": (lambda t: _rig_dict(lambda d: d.pop("cameras")), E.RigError, r"cameras"),
    "R04": (lambda t: _rig_dict(lambda d: _set(d, ["cameras", 0, "pixel_format"], "rgb 16")), E.RigError,
            r"pixel_format"),
    "R05": (lambda t: _rig_dict(lambda d: _set(d, ["cameras", 0, "model", "type"], "orthographic")), E.RigError,
            r"orthographic|type"),
    "R06": (lambda t: _rig_file(t, '{"name": "x", "name": "y", "cameras": []}'), E.RigError, r"appears twice"),
    # ---- sensor adapters ----
    "A01": (lambda t: _adapter().convert([np.zeros((4, 4, 3), np.uint8)]), E.InputError, r"mapping|dict"),
    "A02": (lambda t: _adapter().convert({"not_a_camera": np.zeros((4, 4, 3), np.uint8)}), E.InputError,
            r"not_a_camera"),
    "A03": (lambda t: _adapter().convert({_adapter_camera(): np.zeros((4, 4, 3), np.uint8)}), E.InputError,
            r"shape"),
    "A04": (lambda t: _adapter().convert({_adapter_camera(): np.zeros(_adapter_frame_shape(), np.float32)}),
            E.InputError, r"uint8|dtype"),
    "A05": (lambda t: _builtin_adapter_for("rgb16"), E.UnsupportedEngineError, r"needs a plugin"),
    "P01": (lambda t: _open_plugin(t / "libmissing.so"), E.EngineIOError, r"libmissing"),
    "P02": (lambda t: _open_plugin(_not_a_library(t)), E.EngineIOError, r""),
    # ---- builder ----
    "B01": (lambda t: _dup_name(), E.BuildError, r"already used"),
    "B02": (lambda t: EngineBuilder("x", "1").input("x", "float64", (2,)), E.BuildError, r"dtype"),
    "B03": (lambda t: EngineBuilder("x", "1").input("x", "int8", (2,), 0.0, 0), E.BuildError, r"scale"),
    "B04": (lambda t: ops.unary(EngineBuilder("x", "1"), Tensor("x", "float32", (2,)), "erf"), E.BuildError,
            r"unknown unary function"),
    # ---- command line ----
    "C01": (lambda t: _cli(t, "inspect", "missing.wvrt"), CliExit, r"^exit 3: "),
    "C02": (lambda t: _cli(t, "no-such-command"), CliExit, r"^exit 2: "),
    "C03": (lambda t: _cli(t, "run", str(_engine(t)), "--episode", "missing_episode"), CliExit, r"^exit 4: "),
    "D01": (lambda t: _read_index(t), IndexFileError, r"no index.json: not an index folder"),
    "D02": (lambda t: _curriculum({"selection": {"frames": 10}, "scenario": {"highway": 5}}), CurriculumError,
            r"'highway' is not a class; the classes are"),
    "D03": (lambda t: _curriculum({"selection": {"frames": 10}, "condition": {"fog": {"visibility": 1,
                                                                                     "min_frames": 5}}}),
            CurriculumError, r"condition.fog.visibility: not an index column"),
    "D04": (lambda t: _selection(t, "episode,frame_index\nx,1\n"), SelectionFileError,
            r"line 1 must start with the columns episode_path,frame"),
    "D05": (lambda t: _cli(t, "curate", str(t), "--query", "x:1"), CliExit, r"^exit 4: .*not an index folder"),
}


def _read_index(tmp: Path) -> Any:
    from wayvert.index import read_index

    return read_index(tmp)


def _curriculum(tables: dict[str, Any]) -> Any:
    from wayvert.curate import parse_curriculum

    return parse_curriculum(tables)


def _selection(tmp: Path, text: str) -> Any:
    from wayvert.curate import read_selection

    (tmp / "sel.csv").write_text(text)
    return read_selection(tmp / "sel.csv")


def _rig_load(path: Path) -> Any:
    from wayvert.sensors import Rig
    return Rig.load(path)


def _builtin_adapter_for(pixel_format: str) -> Any:
    from wayvert import schema
    from wayvert.sensors import Rig, SensorAdapter, shipped_rig
    d = shipped_rig("fisheye_dashcam").to_dict()
    d["cameras"][0]["pixel_format"] = pixel_format
    return SensorAdapter(Rig.from_dict(d), shipped_rig(schema.CANONICAL_RIG))


def _nan_verdict() -> None:
    traj = _traj()
    traj[0, 3, 1] = np.nan
    v = _verifier().check(traj, [1, 0], EgoState(10.0))
    assert Reason.INVALID in v.reasons[0] and v.chosen == 1


def _adapter_camera() -> str:
    from wayvert.sensors import shipped_rig
    return shipped_rig("fisheye_dashcam").cameras[0].name


def _adapter_frame_shape() -> tuple[int, ...]:
    from wayvert.sensors import shipped_rig
    c = shipped_rig("fisheye_dashcam").cameras[0]
    return (c.height, c.width, 3)


def _open_plugin(path: Path) -> Any:
    from wayvert import schema
    from wayvert.sensors import SensorAdapter, shipped_rig
    return SensorAdapter.from_plugin(path, shipped_rig("fisheye_dashcam"), shipped_rig(schema.CANONICAL_RIG))


def _not_a_library(tmp: Path) -> Path:
    p = tmp / "libnot.so"
    p.write_text("not a shared library")
    return p


def _dup_name() -> None:
    b = EngineBuilder("x", "1")
    b.input("x", "float32", (2,))
    b.input("x", "float32", (2,))
