"""Lineage families: variations of one seed share a family, and a family never straddles splits."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence

from ..schemas import ConversationRecord

EMBEDDED_KEY = "emosim.exports.families.family_key (seed_id, parent_id or scenario_id)"


def family_key(record: ConversationRecord) -> str:
    """Fallback family of one record: its seed, else its parent, else its scenario."""
    return record.lineage.seed_id or record.lineage.parent_id or record.scenario.scenario_id


def _lineage_family_of() -> Callable[[Sequence[ConversationRecord]], dict[str, str]] | None:
    if importlib.util.find_spec("emosim.lineage") is None:
        return None
    family_of = getattr(importlib.import_module("emosim.lineage"), "family_of", None)
    return family_of if callable(family_of) else None


def family_source() -> str:
    """Which family function `families` uses (recorded in the export manifest)."""
    return "emosim.lineage.family_of" if _lineage_family_of() else EMBEDDED_KEY


def families(records: Sequence[ConversationRecord]) -> dict[str, str]:
    """record id -> family id, from the lineage graph when the lineage module is installed."""
    family_of = _lineage_family_of()
    graph = family_of(list(records)) if family_of else {}
    return {r.id: str(graph.get(r.id) or family_key(r)) for r in records}
