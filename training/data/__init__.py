"""Episodes: the on-disk format (docs/episode-format.md), its reader and writer, the synthetic-world generator,
the training targets (numpy only) and, in ``wayvert.training.data.dataset``, the PyTorch dataset."""
from .generate import draw_variety, generate_dataset, generate_episode
from .reader import EgoLog, Episode, FrameTable, find_episodes, iter_episodes, open_episode
from .spec import EpisodeError
from .targets import Targets, episode_targets, future_trajectory, sample_frames
from .writer import EpisodeWriter, pack_tar

__all__ = ["EpisodeError", "Episode", "EgoLog", "FrameTable", "open_episode", "find_episodes", "iter_episodes",
           "EpisodeWriter", "pack_tar", "generate_episode", "generate_dataset", "draw_variety", "Targets",
           "episode_targets", "future_trajectory", "sample_frames"]
