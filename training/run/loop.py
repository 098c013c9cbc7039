"""The training loop shared by imitation learning and distillation.

Imitation: the model learns from the expert's demonstrations (winner-takes-all trajectory loss, mode
classification, aux heads). Distillation: the student learns from a trained teacher's soft outputs plus the
demonstrations; the teacher's outputs are computed once per training sample before the first epoch (there is no
augmentation, so they are the same every epoch) and then read from memory, which makes distillation cost
little more than imitation.

Single process or torchrun (DistributedDataParallel, gloo on CPU). Rank 0 writes checkpoints and logs; every
rank writes ``rank-N.digest`` (a hash of its final parameters) so a test can prove the ranks stayed in sync.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler
from tqdm import tqdm

from wayvert import schema
from wayvert.sensors import shipped_rig
from wayvert.training.config import ConfigError, TrainConfig
from wayvert.training.data.dataset import EpisodeDataset
from wayvert.training.data.mirror import mirror_batch, mirror_permutation
from wayvert.training.evaluate.open_loop import evaluate_open_loop
from wayvert.training.losses import LossWeights, distillation_loss, imitation_loss, inverse_frequency
from wayvert.training.models import build_model

from .checkpoint import latest_checkpoint, load_checkpoint, load_model, save_checkpoint
from .inputs import memory_inputs, model_inputs
from .distributed import Ranks, barrier, init_distributed, mean_over_ranks, shutdown_distributed

KEEP_EPOCH_CHECKPOINTS = 2


class _Indexed(Dataset):
    """Adds the sample's index so cached teacher outputs can be looked up."""

    def __init__(self, base: Dataset):
        self.base = base

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def __getitem__(self, i: int) -> dict[str, Any]:
        s = dict(self.base[i])
        s["index"] = torch.tensor(i, dtype=torch.int64)
        return s


def open_dataset(path: str | list[str], cfg: TrainConfig) -> EpisodeDataset:
    where: Callable[[dict[str, Any]], bool] | None = None
    if not cfg.data.bad_dreams:
        where = lambda meta: not meta.get("bad_dreams", False)  # noqa: E731
    return EpisodeDataset(path, where=where)


def open_selection(path: str, cfg: TrainConfig) -> EpisodeDataset:
    """The frames a ``wayvert curate`` selection lists (data.selection), from the episodes it names; data.train and
    data.aggregate are not read. data.bad_dreams still applies."""
    from wayvert.curate import read_selection

    frames = read_selection(path)
    ds = open_dataset(sorted(frames), cfg)
    ds.keep_frames(frames)
    return ds


def init_from(model: torch.nn.Module, path: str) -> None:
    """Start ``model`` from a checkpoint's weights, by parameter name. Parameters the checkpoint lacks may only be
    the scenario branch's (a student that gains one); anything else missing, unexpected or of another shape is a
    ConfigError naming it. A branch that gains memory (model.scenario_memory) or the previous frame set
    (model.scenario_previous_frame) keeps its weights: the layer reading the new inputs (the MLP's last columns,
    the stem's last three channels) gets zero weights for them, so the model starts as the checkpoint's."""
    state = dict(load_checkpoint(path)["model"])
    own = model.state_dict()
    grown = []
    if getattr(model, "memory_features", 0):
        grown.append("scenario_branch.mlp.0.weight")
    if getattr(getattr(model, "scenario_branch", None), "previous_frame", False):
        grown.append("scenario_branch.backbone.0.0.weight")
    for k in grown:
        old, new = state.get(k), own.get(k)
        if old is not None and new is not None and old.dim() == new.dim() and old.shape[1] < new.shape[1] \
                and old.shape[0] == new.shape[0] and old.shape[2:] == new.shape[2:]:
            pad = old.new_zeros(old.shape[0], new.shape[1] - old.shape[1], *old.shape[2:])
            state[k] = torch.cat([old, pad], dim=1)
    unexpected = sorted(set(state) - set(own))
    missing = sorted(k for k in set(own) - set(state) if not k.startswith("scenario_branch."))
    shapes = sorted(k for k in set(own) & set(state) if tuple(own[k].shape) != tuple(state[k].shape))
    if unexpected or missing or shapes:
        raise ConfigError(f"init = {path!r} does not fit this model: unexpected {unexpected[:5]}, missing "
                          f"{missing[:5]}, other shapes {shapes[:5]} (model.* must match the checkpoint's)")
    model.load_state_dict(state, strict=False)


def freeze_all_but_scenario(model: torch.nn.Module) -> None:
    """optim.train = "scenario": only the scenario branch and the scenario head keep requires_grad, so every
    other output of the model stays exactly what ``init`` gave it."""
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith(("scenario_branch.", "heads.scenario.")))


