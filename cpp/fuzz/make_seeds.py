"""Write the fuzzers' seed inputs (cpp/fuzz/corpus/): a few byte strings each harness reads as valid, so the fuzzer
starts past the argument checks. The engine harness seeds from the C++ tests' engines (cpp/tests/data).

    python cpp/fuzz/make_seeds.py
"""
from __future__ import annotations

import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent


def f32(*values: float) -> bytes:
    return struct.pack(f"<{len(values)}f", *values)


def verifier_seeds() -> dict[str, bytes]:
    """[modes, points, objects, left, right] then the floats in the harness's order (fuzz_verifier.cpp)."""
    seeds = {}
    for name, speed, lead in (("cruise", 10.0, 40.0), ("close_lead", 12.0, 8.0), ("standstill", 0.0, 5.0)):
        modes, points = 2, 10
        traj = []
        for m in range(modes):
            for i in range(points):
                t = 0.5 * (i + 1)
                traj += [t, speed * t, 0.2 * m * t, 0.0, speed]
        scores = [1.0, 0.5]
        objects = [lead, 0.0, 0.0, speed * 0.5, 4.5, 1.8, 1.0]
        left = [v for i in range(4) for v in (10.0 * i, 1.75)]
        right = [v for i in range(4) for v in (10.0 * i, -1.75)]
        ego = [speed, 0.0, 0.0, 0.0]
        seeds[f"{name}.bin"] = bytes([modes, points, 1, 4, 4]) + f32(*traj, *scores, *objects, *left, *right, *ego) + b"\x00"
    return seeds


def adapter_seeds() -> dict[str, bytes]:
    """One camera (fuzz_sensor_adapter.cpp's byte layout): a pinhole or fisheye looking forward, then its frame."""
    seeds = {}
    for name, fmt, model, size in (("pinhole_rgb", 0, 1, 3), ("fisheye_nv12", 2, 2, 1.5), ("yuyv", 3, 1, 2)):
        w, h = 20, 10
        head = bytes([0, w + 2, h + 2, fmt, 2, 1]) + f32(30.0) + bytes([model + 1])
        cam = f32(12.0, 12.0, 10.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 190.0, 1.5, 0.0, 1.4, 0.0, 0.0, 0.0)
        frame = bytes(((i * 37) % 251 for i in range(int(w * h * size))))
        seeds[f"{name}.bin"] = head + cam + bytes([1]) + frame
    return seeds


def main() -> None:
    for folder, seeds in (("verifier", verifier_seeds()), ("sensor_adapter", adapter_seeds())):
        out = HERE / "corpus" / folder
        out.mkdir(parents=True, exist_ok=True)
        for name, data in seeds.items():
            (out / name).write_bytes(data)
            print(f"wrote {out / name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
