"""The lowered student as an engine: loads in the C++ runtime, agrees with the fp32 model, bit-exact with the
numpy reference, and its meta records the calibration."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import wayvert
from wayvert import quant, reference
from wayvert.build import format as fmt
from wayvert.calibration import run_engine, write_engine
from wayvert.calibration.sqnr import probe, sqnr_db
from wayvert.errors import BuildError
from wayvert.training.models import OUTPUT_KEYS

#: Least SQNR (dB) of each output of the briefly trained tiny student on held-out random images, per method.
MIN_OUTPUT_SQNR_DB = {"trajectories": 30.0, "mode_logits": 20.0, "target_speed": 20.0, "curvature": 20.0,
                      "lead_distance": 20.0, "scenario_logits": 20.0}


@pytest.mark.parametrize("method", ["minmax", "percentile", "entropy", "mse"])
def test_engine_loads_in_the_runtime_and_matches_the_fp32_model(method, lowered, student, evaluation_batches,
                                                                 tmp_path):
    builder, report = lowered(method)
    path = tmp_path / f"student_{method}.wvrt"
    write_engine(builder, path, {"note": "test"})
    engine = wayvert.Engine.load(path)
    image, ego, command = evaluation_batches[0]
    got = run_engine(engine, image, ego, command)
    with torch.no_grad():
        want = {k: v.numpy() for k, v in student(image, ego, command).items()}
    assert set(got) == set(OUTPUT_KEYS)
    for key, least in MIN_OUTPUT_SQNR_DB.items():
        assert got[key].shape == want[key].shape
        db = sqnr_db(float(np.sum(want[key].astype(np.float64) ** 2)), float(np.sum((want[key] - got[key]) ** 2)))
        assert db > least, (method, key, db)
    assert report.output_sqnr()["trajectories"] > MIN_OUTPUT_SQNR_DB["trajectories"]


def test_engine_inputs_are_the_canonical_camera_tensor_and_float_ego_command(lowered):
    engine = wayvert.Engine.from_bytes(lowered("minmax")[0].to_bytes())
    specs = {s.name: s for s in engine.inputs}
    assert (specs["image"].dtype, specs["image"].shape) == ("int8", (3, 3, 32, 64))
    assert (specs["ego"].dtype, specs["ego"].shape) == ("float32", (1, 2))
    assert (specs["command"].dtype, specs["command"].shape) == ("float32", (1, 4))
    outs = {s.name: (s.dtype, s.shape) for s in engine.outputs}
    assert outs == {"trajectories": ("float32", (1, 6, 20, 4)), "mode_logits": ("float32", (1, 6)),
                    "target_speed": ("float32", (1,)), "curvature": ("float32", (1,)),
                    "lead_distance": ("float32", (1,)), "scenario_logits": ("float32", (1, 5))}


def test_every_int8_value_of_the_cpp_engine_is_bit_exact_with_the_numpy_reference(lowered, evaluation_batches):
    builder, _ = lowered("entropy")
    everything = probe(builder)                    # every activation is an output
    engine = wayvert.Engine.from_bytes(everything.to_bytes())
    image, ego, command = (t.numpy() for t in evaluation_batches[0])
    image_spec = builder.values["image"].tensor
    checked = 0
    for i in range(3):
        inputs = {"image": quant.quantize(image[i], image_spec.scale, image_spec.zero_point),
                  "ego": ego[i:i + 1], "command": command[i:i + 1]}
        cpp, ref = engine.session().run(inputs), reference.run(everything, inputs)
        for name in everything.outputs:
            if everything.values[name].tensor.dtype == "int8":
                np.testing.assert_array_equal(cpp[name], ref[name], err_msg=name)
                checked += 1
            else:
                np.testing.assert_allclose(cpp[name], ref[name], rtol=1e-5, atol=1e-5, err_msg=name)
    assert checked >= 3 * 15


def test_run_engine_takes_float_or_int8_images_and_the_reference_or_the_runtime(lowered, evaluation_batches):
    builder, _ = lowered("minmax")
    image, ego, command = evaluation_batches[0]
    t = builder.values["image"].tensor
    as_int8 = np.stack([quant.quantize(x, t.scale, t.zero_point) for x in image.numpy()])
    engine = wayvert.Engine.from_bytes(builder.to_bytes())
    a, b, c = run_engine(engine, image, ego, command), run_engine(engine, as_int8, ego, command), \
        run_engine(builder, image[:2], ego[:2], command[:2])
    for key in a:
        assert a[key].shape[0] == 8
        np.testing.assert_array_equal(a[key], b[key])
        np.testing.assert_allclose(a[key][:2], c[key], rtol=1e-5, atol=1e-5)


def test_meta_records_the_calibration_and_the_caller_extras(lowered, tmp_path):
    builder, _ = lowered("percentile")
    write_engine(builder, tmp_path / "e.wvrt", {"canonical_rig": {"name": "test"}})
    meta = wayvert.Engine.load(tmp_path / "e.wvrt").meta
    q = meta["quantization"]
    assert q["calibration"]["method"] == "percentile" and q["calibration"]["percentile"] == 99.99
    assert q["calibration"]["samples"] == 32 and len(q["calibration"]["data_sha256"]) == 64
    assert meta["canonical_rig"] == {"name": "test"} and meta["model_config"]["kind"] == "student"
    with pytest.raises(BuildError, match="computed from the graph"):
        write_engine(builder, tmp_path / "f.wvrt", {"outputs": []})


def test_image_input_covers_the_normalised_pixel_range(lowered):
    t = lowered("minmax")[0].values["image"].tensor
    lo, hi = (-128 - t.zero_point) * t.scale, (127 - t.zero_point) * t.scale
    assert lo <= -2.1179 + 1e-3 and hi >= 2.64 - 1e-3
    assert lowered("minmax")[0].values["image"].kind == fmt.KIND_INPUT