def _lr_lambda(total_steps: int, warmup: int) -> Callable[[int], float]:
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(warmup, 1)
        p = (step - warmup) / max(total_steps - warmup, 1)
        return 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * min(p, 1.0)))
    return f


def parameter_digest(model: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for name, p in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


@torch.no_grad()
def _teacher_cache(teacher: torch.nn.Module, ds: Dataset, batch_size: int, progress: bool) -> dict[str, torch.Tensor]:
    """Teacher outputs for every sample of ``ds``, stacked in index order."""
    loader = DataLoader(ds, batch_size=batch_size, shuffle=False)
    parts: dict[str, list[torch.Tensor]] = {}
    for batch in tqdm(loader, desc="teacher outputs", disable=not progress, leave=False):
        out = teacher(*model_inputs("teacher", batch))
        for k, v in out.items():
            parts.setdefault(k, []).append(v.detach())
    return {k: torch.cat(v) for k, v in parts.items()}


def train(cfg: TrainConfig, *, distill: bool = False, resume: bool = False, progress: bool = True) -> dict[str, Any]:
    """Train (or distill) as ``cfg`` says; returns the run summary (also written to ``out/summary.json``)."""
    ranks = init_distributed()
    try:
        return _train(cfg, ranks, distill=distill, resume=resume, progress=progress and ranks.main)
    finally:
        shutdown_distributed()


def _train(cfg: TrainConfig, ranks: Ranks, *, distill: bool, resume: bool, progress: bool) -> dict[str, Any]:
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    if cfg.optim.threads > 0:
        torch.set_num_threads(cfg.optim.threads)
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    kind = cfg.model.kind
    if distill and kind != "student":
        raise ConfigError("distillation trains a student: set model.kind = 'student'")
    if distill and not cfg.distill.teacher:
        raise ConfigError("distillation needs a teacher checkpoint: --teacher PATH or distill.teacher")
    if distill and cfg.data.mirror > 0.0:
        raise ConfigError("data.mirror with distill: the teacher's outputs are cached for the frames as recorded, "
                          "not mirrored; mirror only in `wayvert train`")

    if cfg.data.selection:
        train_ds = _Indexed(open_selection(cfg.data.selection, cfg))
    else:
        train_ds = _Indexed(open_dataset([cfg.data.train, *map(str, cfg.data.aggregate)], cfg))
    val_ds = open_dataset(cfg.data.val, cfg) if cfg.data.val else None
    if len(train_ds) == 0:
        raise ConfigError(f"no training samples in {cfg.data.train!r} (data.train): generate or convert episodes first")

    if distill and cfg.optim.train == "scenario":
        raise ConfigError("optim.train = 'scenario' learns from the labels alone: use `wayvert train`, not distill")
    extra = ({"scenario_branch": cfg.model.scenario_branch, "scenario_memory": cfg.model.scenario_memory,
              "scenario_previous_frame": cfg.model.scenario_previous_frame} if kind == "student" else {})
    model = build_model(kind, modes=cfg.model.modes, cameras=cfg.model.cameras, height=cfg.model.height,
                        width=cfg.model.width, **extra)
    if cfg.init:
        init_from(model, cfg.init)
    if cfg.optim.train == "scenario":
        freeze_all_but_scenario(model)
    model_config = dict(model.config)                 # every constructor argument, so checkpoints rebuild it exactly
    teacher_out: dict[str, torch.Tensor] | None = None
    if distill:
        teacher, _ = load_model(cfg.distill.teacher)
        teacher_out = _teacher_cache(teacher, train_ds, cfg.optim.batch_size, progress)
        del teacher

    if ranks.world_size > 1:
        sampler: Any = DistributedSampler(train_ds, num_replicas=ranks.world_size, rank=ranks.rank,
                                          shuffle=True, seed=cfg.seed)
    else:
        order = torch.Generator()                  # re-seeded every epoch: a resumed run sees the same batches
        sampler = RandomSampler(train_ds, generator=order)
    loader = DataLoader(train_ds, batch_size=cfg.optim.batch_size, sampler=sampler, drop_last=len(train_ds) >= 2 * cfg.optim.batch_size,
                        num_workers=cfg.data.workers, persistent_workers=cfg.data.workers > 0)
    steps_per_epoch = len(loader)
    total_steps = steps_per_epoch * cfg.optim.epochs
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(total_steps, cfg.optim.warmup_steps))

    start_epoch, step = 0, 0
    if resume:
        ck = latest_checkpoint(out)
        if ck is not None:
            state = load_checkpoint(ck)
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            start_epoch, step = int(state["epoch"]), int(state["step"])
            if progress:
                print(f"resuming from {ck} (epoch {start_epoch}, step {step})")

    net: torch.nn.Module = model
    if ranks.world_size > 1:
        net = torch.nn.parallel.DistributedDataParallel(model)

    weights = LossWeights(**cfg.loss.weights())
    class_weights = (inverse_frequency(torch.from_numpy(train_ds.base.scenario_counts()))
                     if cfg.loss.balance_scenario else None)
    log_path = out / "train_log.jsonl"
    t_start = time.perf_counter()
    seen = mirrored = 0
    val: dict[str, float] = {}
    perm = mirror_permutation(shipped_rig(schema.CANONICAL_RIG)) if cfg.data.mirror > 0.0 else None
    mirror_draws = torch.Generator()
    model.train()
    for epoch in range(start_epoch, cfg.optim.epochs):
        mirror_draws.manual_seed(cfg.seed * 100_019 + epoch)
        if isinstance(sampler, DistributedSampler):
            sampler.set_epoch(epoch)
        else:
            order.manual_seed(cfg.seed * 100_003 + epoch)
        totals: dict[str, float] = {}
        bar = tqdm(loader, desc=f"{'distill' if distill else 'train'} {kind} epoch {epoch + 1}/{cfg.optim.epochs}",
                   disable=not progress, leave=False)
        for batch in bar:
            if perm is not None:
                which = torch.rand(len(batch["index"]), generator=mirror_draws) < cfg.data.mirror
                batch = mirror_batch(batch, perm, which)
                mirrored += int(which.sum())
            pred = net(*model_inputs(kind, batch), **memory_inputs(model, batch))
            if teacher_out is not None:
                soft = {k: v[batch["index"]] for k, v in teacher_out.items()}
                loss, parts = distillation_loss(pred, soft, batch, alpha=cfg.distill.alpha,
                                                temperature=cfg.distill.temperature, weights=weights,
                                                soft_scenario=cfg.distill.soft_scenario,
                                                scenario_class_weights=class_weights)
            else:
                loss, parts = imitation_loss(pred, batch, weights, class_weights)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {float(loss)} at step {step} (epoch {epoch + 1})")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, cfg.optim.grad_clip)
            optimizer.step()
            scheduler.step()
            step += 1
            seen += len(batch["index"])
            totals["loss"] = totals.get("loss", 0.0) + float(loss.detach())
            for k, v in parts.items():
                totals[k] = totals.get(k, 0.0) + float(v)
            bar.set_postfix(loss=f"{float(loss.detach()):.3f}")
        epoch_log = {k: mean_over_ranks(v / max(steps_per_epoch, 1), ranks) for k, v in totals.items()}
        if val_ds is not None and len(val_ds) and ranks.main:
            val = evaluate_open_loop(val_ds, cfg.optim.batch_size, model, kind)
        if ranks.main:
            record = {"epoch": epoch + 1, "step": step, "lr": scheduler.get_last_lr()[0], **epoch_log,
                      **{f"val_{k}": v for k, v in val.items()}}
            with open(log_path, "a") as f:
                f.write(json.dumps(record) + "\n")
            if progress:
                shown = ", ".join(f"{k} {v:.3f}" for k, v in record.items() if isinstance(v, float))
                print(f"{kind} epoch {epoch + 1}/{cfg.optim.epochs}: {shown}")
            save_checkpoint(out / f"epoch-{epoch + 1:03d}.pt", model=model, kind=kind, model_config=model_config,
                            train_config=cfg.to_dict(), epoch=epoch + 1, step=step, optimizer=optimizer,
                            scheduler=scheduler, metrics=val)
            for old in sorted(out.glob("epoch-*.pt"))[:-KEEP_EPOCH_CHECKPOINTS]:
                old.unlink()
        barrier(ranks)

    elapsed = time.perf_counter() - t_start
    digest = parameter_digest(model)
    (out / f"rank-{ranks.rank}.digest").write_text(digest + "\n")
    summary = {"kind": kind, "distilled": distill, "epochs": cfg.optim.epochs, "steps": step,
               "world_size": ranks.world_size, "train_samples": len(train_ds),
               "seconds": round(elapsed, 2), "samples_per_s": round(seen * ranks.world_size / max(elapsed, 1e-9), 1),
               "parameters": sum(p.numel() for p in model.parameters()),
               "trained_parameters": sum(p.numel() for p in trainable), "digest": digest, "val": val,
               "mirrored_samples": mirrored,  # data.mirror: training samples this rank saw mirrored, this run
               "scenario_class_weights": None if class_weights is None else [round(float(w), 4) for w in class_weights],
               "config": cfg.to_dict()}
    if ranks.main:
        save_checkpoint(out / "model.pt", model=model, kind=kind, model_config=model_config,
                        train_config=cfg.to_dict(), epoch=cfg.optim.epochs, step=step, metrics=val)
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
