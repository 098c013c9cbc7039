"""The names the episode format fixes (docs/episode-format.md): files, columns, version; and ``EpisodeError``."""
from __future__ import annotations

from wayvert.errors import InputError

FORMAT_NAME = "wayvert-episode"
FORMAT_VERSION = 1

META_FILE = "episode.json"
RIG_FILE = "rig.json"
EGO_FILE = "ego.csv"
FRAMES_FILE = "frames.csv"
OBJECTS_FILE = "objects.jsonl"
CAMERAS_DIR = "cameras"

#: ego.csv: every column is required, in any order (world / odometry frame, rear axle; metres, radians, m/s).
EGO_COLUMNS = ("t_s", "x_m", "y_m", "yaw_rad", "speed_mps", "accel_mps2", "yaw_rate_rps", "steering_rad", "command")
#: frames.csv: required columns, then optional label columns (an empty cell = label unknown for that frame).
FRAME_COLUMNS = ("index", "t_s")
FRAME_LABEL_COLUMNS = ("scenario", "lead_gap_m")
#: One object of objects.jsonl (ego frame of its frame set; class codes as wayvert.sim.traffic).
OBJECT_FIELDS = ("x_m", "y_m", "heading_rad", "speed_mps", "length_m", "width_m", "class")

TRAFFIC_SIDES = ("right", "left")
WEATHERS = ("dry", "rain")
LIGHTINGS = ("day", "dusk")


class EpisodeError(InputError):
    """An episode on disk (or being written) breaks docs/episode-format.md; the message names the file and
    the problem."""


def camera_file(name: str) -> str:
    """Path of a camera's frame array inside the episode."""
    return f"{CAMERAS_DIR}/{name}.npy"
