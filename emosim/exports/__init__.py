"""Exports: records -> files that trainers load directly (chat SFT, preference pairs, KTO,
emotion classification), split by lineage family, with a LoRA recipe and a dataset card."""

from .options import FORMATS, ExportOptions, parse_filters, parse_format, parse_split
from .pipeline import ExportPlan, plan_export
from .writer import write_export

__all__ = [
    "FORMATS",
    "ExportOptions",
    "ExportPlan",
    "parse_filters",
    "parse_format",
    "parse_split",
    "plan_export",
    "write_export",
]
