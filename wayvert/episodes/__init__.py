"""Episodes (numpy only): the on-disk format of docs/episode-format.md, its reader, writer and store (a folder or
a tar, memory-mapped)."""
from .reader import EgoLog, Episode, FrameTable, find_episodes, iter_episodes, open_episode
from .spec import EpisodeError
from .writer import EpisodeWriter, pack_tar

__all__ = ["EpisodeError", "Episode", "EgoLog", "FrameTable", "open_episode", "find_episodes", "iter_episodes",
           "EpisodeWriter", "pack_tar"]
