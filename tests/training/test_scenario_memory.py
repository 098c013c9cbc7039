"""The scenario branch's memory of the previous frame set (training/models/scenario.py, model.scenario_memory):
a branch checkpoint grows into a remembering one unchanged, a sample without an earlier frame set sees a new
session's zeros, the memory moves only the scenario logits, and the config refuses what cannot work."""
import pytest
import torch
from torch.nn import functional as F

from wayvert.schema import COMMANDS
from wayvert.training.config import ConfigError, load_config
from wayvert.training.models import Student
from wayvert.training.run.checkpoint import save_checkpoint
from wayvert.training.run.inputs import memory_inputs
from wayvert.training.run.loop import init_from

torch.set_num_threads(1)
H, W = 32, 64
DRIVING = ("trajectories", "mode_logits", "target_speed", "curvature", "lead_distance")


def _inputs(batch=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    ego = torch.stack([torch.rand(batch, generator=g) * 20.0, 0.2 * torch.randn(batch, generator=g)], dim=1)
    command = F.one_hot(torch.randint(0, len(COMMANDS), (batch,), generator=g), len(COMMANDS)).float()
    return torch.randn(batch, 3, 3, H, W, generator=g), ego, command


def _grown(tmp_path, memory=6):
    torch.manual_seed(0)
    branched = Student(height=H, width=W, scenario_branch=True).eval()
    path = tmp_path / "branched.pt"
    save_checkpoint(path, model=branched, kind="student", model_config=branched.config, train_config={},
                    epoch=1, step=1)
    torch.manual_seed(1)
    remembering = Student(height=H, width=W, scenario_branch=True, scenario_memory=memory).eval()
    init_from(remembering, str(path))
    return branched, remembering


def test_a_branch_checkpoint_grows_into_a_remembering_branch_that_starts_unchanged(tmp_path):
    branched, remembering = _grown(tmp_path)
    x = _inputs()
    previous = torch.randn(3, 3, 3, H, W)
    a = branched(*x)
    b = remembering(*x, previous_image=previous, has_previous=torch.ones(3, dtype=torch.bool))
    for key in DRIVING:
        assert torch.equal(a[key], b[key]), key
    # zero columns: the same sums, up to the order a wider matrix product adds them in
    assert torch.allclose(a["scenario_logits"], b["scenario_logits"], rtol=0, atol=1e-6)
    assert b["scenario_memory"].shape == (3, 6) and bool((b["scenario_memory"] >= 0).all())
    assert remembering.config["scenario_memory"] == 6 and remembering.memory_features == 6


def test_no_previous_frame_set_is_a_new_sessions_zero_memory_and_the_memory_moves_only_the_scenario(tmp_path):
    _, remembering = _grown(tmp_path)
    with torch.no_grad():   # give the memory columns weight, as training does
        remembering.scenario_branch.mlp[0].weight[:, -12:].normal_(0.0, 0.5)
    x = _inputs(seed=2)
    previous = torch.randn(3, 3, 3, H, W)
    fresh = remembering(*x)                                           # scenario_memory None: zeros
    none = remembering(*x, previous_image=previous, has_previous=torch.zeros(3, dtype=torch.bool))
    some = remembering(*x, previous_image=previous, has_previous=torch.tensor([True, False, True]))
    assert torch.equal(fresh["scenario_logits"], none["scenario_logits"])
    assert torch.equal(some["scenario_logits"][1], fresh["scenario_logits"][1])
    assert not torch.equal(some["scenario_logits"][0], fresh["scenario_logits"][0])
    for key in DRIVING:
        assert torch.equal(fresh[key], some[key]), key
    explicit = remembering(*x, remembering.scenario_branch.remember(previous.reshape(9, 3, H, W), 3))
    assert torch.allclose(explicit["scenario_logits"][0], some["scenario_logits"][0], atol=1e-6)
    with pytest.raises(ValueError, match="not both"):
        remembering(*x, explicit["scenario_memory"], previous_image=previous)


def test_memory_inputs_come_from_the_history_for_a_remembering_student_only(tmp_path):
    branched, remembering = _grown(tmp_path)
    history = torch.randint(0, 256, (2, 2, 3, 3, H, W), dtype=torch.uint8)
    batch = {"history": history, "has_previous": torch.tensor([False, True])}
    assert memory_inputs(branched, batch) == {}
    got = memory_inputs(remembering, batch)
    assert got["has_previous"].tolist() == [False, True] and got["previous_image"].shape == (2, 3, 3, H, W)
    with pytest.raises(ValueError, match="two-frame histories"):
        memory_inputs(remembering, {"history": history[:, :1], "has_previous": batch["has_previous"]})


def test_scenario_memory_needs_the_branch():
    with pytest.raises(ValueError, match="scenario_branch"):
        Student(height=H, width=W, scenario_memory=4)


@pytest.mark.parametrize("overrides, message", [
    (["model.scenario_memory=8"], "need model.scenario_branch"),
    (["model.scenario_previous_frame=true"], "need model.scenario_branch"),
    (["model.scenario_branch=true", "model.scenario_memory=8", "model.scenario_previous_frame=true"], "choose one"),
    (["model.scenario_branch=true", "model.scenario_memory=-1"], "0..1024"),
    (["model.scenario_branch=true", "model.scenario_memory=5000"], "0..1024"),
])
def test_config_refuses_memory_it_cannot_build(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)


def test_a_branch_grows_into_one_that_reads_the_previous_frame_set(tmp_path):
    torch.manual_seed(0)
    branched = Student(height=H, width=W, scenario_branch=True).eval()
    path = tmp_path / "branched.pt"
    save_checkpoint(path, model=branched, kind="student", model_config=branched.config, train_config={},
                    epoch=1, step=1)
    grown = Student(height=H, width=W, scenario_branch=True, scenario_previous_frame=True).eval()
    init_from(grown, str(path))
    stem = grown.scenario_branch.backbone[0][0].weight
    assert stem.shape[1] == 6 and bool((stem[:, 3:] == 0).all())
    x = _inputs(seed=3)
    previous = torch.randn(3, 3, 3, H, W)
    a, b = branched(*x), grown(*x, previous_image=previous, has_previous=torch.ones(3, dtype=torch.bool))
    for key in a:
        assert torch.allclose(a[key], b[key], rtol=0, atol=1e-6), key
    assert b["previous_image"] is x[0]                      # what the engine keeps for the next run
    with torch.no_grad():
        stem[:, 3:].normal_(0.0, 0.1)
    c = grown(*x, previous_image=previous, has_previous=torch.tensor([True, False, True]))
    fresh = grown(*x)
    assert torch.equal(c["scenario_logits"][1], fresh["scenario_logits"][1])    # no earlier frame set: zeros
    assert not torch.equal(c["scenario_logits"][0], fresh["scenario_logits"][0])
    for key in DRIVING:
        assert torch.equal(c[key], fresh[key]), key
    assert grown.remembers and grown.state_inputs(previous)["previous_image"] is previous
