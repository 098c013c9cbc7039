"""`wayvert train --set data.selection=SELECTION` trains on exactly the frames a curation selected."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from wayvert.curate import SelectionFileError  # noqa: E402
from wayvert.episodes import EpisodeError  # noqa: E402
from wayvert.training.config import TrainConfig  # noqa: E402
from wayvert.training.run.loop import open_selection  # noqa: E402


def test_the_dataset_holds_exactly_the_selected_frames(episodes: Path, tmp_path: Path) -> None:
    sel = tmp_path / "sel.csv"
    sel.write_text(f"episode_path,frame,episode,scenario,why\n{episodes}/episode_b,3,x,cut_in,class:cut_in\n"
                   f"{episodes}/episode_a,0,y,rain,fill\n{episodes}/episode_b,1,x,following,fill\n")
    ds = open_selection(str(sel), TrainConfig())
    got = sorted((Path(ds.paths[int(s["episode"])]).name, int(s["frame"])) for s in (ds[i] for i in range(len(ds))))
    assert got == [("episode_a", 0), ("episode_b", 1), ("episode_b", 3)]


@pytest.mark.parametrize("row, error, message", [("{root}/episode_z,0", EpisodeError, "no such episode"),
                                                 ("{root}/episode_a,99", SelectionFileError,
                                                  "frame 99 .* is not a sample")])
def test_a_selection_naming_what_is_not_there_is_refused(episodes: Path, tmp_path: Path, row: str, error: type,
                                                         message: str) -> None:
    sel = tmp_path / "sel.csv"
    sel.write_text("episode_path,frame\n" + row.format(root=episodes) + "\n")
    with pytest.raises(error, match=message):
        open_selection(str(sel), TrainConfig())
