"""Student and Teacher: output contract, use of history, rebuild from config, export to the runtime's op set,
and that the student can learn."""
import pytest
import torch

from wayvert.training.losses import imitation_loss
from wayvert.training.models import OUTPUT_KEYS, Student, Teacher, build_model, forward_macs
from wayvert.training.models.prior import prior_matrix
from wayvert.schema import COMMANDS, LEAD_DISTANCE_CAP_M, N_WAYPOINTS, SCENARIOS, waypoint_times

torch.set_num_threads(1)


def _inputs(batch=2, cameras=3, height=32, width=64, frames=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    shape = (batch, cameras, 3, height, width) if frames is None else (batch, frames, cameras, 3, height, width)
    ego = torch.stack([torch.rand(batch, generator=g) * 20.0, 0.2 * torch.randn(batch, generator=g)], dim=1)
    command = torch.nn.functional.one_hot(torch.randint(0, len(COMMANDS), (batch,), generator=g),
                                          len(COMMANDS)).float()
    return torch.randn(shape, generator=g), ego, command


def _assert_output_contract(out, batch, modes):
    assert set(out) == set(OUTPUT_KEYS)
    assert out["trajectories"].shape == (batch, modes, N_WAYPOINTS, 4)
    assert out["mode_logits"].shape == (batch, modes)
    for key in ("target_speed", "curvature", "lead_distance"):
        assert out[key].shape == (batch,)
    assert out["scenario_logits"].shape == (batch, len(SCENARIOS))
    assert all(torch.isfinite(v).all() for v in out.values())
    assert ((out["lead_distance"] >= 0) & (out["lead_distance"] <= LEAD_DISTANCE_CAP_M)).all()


@pytest.mark.parametrize("cameras, height, width, modes", [(3, 32, 64, 6), (1, 64, 96, 3)])
def test_student_output_shapes(cameras, height, width, modes):
    model = Student(cameras=cameras, height=height, width=width, modes=modes)
    _assert_output_contract(model(*_inputs(2, cameras, height, width)), 2, modes)


@pytest.mark.parametrize("cameras, height, width, modes", [(3, 32, 64, 6), (2, 64, 32, 4)])
def test_teacher_output_shapes(cameras, height, width, modes):
    model = Teacher(cameras=cameras, height=height, width=width, modes=modes)
    _assert_output_contract(model(*_inputs(2, cameras, height, width, frames=2)), 2, modes)


@pytest.mark.parametrize("kind", ["student", "teacher"])
def test_image_size_not_a_multiple_of_32_is_refused(kind):
    with pytest.raises(ValueError, match="multiples of 32"):
        build_model(kind, height=48, width=64)


def test_unknown_model_kind_is_refused():
    with pytest.raises(ValueError, match="not one of"):
        build_model("oracle")


@pytest.mark.parametrize("frame", [0, 1])
def test_teacher_output_depends_on_each_history_frame(frame):
    torch.manual_seed(0)
    model = Teacher(height=32, width=64).eval()
    history, ego, command = _inputs(2, frames=2)
    changed = history.clone()
    changed[:, frame] = torch.randn_like(changed[:, frame])
    with torch.no_grad():
        a, b = model(history, ego, command), model(changed, ego, command)
    assert not torch.allclose(a["trajectories"], b["trajectories"])
    assert not torch.allclose(a["mode_logits"], b["mode_logits"])


@pytest.mark.parametrize("kind, frames", [("student", None), ("teacher", 2)])
def test_same_seed_gives_same_weights_and_config_rebuilds_the_model(kind, frames):
    torch.manual_seed(3)
    model = build_model(kind, height=32, width=64, modes=4).eval()
    torch.manual_seed(3)
    twin = build_model(kind, height=32, width=64, modes=4)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), twin.state_dict().values()))

    rebuilt = build_model(model.kind, **model.config).eval()
    rebuilt.load_state_dict(model.state_dict())          # strict: same architecture, same names
    inputs = _inputs(2, frames=frames)
    with torch.no_grad():
        a, b = model(*inputs), rebuilt(*inputs)
    assert all(torch.equal(a[k], b[k]) for k in OUTPUT_KEYS)
    assert model.count_parameters() == sum(p.numel() for p in model.parameters())


