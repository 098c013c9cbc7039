"""The ONNX Runtime peer: export, static QDQ quantization, the runner and its accuracy figures."""
from __future__ import annotations

import numpy as np
import pytest
import torch

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from onnx import numpy_helper  # noqa: E402

from wayvert.calibration.onnx_peer import (INPUT_NAMES, OUTPUT_NAMES, BatchReader, OrtRunner,  # noqa: E402
                                           evaluate_onnx_open_loop, export_onnx, quantize_onnx_static,
                                           sqnr_vs_torch)
from wayvert.calibration.onnx_peer.quantize import float_tail_nodes  # noqa: E402
from wayvert.errors import InputError  # noqa: E402
from wayvert.training.evaluate.open_loop import evaluate_open_loop  # noqa: E402
from wayvert.schema import N_WAYPOINTS  # noqa: E402

CAMERAS, HEIGHT, WIDTH = 3, 32, 64   # the conftest student's images
INT8_MIN_SQNR_DB = 15.0   # every output of the u8/s8 QDQ model against the fp32 model, calibration-like inputs


@pytest.fixture(scope="module")
def fp32_path(student, calibration_batches, tmp_path_factory):
    """The tiny student exported with a dynamic batch axis (what the accuracy evaluation runs)."""
    path = tmp_path_factory.mktemp("onnx") / "student_fp32.onnx"
    assert export_onnx(student, path, calibration_batches[0], dynamic_batch=True) == "dynamo"
    return path


@pytest.fixture(scope="module")
def int8_path(fp32_path, calibration_batches):
    """``int8_path(method, **options)`` -> the QDQ model, each quantized once per module."""
    cache: dict[tuple[str, str], object] = {}

    def get(method: str = "minmax", **options):
        key = (method, repr(sorted(options.items())))
        if key not in cache:
            path = fp32_path.with_name(f"student_int8_{len(cache)}.onnx")
            quantize_onnx_static(fp32_path, path, calibration_batches, method, **options)
            cache[key] = path
        return cache[key]
    return get


def _dims(value_info) -> list:
    return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in value_info.type.tensor_type.shape.dim]


def test_fp32_onnx_has_the_engine_inputs_and_the_model_output_names(fp32_path):
    model = onnx.load(fp32_path)
    assert [i.name for i in model.graph.input] == list(INPUT_NAMES)
    assert [o.name for o in model.graph.output] == list(OUTPUT_NAMES)
    assert _dims(model.graph.input[0]) == ["batch", CAMERAS, 3, HEIGHT, WIDTH]
    assert _dims(model.graph.output[0]) == ["batch", 6, N_WAYPOINTS, 4]
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 17
    assert {p.key: p.value for p in model.metadata_props}["wayvert.exporter"] == "dynamo"


def test_fp32_onnx_matches_torch_to_1e_4_relative(student, fp32_path, evaluation_batches):
    image, ego, command = evaluation_batches[0]
    got = OrtRunner(fp32_path).run(image, ego, command)
    with torch.no_grad():
        want = student(image, ego, command)
    for name in OUTPUT_NAMES:
        ref = want[name].numpy()
        np.testing.assert_allclose(got[name], ref, rtol=1e-4, atol=1e-4 * float(np.abs(ref).max()), err_msg=name)


@pytest.mark.parametrize("exporter", ["dynamo", "torchscript"])
def test_batch_1_export_is_fixed_at_batch_1_and_runs_a_batch_one_sample_at_a_time(student, evaluation_batches,
                                                                                  tmp_path, exporter):
    path = tmp_path / "student_b1.onnx"
    assert export_onnx(student, path, evaluation_batches[0], exporter=exporter) == exporter
    assert _dims(onnx.load(path).graph.input[0])[0] == 1
    image, ego, command = evaluation_batches[0]
    got = OrtRunner(path).run(image, ego, command)
    with torch.no_grad():
        want = student(image, ego, command)
    for name in OUTPUT_NAMES:
        ref = want[name].numpy()
        assert got[name].shape == ref.shape
        np.testing.assert_allclose(got[name], ref, rtol=1e-4, atol=1e-4 * float(np.abs(ref).max()), err_msg=name)


def test_int8_model_has_quantize_dequantize_nodes_with_per_channel_7_bit_weights(int8_path):
    model = onnx.load(int8_path("minmax"))
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("QuantizeLinear") > 0 and ops.count("DequantizeLinear") > 0
    producers = {o: n for n in model.graph.node for o in n.output}
    weights = 0
    for node in model.graph.node:
        if node.op_type not in ("Conv", "Gemm"):
            continue
        dq = producers[node.input[1]]
        assert dq.op_type == "DequantizeLinear", f"{node.name}'s weight is not quantized"
        q, scale = init[dq.input[0]], init[dq.input[1]]
        axis = {a.name: a.i for a in dq.attribute}.get("axis")
        assert axis is not None and scale.ndim == 1 and scale.size == q.shape[axis], node.name
        assert q.dtype == np.int8 and -64 <= int(q.min()) and int(q.max()) <= 64, node.name   # reduce_range
        weights += scale.size > 1
    assert weights >= 9 + 2 + 3     # per channel: the backbone's convs, the trunk, the multi-output heads


@pytest.mark.parametrize("method", ["minmax", "entropy", "percentile"])
def test_int8_outputs_stay_within_15_db_of_fp32(student, int8_path, evaluation_batches, method):
    sqnr = sqnr_vs_torch(int8_path(method), student, evaluation_batches)
    assert set(sqnr) == set(OUTPUT_NAMES)
    low = {k: v for k, v in sqnr.items() if not v > INT8_MIN_SQNR_DB}
    assert not low, f"{method}: outputs below {INT8_MIN_SQNR_DB} dB: {low}"
    assert sqnr["trajectories"] < 120.0    # it is quantized: not float32 rounding


