"""Import real conversations (ESConv, chat-export JSONL, message CSV) as anonymized records
with observer labels and the labels that came with the data."""

from .build import IMPORTED_CLIENT, BuildOptions
from .config import TopicChoice
from .csv_chat import CsvLayout
from .run import FORMATS, ImportReport, ImportResult, import_file

__all__ = [
    "FORMATS",
    "IMPORTED_CLIENT",
    "BuildOptions",
    "CsvLayout",
    "ImportReport",
    "ImportResult",
    "TopicChoice",
    "import_file",
]