def test_kinematic_prior_is_constant_speed_and_yaw_rate():
    speed, yaw_rate = 12.0, 0.3
    prior = (prior_matrix() @ torch.tensor([speed, yaw_rate])).reshape(N_WAYPOINTS, 4)
    t = torch.tensor(waypoint_times(), dtype=torch.float32)
    torch.testing.assert_close(prior[:, 0], speed * t)
    torch.testing.assert_close(prior[:, 1], torch.zeros(N_WAYPOINTS))
    torch.testing.assert_close(prior[:, 2], yaw_rate * t)
    torch.testing.assert_close(prior[:, 3], torch.full((N_WAYPOINTS,), speed))


def test_zero_heads_output_the_prior_and_ego_speed():
    model = Student(height=32, width=64).eval()
    with torch.no_grad():
        for head in (model.heads.trajectory, model.heads.target_speed):
            head.weight.zero_()
            head.bias.zero_()
        image, ego, command = _inputs(3)
        out = model(image, ego, command)
    expected = (ego @ prior_matrix().T).reshape(3, 1, N_WAYPOINTS, 4).expand(-1, model.config["modes"], -1, -1)
    torch.testing.assert_close(out["trajectories"], expected)
    torch.testing.assert_close(out["target_speed"], ego[:, 0])


def test_initial_modes_are_distinct():
    # Winner-takes-all needs distinct starting modes, or every sample picks the same one.
    model = Student(height=32, width=64).eval()
    with torch.no_grad():
        trajectories = model(*_inputs(1))["trajectories"][0]
    final_xy = trajectories[:, -1, :2]
    gaps = torch.cdist(final_xy, final_xy) + 1e3 * torch.eye(len(final_xy))
    assert gaps.min() > 1.0   # metres apart at 4 s


# What the int8 runtime can run (DESIGN.md's op set): pre-dispatch names and their core-ATen decompositions.
# mul and add are only ever by a constant or a residual add (checked below for mul).
RUNTIME_ATEN_OPS = {
    "conv2d", "convolution", "linear", "addmm", "mm", "relu", "relu6", "hardtanh", "add", "mul", "cat",
    "reshape", "view", "_unsafe_view", "flatten", "permute", "t", "mean",
}


def _aten_ops(program):
    return {node.target for node in program.graph.nodes if node.op == "call_function"}


def _name(op):
    return op.name().split("::")[1].split(".")[0]


def test_student_exports_with_only_runtime_ops():
    model = Student(height=64, width=128).eval()
    inputs = _inputs(1, height=64, width=128)
    program = torch.export.export(model, inputs)
    for graph in (program, program.run_decompositions()):
        names = {_name(op) for op in _aten_ops(graph)}
        assert names <= RUNTIME_ATEN_OPS, names - RUNTIME_ATEN_OPS
    # Every multiply is by a constant (a buffer or a number), so lowering folds it into the linear before it.
    constants = set(program.graph_signature.inputs_to_buffers) | set(
        program.graph_signature.inputs_to_lifted_tensor_constants)
    for node in program.graph.nodes:
        if node.op == "call_function" and _name(node.target) == "mul":
            assert any(not hasattr(a, "op") or a.name in constants for a in node.args), node.format_node()
    with torch.no_grad():
        exported, eager = program.module()(*inputs), model(*inputs)
    assert all(torch.allclose(exported[k], eager[k]) for k in OUTPUT_KEYS)


def test_forward_macs_counts_convolutions_and_linears():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.Flatten(), torch.nn.Linear(8 * 16, 5))
    assert forward_macs(model, torch.zeros(1, 3, 4, 4)) == 16 * 8 * 27 + 8 * 16 * 5


def test_student_overfits_four_samples(demonstration_labels):
    torch.manual_seed(0)
    model = Student(cameras=2, height=32, width=64)
    image, ego, command = _inputs(4, cameras=2)
    batch = demonstration_labels(ego, has_lead_distance=torch.tensor([True, False] * 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(100):
        loss, _ = imitation_loss(model(image, ego, command), batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 10, (losses[0], losses[-1])
