"""Training sets: episodes recorded from the synthetic world (``generate``), logs of your own converted to episodes
(``convert_log``), the training targets (numpy only) and, in ``wayvert.training.data.dataset``, the PyTorch dataset.
The episode format itself (reader, writer, store) is ``wayvert.episodes``."""
from .generate import generate_dataset, generate_episode
from .targets import Targets, episode_targets, future_trajectory, sample_frames

__all__ = ["generate_episode", "generate_dataset", "Targets", "episode_targets", "future_trajectory", "sample_frames"]
