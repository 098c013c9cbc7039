"""torch.export -> lowered graph: folding is exact, epilogues are fused, float stays where it should, and what
cannot lower is named."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from wayvert.calibration.lower import LoweringError, lower_exported
from wayvert.calibration.lower.float_forward import FloatGraph
from wayvert.errors import BuildError


def _export(model: nn.Module, *inputs: torch.Tensor):
    with torch.no_grad():
        return torch.export.export(model.eval(), inputs)


@pytest.fixture(scope="module")
def student_graph(student, make_batch):
    image, ego, command = make_batch(1, seed=7)
    return lower_exported(_export(student, image, ego, command)), (image, ego, command)


def test_lowered_graph_in_float_equals_the_model(student, student_graph):
    graph, (image, ego, command) = student_graph
    got = FloatGraph(graph).outputs({"image": image[0].numpy(), "ego": ego.numpy(), "command": command.numpy()})
    with torch.no_grad():
        want = student(image, ego, command)
    for key in want:
        np.testing.assert_allclose(got[key].reshape(want[key].shape), want[key].numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=key)


def test_student_lowers_to_fused_convs_and_linears_only(student_graph):
    graph, _ = student_graph
    ops = {l.op for l in graph}
    assert ops <= {"input", "conv2d", "linear", "add", "concat", "reshape"}, ops
    convs = [l for l in graph if l.op == "conv2d"]
    assert len(convs) == 9 and all(l.clamp == (0.0, float("inf")) for l in convs)
    assert {l.name for l in convs if l.residual} == {"backbone.3.pointwise", "backbone.5.pointwise"}


def test_head_constants_fold_into_the_head_linears(student, student_graph):
    graph, _ = student_graph
    lead = graph["heads.lead_distance"]
    assert lead.clamp == pytest.approx((0.0, 80.0))                     # relu6(z) * 80/6 = clamp(80/6 z, 0, 80)
    w = student.heads.curvature.weight.detach().double().numpy()
    np.testing.assert_allclose(graph["heads.curvature"].weight, w * 0.01)


def test_float_stays_for_the_prior_and_the_ego_inputs(student_graph):
    graph, _ = student_graph
    assert graph["image"].dtype == "int8" and graph["image"].shape == (3, 3, 32, 64)
    assert graph["ego"].dtype == graph["command"].dtype == "float32"
    assert graph[graph.outputs["trajectories"]].dtype == "float32"      # prior + dequantized residual
    assert graph["trunk.0"].dtype == "int8" and graph[graph["trunk.0"].residual].dtype == "float32"
    int8_convs = [l for l in graph if l.op == "conv2d"]
    assert all(l.dtype == "int8" for l in int8_convs)


class _Erf(nn.Module):
    """erf on its own (GELU's erf is recognised; a bare one has no kernel)."""

    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Linear(4, 2)

    def forward(self, image: torch.Tensor, ego: torch.Tensor) -> torch.Tensor:
        return torch.erf(self.head(ego))


class _CumsumBlock(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cumsum(x, dim=3)


class _Cumsum(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = _CumsumBlock()

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.pool(torch.relu(self.conv(image.reshape(2, 3, 8, 8))))


def test_unsupported_op_raises_lowering_error_naming_the_op_and_module():
    with pytest.raises(LoweringError) as e:
        lower_exported(_export(_Erf(), torch.zeros(1, 1, 3, 8, 8), torch.zeros(1, 4)))
    assert isinstance(e.value, BuildError)
    assert "aten.erf" in str(e.value) and "test_lowering.py" in str(e.value)
    assert len(e.value.problems) == 1


def test_unsupported_op_in_a_submodule_names_the_module_path():
    with pytest.raises(LoweringError, match=r"aten\.cumsum.* at pool \(_CumsumBlock\)"):
        lower_exported(_export(_Cumsum(), torch.zeros(1, 2, 3, 8, 8)))


class _ConvBnReLU(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 8 * 8, 3)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn(self.conv(image.reshape(1, 3, 8, 8))))
        return self.fc(torch.flatten(y, 1)) * 2.0


def test_batch_norm_and_a_trailing_mul_fold_into_the_weights():
    torch.manual_seed(0)
    m = _ConvBnReLU()
    with torch.no_grad():
        m.bn.running_mean.uniform_(-1, 1)
        m.bn.running_var.uniform_(0.5, 2)
        m.bn.weight.uniform_(0.5, 2)
    x = torch.randn(1, 1, 3, 8, 8)
    graph = lower_exported(_export(m, x))
    assert {l.op for l in graph} == {"input", "conv2d", "reshape", "linear"}
    got = FloatGraph(graph).outputs({"image": x[0].numpy()})["output0"]
    np.testing.assert_allclose(got, m(x).detach().numpy(), rtol=1e-4, atol=1e-5)


class _NegativeScale(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.register_buffer("s", torch.tensor([1.0, -2.0, 3.0]))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(image.reshape(1, 4))) * self.s


def test_negative_scale_after_relu_cannot_fold_and_is_named():
    with pytest.raises(LoweringError, match="mul by a constant at aten.mul.Tensor"):
        lower_exported(_export(_NegativeScale(), torch.zeros(1, 1, 1, 2, 2)))


def test_decomposed_export_lowers_to_the_same_graph(student, student_graph):
    graph, (image, ego, command) = student_graph
    decomposed = lower_exported(_export(student, image, ego, command).run_decompositions())
    assert [l.describe() for l in decomposed] == [l.describe() for l in graph]
    inputs = {"image": image[0].numpy(), "ego": ego.numpy(), "command": command.numpy()}
    a, b = FloatGraph(graph).outputs(inputs), FloatGraph(decomposed).outputs(inputs)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-5, atol=1e-6)