def test_float_tail_keeps_the_ego_path_and_the_output_post_processing_float(student, fp32_path, int8_path,
                                                                           evaluation_batches):
    model = onnx.load(fp32_path)
    kept = {n.name: n.op_type for n in model.graph.node if n.name in float_tail_nodes(model)}
    assert "Conv" not in kept.values() and {"Mul", "Add", "Clip"} <= set(kept.values())
    assert sum(op == "Gemm" for op in kept.values()) == 2    # the trajectory prior and the ego speed pick-out
    tail = sqnr_vs_torch(int8_path("minmax", float_tail=True), student, evaluation_batches)
    default = sqnr_vs_torch(int8_path("minmax"), student, evaluation_batches)
    assert tail["trajectories"] > default["trajectories"] + 3.0
    assert tail["target_speed"] > default["target_speed"]


def _activation_scales(path) -> dict[str, float]:
    model = onnx.load(path)
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    return {n.input[0]: float(init[n.input[1]]) for n in model.graph.node if n.op_type == "QuantizeLinear"}


def test_entropy_at_quantize_static_defaults_is_min_max_and_calibrator_options_make_it_search(int8_path):
    minmax = _activation_scales(int8_path("minmax"))
    assert _activation_scales(int8_path("entropy")) == minmax
    searched = _activation_scales(int8_path("entropy", calibrator_options={"num_bins": 256}))
    assert searched.keys() == minmax.keys()
    assert all(searched[k] <= minmax[k] * (1 + 1e-6) for k in minmax)
    assert sum(searched[k] < 0.9 * minmax[k] for k in minmax) >= len(minmax) // 4


def test_batch_reader_yields_exactly_the_given_batches(calibration_batches):
    reader = BatchReader(calibration_batches)
    got = list(iter(reader.get_next, None))
    assert len(got) == len(calibration_batches)
    for feeds, batch in zip(got, calibration_batches):
        assert set(feeds) == set(INPUT_NAMES)
        for name, tensor in zip(INPUT_NAMES, batch):
            assert feeds[name].dtype == np.float32
            np.testing.assert_array_equal(feeds[name], tensor.numpy())
    assert reader.get_next() is None
    reader.rewind()
    np.testing.assert_array_equal(reader.get_next()["ego"], calibration_batches[0][1].numpy())


def test_batch_reader_per_sample_splits_batches_and_normalises_dataset_dicts(make_batch):
    pixels = torch.randint(0, 256, (3, CAMERAS, 3, HEIGHT, WIDTH), dtype=torch.uint8)
    _, ego, command = make_batch(3, seed=7)
    got = list(iter(BatchReader([{"image": pixels, "ego": ego, "command": command}], per_sample=True).get_next, None))
    assert len(got) == 3 and all(f["image"].shape == (1, CAMERAS, 3, HEIGHT, WIDTH) for f in got)
    from wayvert.training.data.dataset import normalize_image
    np.testing.assert_allclose(got[2]["image"][0], normalize_image(pixels[2]).numpy())
    np.testing.assert_array_equal(got[1]["ego"], ego[1:2].numpy())


def test_wrong_input_shape_raises_input_error_naming_the_input(fp32_path, evaluation_batches):
    runner = OrtRunner(fp32_path)
    image, ego, command = evaluation_batches[0]
    with pytest.raises(InputError, match=rf"'image': expected shape \[B, {CAMERAS}, 3, {HEIGHT}, {WIDTH}\]"):
        runner.run(image[:, :, :, :16], ego, command)
    with pytest.raises(InputError, match="'ego'"):
        runner.run(image, ego[:, :1], command)
    with pytest.raises(InputError, match="batch size"):
        runner.run(image, ego[:2], command)
    bad = ego.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(InputError, match="NaN"):
        runner.run(image, bad, command)


def test_unknown_calibrate_method_is_refused(fp32_path, calibration_batches, tmp_path):
    with pytest.raises(ValueError, match="calibrate_method"):
        quantize_onnx_static(fp32_path, tmp_path / "x.onnx", calibration_batches, "mse")


def _episode_like(batches):
    """Dataset samples (uint8 image, ego, command, trajectory, scenario) whose model inputs are ``batches``'s
    ego and command with random pixels; the trajectories are the model's own plus noise."""
    g = torch.Generator().manual_seed(3)
    items = []
    for _, ego, command in batches:
        for i in range(len(ego)):
            items.append({"image": torch.randint(0, 256, (CAMERAS, 3, HEIGHT, WIDTH), generator=g).to(torch.uint8),
                          "ego": ego[i], "command": command[i],
                          "trajectory": torch.randn(N_WAYPOINTS, 4, generator=g) * 3.0,
                          "scenario": torch.tensor(i % 5), "has_scenario": torch.tensor(i % 3 != 0)})
    return items


def test_onnx_open_loop_figures_equal_evaluate_open_loop_for_the_fp32_model(student, fp32_path,
                                                                            calibration_batches):
    dataset = _episode_like(calibration_batches[:2])
    want = evaluate_open_loop(dataset, batch_size=5, model=student)
    got = evaluate_onnx_open_loop(fp32_path, dataset, batch_size=5)
    assert set(got) == set(want) and got["samples"] == want["samples"] == 16
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-4, abs=1e-5), key
