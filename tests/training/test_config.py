"""Training configuration: TOML + overrides, and typos refused rather than silently defaulted."""
import pytest

from wayvert.training.config import ConfigError, load_config


def test_defaults_then_file_then_overrides(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('out = "x"\n[optim]\nepochs = 3\nlr = 1\n[model]\nkind = "teacher"\n')
    cfg = load_config(p, ["optim.epochs=5", "data.bad_dreams=false", "distill.teacher=runs/t.pt"])
    assert cfg.out == "x" and cfg.model.kind == "teacher"
    assert cfg.optim.epochs == 5 and cfg.optim.lr == 1.0 and isinstance(cfg.optim.lr, float)
    assert cfg.data.bad_dreams is False and cfg.distill.teacher == "runs/t.pt"
    assert cfg.optim.batch_size == 32  # untouched default


@pytest.mark.parametrize("text, message", [
    ("[optim]\nepoch = 3\n", "unknown key 'epoch'"),
    ("[optim]\nepochs = 'three'\n", "optim.epochs must be int"),
    ("[optim]\nepochs = true\n", "optim.epochs must be int"),
    ("optim = 3\n", "optim must be a table"),
    ("[model]\nkind = 'huge'\n", "model.kind must be"),
    ("[optim\n", "not valid TOML"),
    ("[data]\naggregate = 'runs/x'\n", "data.aggregate must be list"),
    ("[data]\naggregate = [1, 2]\n", "data.aggregate must be a list of folder paths"),
    ("[data]\naggregate = ['']\n", "data.aggregate must be a list of folder paths"),
])
def test_malformed_config_raises_config_error_naming_the_key(tmp_path, text, message):
    p = tmp_path / "c.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(p)


def test_bad_override_and_missing_file():
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        load_config(None, ["optim.epochs"])
    with pytest.raises(ConfigError, match="unknown key 'nope'"):
        load_config(None, ["nope.x=1"])
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config("/nonexistent/c.toml")


def test_shipped_configs_load():
    from pathlib import Path

    import wayvert.training

    folder = Path(wayvert.training.__file__).parent / "configs"
    names = sorted(p.name for p in folder.glob("*.toml"))
    assert {"teacher.toml", "student.toml", "tiny.toml"} <= set(names)
    for n in names:
        load_config(folder / n)


def test_loss_config_mirrors_loss_weights():
    import dataclasses

    pytest.importorskip("torch")
    from wayvert.training.config import LossConfig
    from wayvert.training.losses import LossWeights

    assert LossConfig().weights() == dataclasses.asdict(LossWeights())
    assert set(dataclasses.asdict(LossConfig())) - set(LossConfig().weights()) == {"balance_scenario"}
