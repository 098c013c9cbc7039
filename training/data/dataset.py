"""``EpisodeDataset``: training samples (frame sets with their targets) from episodes, as PyTorch tensors.

The only module of wayvert.training.data that imports torch. The episodes are validated and their targets
computed (numpy, ``targets.py``) when the dataset is built; camera frames are memory-mapped lazily by whichever
process reads them (a DataLoader worker maps its own, forked or spawned), so no episode is ever loaded whole.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import torch

from wayvert import schema
from wayvert.episodes.reader import Episode, find_episodes
from wayvert.episodes.spec import camera_file
from wayvert.episodes.store import open_store

from .canonical_view import CanonicalView
from .targets import episode_targets

HISTORY_STEP_S = schema.HISTORY_STRIDE * schema.FRAME_DT_S   # 0.5 s between history frames
_TIME_TOLERANCE_S = 1e-6


def normalize_image(images: torch.Tensor) -> torch.Tensor:
    """uint8 RGB images (channels at dim -3) -> float32 (x / 255 - NORM_MEAN) / NORM_STD per channel."""
    mean = torch.as_tensor(schema.NORM_MEAN, device=images.device).view(3, 1, 1)
    std = torch.as_tensor(schema.NORM_STD, device=images.device).view(3, 1, 1)
    return (images.to(torch.float32) / 255.0 - mean) / std


def history_indices(frame_t_s: np.ndarray, index: int, history: int, step_s: float = HISTORY_STEP_S) -> np.ndarray:
    """Frame-set indices of the ``history`` frames ending at ``index``, oldest first: for each k, the latest frame
    at or before t - k * step_s, the first frame if none (at 2 Hz with the 0.5 s step: index - k, clamped at 0)."""
    t = frame_t_s[index] - step_s * np.arange(history - 1, -1, -1)
    j = np.searchsorted(frame_t_s, t + _TIME_TOLERANCE_S, side="right") - 1
    return np.clip(j, 0, index)


def _expand(paths_or_root: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list:
    if isinstance(paths_or_root, (str, os.PathLike)):
        return find_episodes(paths_or_root)
    return [p for item in paths_or_root for p in find_episodes(item)]


class EpisodeDataset(torch.utils.data.Dataset):
    """Map-style dataset of (episode, frame) samples; see docs/episode-format.md section "Samples".

    ``paths_or_root``: a folder of episodes, one episode, or a list of either. ``where(meta) -> bool`` keeps the
    episodes whose episode.json passes (e.g. ``lambda m: not m["bad_dreams"]``). ``history`` frames per sample,
    ``history_step_s`` (s) apart. Frames of a non-canonical rig go through the sensor adapter (CanonicalView).
    """

    def __init__(self, paths_or_root, history: int = schema.HISTORY_FRAMES,
                 where: Callable[[dict[str, Any]], bool] | None = None, history_step_s: float = HISTORY_STEP_S):
        if history < 1:
            raise ValueError(f"history must be >= 1, got {history}")
        self.history = int(history)
        self.history_step_s = float(history_step_s)
        self.paths, self.metas, self.targets, self.frame_times, self.views = [], [], [], [], []
        views_by_rig: dict[str, CanonicalView] = {}
        for path in _expand(paths_or_root):
            ep = Episode(path)
            if where is not None and not where(ep.meta):
                continue
            self.paths.append(str(path))
            self.metas.append(ep.meta)
            self.targets.append(episode_targets(ep.ego, ep.frames))
            self.frame_times.append(ep.frames.t_s)
            key = repr(ep.rig.to_dict())
            self.views.append(views_by_rig.setdefault(key, CanonicalView(ep.rig)))
        pairs = [(e, k) for e, tg in enumerate(self.targets) for k in range(len(tg))]
        self.index = np.array(pairs, np.int64).reshape(-1, 2)
        self._cameras: dict[int, dict[str, np.ndarray]] = {}

    def scenario_counts(self) -> np.ndarray:
        """Samples per scenario class [len(schema.SCENARIOS)], counting only those whose label is known."""
        counts = np.zeros(len(schema.SCENARIOS), np.int64)
        for e, k in self.index:
            tg = self.targets[int(e)]
            if bool(tg.has_scenario[k]):
                counts[int(tg.scenario[k])] += 1
        return counts

    def keep_frames(self, frames: Mapping[str, Iterable[int]]) -> None:
        """Keep only the samples ``frames`` lists ({episode path: frame-set indices}, e.g. a ``wayvert curate``
        selection); raises ``SelectionFileError`` for an episode or frame that is not a sample of this dataset."""
        from wayvert.curate import SelectionFileError

        by_path = {os.path.normpath(p): e for e, p in enumerate(self.paths)}
        keep = np.zeros(len(self.index), bool)
        for path, wanted in frames.items():
            e = by_path.get(os.path.normpath(path))
            if e is None:
                raise SelectionFileError(f"selected episode {path!r} is not among the dataset's episodes "
                                         "(or data.bad_dreams = false left it out)")
            rows = np.nonzero(self.index[:, 0] == e)[0]
            have = {int(self.targets[e].frame[k]): r for k, r in zip(self.index[rows, 1], rows)}
            missing = sorted(set(int(f) for f in wanted) - set(have))
            if missing:
                raise SelectionFileError(f"selected frame {missing[0]} of {path!r} is not a sample of that episode "
                                         f"(it has {len(have)})")
            keep[[have[int(f)] for f in wanted]] = True
        self.index = self.index[keep]

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_cameras"] = {}   # memory maps are per process: each worker maps the files itself
        return state

    def __len__(self) -> int:
        return len(self.index)

    def _frame_sets(self, e: int) -> dict[str, np.ndarray]:
        if e not in self._cameras:
            store = open_store(self.paths[e])
            self._cameras[e] = {name: store.open_npy(camera_file(name)) for name in self.metas[e]["cameras"]}
        return self._cameras[e]

    def canonical_images(self, e: int, frame: int) -> np.ndarray:
        """Frame set ``frame`` of episode ``e`` as canonical RGB, uint8 [V, 3, H, W]."""
        cams = self._frame_sets(e)
        return self.views[e]({name: a[frame] for name, a in cams.items()})[0]

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        e, k = (int(v) for v in self.index[i])
        tg = self.targets[e]
        frame = int(tg.frame[k])
        idx = history_indices(self.frame_times[e], frame, self.history, self.history_step_s)
        converted = {j: self.canonical_images(e, j) for j in sorted(set(idx.tolist()))}
        history = torch.from_numpy(np.stack([converted[j] for j in idx]))
        command = torch.zeros(len(schema.COMMANDS), dtype=torch.float32)
        command[int(tg.command[k])] = 1.0
        f32 = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
        return {
            "image": history[-1].clone(),
            "history": history,
            "ego": f32(tg.ego[k]),
            "command": command,
            "trajectory": f32(tg.trajectory[k]),
            "target_speed": f32(tg.target_speed[k]),
            "curvature": f32(tg.curvature[k]),
            "lead_distance": f32(tg.lead_distance[k]),
            "has_lead_distance": torch.tensor(bool(tg.has_lead_distance[k])),
            "scenario": torch.tensor(int(tg.scenario[k]), dtype=torch.int64),
            "has_scenario": torch.tensor(bool(tg.has_scenario[k])),
            "episode": torch.tensor(e, dtype=torch.int64),
            "frame": torch.tensor(frame, dtype=torch.int64),
            # whether the frame set before this one exists (the oldest history frame is an earlier one)
            "has_previous": torch.tensor(bool(idx[0] < frame)),
        }
