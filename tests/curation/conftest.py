"""Small episode stores for the index and curation tests: generated once per session (a few seconds)."""
from __future__ import annotations

from pathlib import Path

import pytest

import wayvert

pytest.importorskip("pyarrow")


@pytest.fixture(scope="session")
def episodes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three short episodes (4 frame sets each at 2 Hz): one rainy, one at dusk with injected cut-ins, one plain."""
    from wayvert.training.data import generate_episode

    root = tmp_path_factory.mktemp("store")
    generate_episode(root / "episode_a", seed=21, duration_s=2.0, weather="rain", lighting="day")
    generate_episode(root / "episode_b", seed=22, duration_s=2.0, weather="dry", lighting="dusk", lanes=3,
                     cut_in_rate=12.0)
    generate_episode(root / "episode_c", seed=23, duration_s=2.0, weather="dry", lighting="day")
    return root


@pytest.fixture(scope="session")
def engine_path() -> str:
    return wayvert.reference_engine_path()


@pytest.fixture(scope="session")
def index_dir(episodes: Path, engine_path: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from wayvert.index import build_index

    out = tmp_path_factory.mktemp("index") / "idx"
    build_index(episodes, engine_path, out, threads=2, verify=True, progress=False)
    return out
