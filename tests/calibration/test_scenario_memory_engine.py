"""A student whose scenario branch remembers the previous frame set lowers to an engine with recurrent state
(docs/engine-format.md section 3.8): the memory is the session's, carried from run to run, zero in a new or reset
session; driving outputs never depend on it; the numpy reference, the C++ runtime and the float twin agree."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import wayvert
from wayvert.calibration import lower_student
from wayvert.calibration.batches import remembered_samples
from wayvert.calibration.engine_io import engine_inputs
from wayvert.calibration.lower import LoweringError, lower_exported
from wayvert.calibration.sqnr import sqnr_db
from wayvert.graph.dequantized import float_network
from wayvert import reference
from wayvert.training.data.dataset import normalize_image
from wayvert.training.models import Student

from conftest import CAMERAS, HEIGHT, WIDTH

DRIVING = ("trajectories", "mode_logits", "target_speed", "curvature", "lead_distance")
MEMORY = 8


def _episode_batch(frames: int = 6, seed: int = 0) -> dict[str, torch.Tensor]:
    """Consecutive frame sets of one short episode as an EpisodeDataset batch (history = previous, current)."""
    g = torch.Generator().manual_seed(seed)
    pixels = torch.randint(0, 256, (frames, CAMERAS, 3, HEIGHT, WIDTH), generator=g).to(torch.uint8)
    previous = torch.cat([pixels[:1], pixels[:-1]])
    command = torch.zeros(frames, 4)
    command[:, 0] = 1.0
    return {"image": pixels, "history": torch.stack([previous, pixels], dim=1),
            "has_previous": torch.arange(frames) > 0, "ego": torch.rand(frames, 2, generator=g) * 10.0,
            "command": command}


@pytest.fixture(scope="module")
def remembering(student):
    torch.manual_seed(5)
    model = Student(cameras=CAMERAS, height=HEIGHT, width=WIDTH, hidden=64, scenario_branch=True,
                    scenario_memory=MEMORY).eval()
    model.load_state_dict(student.state_dict(), strict=False)
    builder, report = lower_student(model, [_episode_batch(8, 1), _episode_batch(8, 2)], "minmax")
    return model, builder, report, wayvert.Engine.from_bytes(builder.to_bytes())


def _inputs(engine, batch, i):
    x = normalize_image(batch["image"])
    return engine_inputs(engine, {"image": x[i].numpy(), "ego": batch["ego"][i].numpy(),
                                  "command": batch["command"][i].numpy()})


def test_memory_becomes_state_not_an_input_or_output(remembering):
    _, builder, report, engine = remembering
    assert builder.states == [("scenario_memory", "scenario_memory.next")]
    assert [s.name for s in engine.inputs] == ["image", "ego", "command"]
    assert "scenario_memory" not in [s.name for s in engine.outputs]
    (state,) = engine.meta["state"]    # int8, at the parameters of the value it is copied from
    assert (state["name"], state["dtype"], state["shape"]) == ("scenario_memory", "int8", [1, MEMORY])
    update = builder.values["scenario_memory.next"].tensor
    assert (state["scale"], state["zero_point"]) == (update.scale, update.zero_point) and update.zero_point == -128
    assert report.graph.states == ["scenario_memory"]


def test_a_session_carries_the_memory_like_the_model_run_frame_by_frame(remembering):
    model, builder, _, engine = remembering
    batch = _episode_batch(5, seed=9)
    session = engine.session()
    state = reference.initial_state(builder)
    memory, got, want = None, [], []
    for i in range(5):
        inputs = _inputs(engine, batch, i)
        out = session.run(inputs)
        ref = reference.run(builder, inputs, state=state)   # the numpy reference, carrying its own state
        for key in out:   # int8 ops are bit-exact; the float heads differ in summation order only
            np.testing.assert_allclose(out[key], ref[key], rtol=1e-5, atol=1e-5, err_msg=f"frame {i} {key}")
        got.append(out["scenario_logits"].copy())
        with torch.no_grad():
            m = model(normalize_image(batch["image"][i:i + 1]), batch["ego"][i:i + 1], batch["command"][i:i + 1],
                      memory)
        memory = m["scenario_memory"]
        want.append(m["scenario_logits"].numpy())
    w, g = np.concatenate(want).astype(np.float64), np.concatenate(got).astype(np.float64)
    assert sqnr_db(float(np.sum(w ** 2)), float(np.sum((w - g) ** 2))) > 20.0


def test_the_previous_frame_changes_the_scenario_and_nothing_else(remembering):
    _, _, _, engine = remembering
    a, b = _episode_batch(3, seed=11), _episode_batch(3, seed=12)
    s1, s2 = engine.session(), engine.session()
    s1.run(_inputs(engine, a, 0))
    s2.run(_inputs(engine, b, 0))                  # a different previous frame set
    o1, o2 = s1.run(_inputs(engine, a, 1)), s2.run(_inputs(engine, a, 1))
    for key in DRIVING:
        np.testing.assert_array_equal(o1[key], o2[key], err_msg=key)
    assert not np.array_equal(o1["scenario_logits"], o2["scenario_logits"])


def test_reset_and_a_new_session_start_from_zero_memory(remembering):
    model, _, _, engine = remembering
    batch = _episode_batch(3, seed=13)
    session = engine.session()
    first = session.run(_inputs(engine, batch, 0))["scenario_logits"].copy()
    session.run(_inputs(engine, batch, 1))
    session.reset()
    np.testing.assert_array_equal(session.run(_inputs(engine, batch, 0))["scenario_logits"], first)
    np.testing.assert_array_equal(engine.session().run(_inputs(engine, batch, 0))["scenario_logits"], first)


def test_calibration_samples_hold_the_previous_frames_memory(remembering):
    model = remembering[0]
    batch = _episode_batch(4, seed=14)
    samples = [s for named in remembered_samples(model, [batch]) for s in named]
    assert [s["scenario_memory"].shape for s in samples] == [(1, MEMORY)] * 4
    np.testing.assert_array_equal(samples[0]["scenario_memory"], 0.0)       # the first frame set has none
    with torch.no_grad():
        want = model(normalize_image(batch["image"][1:2]), batch["ego"][:1], batch["command"][:1])["scenario_memory"]
    np.testing.assert_allclose(samples[2]["scenario_memory"], want.numpy(), rtol=1e-5, atol=1e-6)
    assert np.any(samples[2]["scenario_memory"] != 0.0)


def test_the_float_twin_is_a_new_sessions_first_run(remembering):
    _, builder, _, engine = remembering
    batch = _episode_batch(2, seed=15)
    inputs = _inputs(engine, batch, 0)
    net = float_network(builder)
    assert [n for n, _ in net.inputs] == ["image", "ego", "command"]
    floats = {"image": (inputs["image"].astype(np.float32) - engine.inputs[0].zero_point) * engine.inputs[0].scale,
              "ego": inputs["ego"], "command": inputs["command"]}
    twin = net.run(floats)["scenario_logits"].astype(np.float64)
    got = engine.session().run(inputs)["scenario_logits"].astype(np.float64)
    assert sqnr_db(float(np.sum(twin ** 2)), float(np.sum((twin - got) ** 2))) > 20.0


class _BadState(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(6, 4)

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> dict[str, torch.Tensor]:
        y = torch.relu(self.fc(torch.cat([x, memory], dim=1)))
        return {"y": y, "memory": y}                 # [1, 4]: not the memory's [1, 2]


def test_a_state_output_of_another_shape_is_refused():
    ep = torch.export.export(_BadState(), (torch.zeros(1, 4), torch.zeros(1, 2)))
    with pytest.raises(LoweringError, match="recurrent state"):
        lower_exported(ep, camera_input=None, policy="int8")


def test_an_engine_with_state_rebuilt_with_a_tapped_output_keeps_its_state(remembering, tmp_path):
    # `wayvert index` reads the trunk's features through with_outputs; it refused engines with state before
    from wayvert.graph import engine_state_pairs, with_outputs

    _, builder, _, engine = remembering
    path = tmp_path / "memory.wvrt"
    builder.write(path)
    assert engine_state_pairs(path) == [("scenario_memory", "scenario_memory.next")] == engine_state_pairs(builder)
    tapped = wayvert.Engine.from_bytes(with_outputs(path, {"features": "scenario_memory.next"}).to_bytes())
    (a,), (b,) = tapped.meta["state"], engine.meta["state"]   # the scale as the file stores it: float32
    assert {**a, "scale": np.float32(a["scale"])} == {**b, "scale": np.float32(b["scale"])}
    batch = _episode_batch(4, seed=16)
    a, b = engine.session(), tapped.session()
    for i in range(4):
        x, y = a.run(_inputs(engine, batch, i)), b.run(_inputs(engine, batch, i))
        for key in x:
            np.testing.assert_array_equal(x[key], y[key], err_msg=f"frame {i} {key}")
        assert y["features"].shape == (1, MEMORY)


@pytest.fixture(scope="module")
def previous_frame(student):
    torch.manual_seed(6)
    model = Student(cameras=CAMERAS, height=HEIGHT, width=WIDTH, hidden=64, scenario_branch=True,
                    scenario_previous_frame=True).eval()
    model.load_state_dict(student.state_dict(), strict=False)
    builder, report = lower_student(model, [_episode_batch(8, 3), _episode_batch(8, 4)], "minmax")
    return model, builder, report, wayvert.Engine.from_bytes(builder.to_bytes())


def test_the_previous_frame_set_is_int8_state_at_the_camera_parameters(previous_frame):
    _, builder, _, engine = previous_frame
    image = engine.inputs[0]
    (state,) = engine.meta["state"]
    assert (state["name"], state["dtype"], state["shape"]) == ("previous_image", "int8", [1, CAMERAS, 3, HEIGHT, WIDTH])
    assert (np.float32(state["scale"]), state["zero_point"]) == (np.float32(image.scale), image.zero_point)
    # the stem's concat reads the camera tensor and the state as they are: no requantize of either
    (concat,) = [op for op in builder.ops if op.op_type == "concat" and "image" in op.inputs]
    assert all(builder.values[n].tensor.scale == builder.values["image"].tensor.scale for n in concat.inputs)
    assert not any(op.op_type == "quantize" and op.inputs[0] in ("image", "previous_image") for op in builder.ops)


def test_a_session_keeps_the_last_image_like_the_model_run_frame_by_frame(previous_frame):
    model, builder, _, engine = previous_frame
    batch = _episode_batch(4, seed=17)
    session, state = engine.session(), reference.initial_state(builder)
    previous, got, want = None, [], []
    for i in range(4):
        inputs = _inputs(engine, batch, i)
        out = session.run(inputs)
        ref = reference.run(builder, inputs, state=state)
        np.testing.assert_array_equal(state["previous_image"].reshape(inputs["image"].shape), inputs["image"])
        for key in out:
            np.testing.assert_allclose(out[key], ref[key], rtol=1e-5, atol=1e-5, err_msg=f"frame {i} {key}")
        got.append(out["scenario_logits"].copy())
        with torch.no_grad():
            m = model(normalize_image(batch["image"][i:i + 1]), batch["ego"][i:i + 1], batch["command"][i:i + 1],
                      previous_image=previous)
        previous = m["previous_image"]
        want.append(m["scenario_logits"].numpy())
    w, g = np.concatenate(want).astype(np.float64), np.concatenate(got).astype(np.float64)
    assert sqnr_db(float(np.sum(w ** 2)), float(np.sum((w - g) ** 2))) > 20.0
    session.reset()
    fresh = engine.session().run(_inputs(engine, batch, 2))
    again = session.run(_inputs(engine, batch, 2))
    np.testing.assert_array_equal(fresh["scenario_logits"], again["scenario_logits"])
