"""Latency and power estimates: exact roofline numbers on hand-made engines, the combination rule, power, host runs."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import wayvert
from wayvert.build import EngineBuilder, ops
from wayvert.build.sample_nets import conv_relu_linear
from wayvert.calibration.latency import (HostLatency, OpInfo, ValueInfo, combine_latency, engine_ops, estimate,
                                         measure_host_latency, op_cost, op_costs, plot_latency_by_op)
from wayvert.calibration.profiles import PowerModel, TargetProfile, load_profile, profile_from_dict
from wayvert.errors import InputError, InvalidArgumentError

LAUNCH_US = 5.0


def round_profile(**compute: float | str) -> TargetProfile:
    """1 int8 TOPS and 0.2 fp32 TFLOPS at 50% utilisation, 100 GB/s, 5 us per op: numbers to check by hand."""
    c = dict(int8_tops=1.0, fp16_tflops=0.0, fp32_tflops=0.2, float_precision="fp32", utilisation_int8=0.5,
             utilisation_float=0.5, launch_overhead_us=LAUNCH_US)
    c.update(compute)
    return profile_from_dict({"name": "round", "description": "test", "memory_bandwidth_gbs": 100.0, "compute": c,
                              "power": {"idle_w": 10.0, "w_per_utilised_tops": 2.0, "max_w": 60.0}})


def big_linear() -> EngineBuilder:
    b = EngineBuilder("big_linear", "1")
    x = b.input("x", "int8", (64, 512), scale=0.1, zero_point=0)
    w = np.ones((256, 512), dtype=np.int8)
    b.output(ops.linear(b, x, w, None, weight_scales=np.full(256, 0.01), out_scale=1.0, name="fc"))
    return b


def big_add() -> EngineBuilder:
    b = EngineBuilder("big_add", "1")
    a = b.input("a", "int8", (1, 4, 512, 512), scale=0.1)
    c = b.input("c", "int8", (1, 4, 512, 512), scale=0.1)
    b.output(ops.add(b, a, c, out_scale=0.2, name="sum"))
    return b


def test_big_linear_is_compute_bound_with_its_known_time() -> None:
    (t,) = estimate(big_linear(), round_profile())["per_op"]
    macs = 64 * 256 * 512
    nbytes = 64 * 512 + 256 * 512 + 256 * 4 * 2 + 64 * 256  # x, weight, multiplier + shift (int32), y
    assert (t["macs"], t["ops"], t["bytes"], t["bound"]) == (macs, 2 * macs, nbytes, "compute")
    assert t["compute_ms"] == pytest.approx(2 * macs / 0.5e12 * 1e3, rel=1e-12)  # 0.033554432 ms
    assert t["est_ms"] == pytest.approx(0.033554432 + LAUNCH_US / 1e3, rel=1e-12)
    assert t["memory_ms"] == pytest.approx(nbytes / 100e9 * 1e3, rel=1e-12)


def test_tiny_op_with_big_tensors_is_memory_bound() -> None:
    (t,) = estimate(big_add(), round_profile())["per_op"]
    n = 4 * 512 * 512
    assert (t["macs"], t["ops"], t["bytes"], t["bound"]) == (0, n, 3 * n, "memory")
    assert t["est_ms"] == pytest.approx(3 * n / 100e9 * 1e3 + LAUNCH_US / 1e3, rel=1e-12)  # 0.03145728 + 0.005 ms


def test_roofline_total_is_the_sum_of_ops() -> None:
    e = estimate(conv_relu_linear(), round_profile())
    assert len(e["per_op"]) == 4 and e["latency_roofline_ms"] == pytest.approx(sum(r["est_ms"] for r in e["per_op"]))
    assert e["latency_p99_ms"] == e["latency_roofline_ms"] and e["host_factor"] is None


def test_float_ops_use_the_float_peak_and_the_targets_float_width() -> None:
    b = EngineBuilder("deq", "1")
    x = b.input("x", "int8", (1, 1000), scale=0.1)
    b.output(ops.dequantize(b, x, name="y"))
    b2 = EngineBuilder("q", "1")
    b2.output(ops.quantize(b2, b2.input("x", "float32", (1, 1000)), 0.1, name="y"))
    (deq,), (q,) = op_costs(b), op_costs(b2)
    assert (deq.dtype, q.dtype) == ("int8", "float")
    assert deq.bytes_on(2) == 1000 + 2000 and deq.bytes_on(4) == 1000 + 4000
    fp16 = round_profile(fp16_tflops=0.4, float_precision="fp16")
    assert estimate(b2, fp16)["per_op"][0]["bytes"] == 3000
    assert estimate(b2, fp16)["per_op"][0]["compute_ms"] == pytest.approx(2000 / 0.2e12 * 1e3)


def test_conv_macs_follow_channels_groups_kernel_and_stride() -> None:
    b = EngineBuilder("convs", "1")
    x = b.input("x", "float32", (1, 4, 10, 10))
    h = ops.conv2d(b, x, np.ones((6, 4, 3, 3), np.float32), padding=1, name="dense")  # y [1, 6, 10, 10]
    y = ops.conv2d(b, h, np.ones((6, 1, 3, 3), np.float32), stride=2, padding=1, groups=6, name="dw")  # y [1, 6, 5, 5]
    b.output(y)
    dense, dw = op_costs(b)
    assert dense.macs == 600 * 4 * 9 and dw.macs == 150 * 1 * 9


def test_attention_counts_both_matmuls_and_the_softmax() -> None:
    b = EngineBuilder("attn", "1")
    q = b.input("q", "float32", (1, 10, 16))
    k = b.input("k", "float32", (1, 20, 16))
    b.output(ops.attention(b, q, k, b.input("v", "float32", (1, 20, 16)), num_heads=2))
    (c,) = op_costs(b)
    assert c.macs == 2 * 10 * 20 * 16 and c.ops == 2 * c.macs + 5 * 2 * 10 * 20


def test_unknown_op_is_costed_per_output_element_and_flagged() -> None:
    v = ValueInfo("y", "int8", (2, 3), "activation")
    c = op_cost(OpInfo("frobnicate", (v,), (v,), {}))
    assert (c.ops, c.macs, c.modelled) == (6, 0, False)


def test_graph_read_from_the_file_matches_the_builder(tmp_path) -> None:
    b = conv_relu_linear()
    path = tmp_path / "net.wvrt"
    b.write(path)
    assert engine_ops(path) == engine_ops(b) == engine_ops(wayvert.Engine.load(path))
    assert [o.op_type for o in engine_ops(path)] == wayvert.Engine.load(path).op_types
    conv = engine_ops(path)[0]
    assert conv.attrs["pad_top"] == 1 and conv.inputs[1] is not None and conv.inputs[1].kind == "constant"


def test_engine_without_a_file_raises_invalid_argument() -> None:
    engine = wayvert.Engine.from_bytes(conv_relu_linear().to_bytes())
    with pytest.raises(InvalidArgumentError, match="pass the EngineBuilder or the .wvrt path"):
        engine_ops(engine)


def fake_host(p99_ms: float) -> HostLatency:
    return HostLatency(p99_ms / 2, p99_ms, p99_ms, p99_ms / 2, p99_ms, 200, 1, "avx2", ())


def test_combination_rule_scales_the_roofline_by_the_hosts_tail_and_never_goes_below_it() -> None:
    assert combine_latency(2.0, 1.0, 3.0) == (6.0, 3.0)
    assert combine_latency(2.0, 1.0, 0.5) == (2.0, 0.5)
    target, host = load_profile("orin-class-75w"), round_profile()
    host_roofline = estimate(big_linear(), host)["latency_roofline_ms"]
    e = estimate(big_linear(), target, fake_host(4 * host_roofline), host_profile=host)
    assert e["host_factor"] == pytest.approx(4.0)
    assert e["latency_p99_ms"] == pytest.approx(4.0 * e["latency_roofline_ms"])
    assert e["host_roofline_ms"] == pytest.approx(host_roofline)


def test_power_is_idle_plus_linear_in_achieved_tops_and_capped() -> None:
    model = PowerModel(idle_w=10.0, w_per_utilised_tops=2.0, max_w=60.0)
    tops = [0.0, 0.5, 1.0, 10.0, 24.9, 25.0, 30.0, 1e6]
    watts = [model.power_w(t) for t in tops]
    assert watts == sorted(watts) and watts[0] == 10.0 and watts[3] == 30.0 and watts[-1] == 60.0 == watts[-3]


def test_power_and_energy_follow_ops_per_frame_and_frame_rate() -> None:
    p = round_profile()
    e = estimate(big_linear(), p)
    ops_per_frame = 2 * 64 * 256 * 512
    assert e["achieved_tops"] == pytest.approx(ops_per_frame * 10 / 1e12)
    assert e["power_w"] == pytest.approx(10.0 + 2.0 * e["achieved_tops"])
    assert e["energy_mj_per_frame"] == pytest.approx(e["power_w"] / 10.0 * 1e3)
    assert e["dynamic_energy_mj_per_frame"] == pytest.approx(2.0 * ops_per_frame / 1e12 * 1e3)
    faster = estimate(big_linear(), dataclasses.replace(p, frame_rate_hz=1e7))  # 168 TOPS: far past the 60 W cap
    assert faster["power_w"] == 60.0


def test_budget_checks_compare_with_the_profiles_budgets() -> None:
    p = round_profile()
    assert estimate(big_linear(), p)["meets_latency"] and estimate(big_linear(), p)["meets_power"]
    tight = dataclasses.replace(p, latency_budget_ms=0.01, power_budget_w=5.0)
    e = estimate(big_linear(), tight)
    assert not e["meets_latency"] and not e["meets_power"]


def test_measure_host_latency_returns_ordered_percentiles(tmp_path) -> None:
    path = tmp_path / "net.wvrt"
    conv_relu_linear().write(path)
    m = measure_host_latency(path, runs=30)
    assert 0 < m.p50_ms <= m.p90_ms <= m.p99_ms <= m.max_ms and len(m.samples_ms) == 30 and m.threads == 1
    two = measure_host_latency(wayvert.Engine.load(path), runs=5, threads=2, warmup=1)
    assert len(two.samples_ms) == 10 and 0 < two.p50_ms <= two.p99_ms


def test_measure_host_latency_rejects_wrong_inputs() -> None:
    with pytest.raises(InputError):
        measure_host_latency(conv_relu_linear(), {"image": np.zeros((1, 3, 16, 16), np.float32)}, runs=2)
    with pytest.raises(InvalidArgumentError):
        measure_host_latency(conv_relu_linear(), runs=0)


def test_plot_latency_by_op_writes_a_png(tmp_path) -> None:
    e = estimate(conv_relu_linear(), load_profile("orin-class-75w"), fake_host(1.0))
    out = plot_latency_by_op(e, tmp_path / "ops.png", top=2)
    with open(out, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
