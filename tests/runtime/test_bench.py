"""wayvert bench: rows for the engine and its peers on the same inputs, agreement checked, memory measured."""
import json
import subprocess
import sys

import numpy as np
import pytest

import wayvert
from wayvert.benchmark import bench_engine, engine_feeds, format_table
from wayvert.benchmark.timing import Timing, concurrent_loop, time_loop
from wayvert.errors import InvalidArgumentError

REF = wayvert.reference_engine_path()


def test_feeds_are_world_frames_for_the_reference_engine():
    engine = wayvert.Engine.load(REF)
    feeds = engine_feeds(engine, count=2)
    assert feeds.source == "synthetic world"
    spec = engine.inputs[0]
    img = feeds.engine[0]["image"]
    assert img.dtype == np.int8 and img.shape == tuple(spec.shape) and img.std() > 5  # a picture, not a constant
    np.testing.assert_allclose(feeds.float[0]["image"], (img.astype(np.float32) - spec.zero_point) * spec.scale)
    assert feeds.engine[0]["ego"][0, 0] > 0  # the world's ego moves


def test_timing_percentiles_and_concurrency():
    t = Timing(tuple(float(i) for i in range(1, 101)))
    assert t.p50 == pytest.approx(50.5) and t.p99 == pytest.approx(99.01) and t.min == 1.0
    calls = []
    assert len(time_loop(calls.append, [1, 2], iterations=4, warmup=1).samples) == 4 and calls == [1, 1, 2, 1, 2]
    timing, fps = concurrent_loop([lambda f: None, lambda f: None], [0], iterations=10)
    assert len(timing.samples) == 20 and fps > 0


def test_bench_with_peers_reports_every_row():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("torch")
    rows = bench_engine(REF, compare=["torch", "onnxruntime"], threads=[1, 2], iterations=3, feeds_count=2)
    got = [(r.runtime, r.precision, r.threads) for r in rows]
    peers = [("torch", "fp32"), ("onnxruntime", "fp32"), ("onnxruntime", "int8 QDQ")]
    # at 2 threads: wayvert's intra-op row, then its throughput row (2 one-thread sessions at once)
    assert got == [(rt, p, n) for n in (1, 2) for rt, p in [("wayvert", "int8")] * n + peers]
    assert [r.note for r in rows if r.runtime == "wayvert"] == [
        "1 intra-op thread", "2 intra-op threads", "2 sessions at once, one thread each (throughput)"]
    by = {(r.runtime, r.precision, r.threads): r for r in rows}
    assert by["torch", "fp32", 1].sqnr_db > 100 and by["onnxruntime", "fp32", 1].sqnr_db > 100  # the same float net
    assert 30 < by["wayvert", "int8", 1].sqnr_db < 100  # int8: close, not equal
    assert by["onnxruntime", "int8 QDQ", 1].sqnr_db > 20
    for r in rows:
        assert len(r.timing.samples) == 3 * (2 if "sessions at once" in r.note else 1)
        if r.threads == 1:
            assert r.memory["resident_kib"] > 0 and r.memory["file_bytes"] > 0
    assert by["wayvert", "int8", 1].memory["arena_bytes"] == wayvert.Engine.load(REF).arena_bytes
    table = format_table(rows)
    assert table.count("\n") == len(rows) + 1 and "| wayvert | int8 | 1 |" in table


def test_bench_rejects_bad_arguments():
    with pytest.raises(InvalidArgumentError, match="unknown peer"):
        bench_engine(REF, compare=["tensorrt"])
    with pytest.raises(InvalidArgumentError, match=">= 1"):
        bench_engine(REF, threads=[0])


def test_bench_cli(tmp_path):
    out = tmp_path / "b.json"
    run = lambda *a: subprocess.run([sys.executable, "-m", "wayvert.cli", "bench", *a], capture_output=True,  # noqa: E731
                                    text=True, cwd=tmp_path)
    done = run(REF, "--iterations", "3", "--feeds", "1", "--no-memory", "--json", str(out))
    assert done.returncode == 0, done.stderr
    assert "| wayvert | int8 | 1 |" in done.stdout
    rows = json.loads(out.read_text())["rows"]
    assert rows[0]["calls"] == 3 and rows[0]["p99_ms"] >= rows[0]["p50_ms"] > 0
    assert run(REF, "--compare", "tensorrt").returncode == 2
    assert run(str(tmp_path / "missing.wvrt")).returncode == 3
    (tmp_path / "bad.wvrt").write_bytes(b"not an engine at all" * 10)
    assert run(str(tmp_path / "bad.wvrt")).returncode == 3
    assert run(REF, "--threads", "x").returncode == 2


def test_each_timed_call_of_a_peer_is_one_inference(monkeypatch):
    """A peer row must time one inference per call (it once ran the model once per output: 6x its real time)."""
    pytest.importorskip("onnxruntime")
    from wayvert.benchmark.peers import onnx_model

    calls = []
    real = onnx_model.OrtSession.run
    monkeypatch.setattr(onnx_model.OrtSession, "run", lambda self, feeds: calls.append(1) or real(self, feeds))
    rows = bench_engine(REF, compare=["onnxruntime"], iterations=7, feeds_count=2, memory=False)
    assert len(rows) == 3
    # per ORT row: 5 warm-up + 7 timed + 2 for the agreement check
    assert len(calls) == 2 * (5 + 7 + 2)


def test_a_failing_thread_is_reported_not_hung():
    def bad(_f):
        raise ValueError("session failed")

    for when in ("warm-up", "timed"):
        calls = {"n": 0}

        def flaky(f, calls=calls):
            calls["n"] += 1
            if when == "warm-up" or calls["n"] > 6:
                raise ValueError("session failed")

        with pytest.raises(ValueError, match="session failed"):
            concurrent_loop([lambda f: None, flaky], [0], iterations=10)
    with pytest.raises(ValueError):
        concurrent_loop([bad, bad], [0], iterations=3)


def test_memory_probe_failure_is_a_typed_error(tmp_path):
    from wayvert.benchmark.memory import measure
    from wayvert.errors import InternalError

    (tmp_path / "bad.wvrt").write_bytes(b"x" * 100)
    with pytest.raises(InternalError, match="memory probe of wayvert failed"):
        measure("wayvert", tmp_path / "bad.wvrt")


def test_bench_json_that_cannot_be_written_is_a_usage_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "wayvert.cli", "bench", REF, "--iterations", "1", "--no-memory",
                           "--json", str(tmp_path / "no" / "such" / "dir.json")], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "cannot write --json" in done.stderr
