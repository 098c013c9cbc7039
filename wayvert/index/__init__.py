"""The scenario index of an episode store (docs/curation.md): ``build_index`` runs the deployed int8 engine over
every frame and writes Parquet parts with its scenario probabilities, heads, verdicts and trunk embedding;
``read_index`` reads them back. numpy and the C++ runtime; Parquet needs ``pyarrow`` (the ``data`` extra)."""
from .accuracy import Confusion, balanced_accuracy_interval, confusion_of, scenario_confusion, scenario_interval
from .build import FEATURES_OUTPUT, IndexSummary, build_index, indexing_engine
from .table import COLUMNS, Index, IndexFileError, read_index, read_manifest

__all__ = ["COLUMNS", "Confusion", "balanced_accuracy_interval", "confusion_of", "scenario_confusion", "scenario_interval", "FEATURES_OUTPUT", "Index", "IndexFileError", "IndexSummary", "build_index", "indexing_engine",
           "read_index", "read_manifest"]
