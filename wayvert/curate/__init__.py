"""Curation of an index (docs/curation.md): coverage of a curriculum, a balanced and de-duplicated selection that
``wayvert train`` samples from, and nearest-frame queries. numpy only (an index needs pyarrow to read)."""
from .output import SELECTION_COLUMNS, SelectionFileError, read_selection, write_selection
from .select import Requirement, Selection, class_quotas, nearest, select_frames
from .spec import Condition, Curriculum, CurriculumError, load_curriculum, parse_curriculum

__all__ = ["Condition", "Curriculum", "CurriculumError", "Requirement", "SELECTION_COLUMNS", "Selection",
           "SelectionFileError", "class_quotas", "load_curriculum", "nearest", "parse_curriculum", "read_selection",
           "select_frames", "write_selection"]
