"""The student's scenario branch (training/models/scenario.py) and how it is trained on a finished student:
driving outputs untouched, only the branch learns, class-balanced scenario loss, clear errors."""
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch.nn import functional as F

from wayvert.schema import COMMANDS, SCENARIOS
from wayvert.training.config import ConfigError, load_config
from wayvert.training.losses import imitation_loss, inverse_frequency, scenario_loss
from wayvert.training.models import Student
from wayvert.training.run.checkpoint import save_checkpoint
from wayvert.training.run.loop import freeze_all_but_scenario, init_from

torch.set_num_threads(1)
H, W = 32, 64
DRIVING = ("trajectories", "mode_logits", "target_speed", "curvature", "lead_distance")


def _inputs(batch=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    ego = torch.stack([torch.rand(batch, generator=g) * 20.0, 0.2 * torch.randn(batch, generator=g)], dim=1)
    command = F.one_hot(torch.randint(0, len(COMMANDS), (batch,), generator=g), len(COMMANDS)).float()
    return torch.randn(batch, 3, 3, H, W, generator=g), ego, command


def _labels(out, seed=0):
    g = torch.Generator().manual_seed(seed)
    b = out["trajectories"].shape[0]
    return dict(trajectory=out["trajectories"][:, 0].detach() + 0.1, target_speed=torch.full((b,), 10.0),
                curvature=torch.zeros(b), lead_distance=torch.full((b,), 30.0),
                has_lead_distance=torch.ones(b, dtype=torch.bool),
                scenario=torch.randint(0, len(SCENARIOS), (b,), generator=g),
                has_scenario=torch.ones(b, dtype=torch.bool))


def _student_and_branch():
    torch.manual_seed(0)
    plain = Student(height=H, width=W).eval()
    branched = Student(height=H, width=W, scenario_branch=True).eval()
    missing, unexpected = branched.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("scenario_branch.") for k in missing)
    return plain, branched


def test_the_branch_changes_only_the_scenario_logits():
    plain, branched = _student_and_branch()
    x = _inputs()
    a, b = plain(*x), branched(*x)
    for key in DRIVING:
        assert torch.equal(a[key], b[key]), key
    assert b["scenario_logits"].shape == (4, len(SCENARIOS))
    assert not torch.equal(a["scenario_logits"], b["scenario_logits"])
    assert branched.config["scenario_branch"] is True and plain.config["scenario_branch"] is False


def test_training_the_scenario_branch_leaves_every_driving_output_bit_identical():
    plain, branched = _student_and_branch()
    freeze_all_but_scenario(branched)
    trainable = {n for n, p in branched.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith(("scenario_branch.", "heads.scenario.")) for n in trainable)
    x = _inputs(seed=1)
    before = {k: v.detach().clone() for k, v in branched(*x).items()}
    opt = torch.optim.AdamW([p for p in branched.parameters() if p.requires_grad], lr=1e-2)
    branched.train()
    for step in range(3):
        out = branched(*_inputs(seed=10 + step))
        loss, _ = imitation_loss(out, _labels(out, seed=step))   # every part: only the scenario part can move
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = branched.eval()(*x)
    for key in DRIVING:
        assert torch.equal(before[key], after[key]), key
    assert not torch.equal(before["scenario_logits"], after["scenario_logits"])


def test_init_from_a_student_checkpoint_and_its_errors(tmp_path):
    plain, _ = _student_and_branch()
    path = tmp_path / "student.pt"
    save_checkpoint(path, model=plain, kind="student", model_config=plain.config, train_config={}, epoch=1, step=1)
    torch.manual_seed(5)
    fresh = Student(height=H, width=W, scenario_branch=True)
    init_from(fresh, str(path))
    for name, value in plain.state_dict().items():
        assert torch.equal(fresh.state_dict()[name], value), name
    with pytest.raises(ConfigError, match="other shapes"):
        init_from(Student(height=H, width=W, modes=3, scenario_branch=True), str(path))
    with pytest.raises(ConfigError, match="unexpected"):        # a branch checkpoint into a plain student
        branched_path = tmp_path / "branched.pt"
        save_checkpoint(branched_path, model=fresh, kind="student", model_config=fresh.config, train_config={},
                        epoch=1, step=1)
        init_from(Student(height=H, width=W), str(branched_path))


def test_inverse_frequency_weights():
    assert torch.equal(inverse_frequency(torch.tensor([5, 5, 5, 5, 5])), torch.ones(5))
    w = inverse_frequency(torch.tensor([90, 10, 0, 0, 0]))
    assert w.tolist() == pytest.approx([100 / 180, 100 / 20, 0.0, 0.0, 0.0])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, len(SCENARIOS) - 1), min_size=2, max_size=40), st.integers(0, 1000))
def test_balanced_scenario_loss_is_the_mean_over_classes_of_each_class_mean(labels, seed):
    y = torch.tensor(labels)
    logits = torch.randn(len(labels), len(SCENARIOS), generator=torch.Generator().manual_seed(seed))
    known = torch.ones(len(labels), dtype=torch.bool)
    w = inverse_frequency(torch.bincount(y, minlength=len(SCENARIOS)))
    ce = F.cross_entropy(logits, y, reduction="none")
    per_class = [ce[y == c].mean() for c in range(len(SCENARIOS)) if (y == c).any()]
    assert float(scenario_loss(logits, y, known, w)) == pytest.approx(float(torch.stack(per_class).mean()), rel=1e-5)
    assert float(scenario_loss(logits, y, known)) == pytest.approx(float(ce.mean()), rel=1e-6)


def test_balanced_scenario_loss_ignores_unknown_labels():
    logits = torch.randn(3, len(SCENARIOS))
    y = torch.tensor([0, 4, 2])
    known = torch.tensor([True, False, True])
    w = torch.ones(len(SCENARIOS))
    expected = F.cross_entropy(logits[[0, 2]], y[[0, 2]])
    assert float(scenario_loss(logits, y, known, w)) == pytest.approx(float(expected), rel=1e-6)
    assert float(scenario_loss(logits, y, torch.zeros(3, dtype=torch.bool), w)) == 0.0


@pytest.mark.parametrize("overrides, message", [
    (["optim.train=scenario"], "set model.scenario_branch = true and init"),
    (["optim.train=scenario", "model.scenario_branch=true"], "set model.scenario_branch = true and init"),
    (["optim.train=everything"], "optim.train must be"),
    (["model.kind=teacher", "model.scenario_branch=true"], "student option"),
])
def test_scenario_training_config_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)
