"""What an import replaced, per kind, and a sample of anonymized turns for a person to check:
written next to the records (anonymization_report.json) and printed."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import Field

from emosim.schemas.common import StrictModel

from .kinds import PII_KINDS

METHOD = (
    "emosim-anonymize/2 (phonenumbers, python-stdnum, patterns; names from cues and word shape: "
    "SCOWL English words, GeoNames places, Census first names)"
)
SAMPLE_SIZE = 20
PLACEHOLDER = re.compile(r"\[[A-Z_]+_\d+\]")


class SampleTurn(StrictModel):
    """One anonymized turn as written to the records: placeholders, never a raw value."""

    conversation_id: str
    turn: int
    text: str


class AnonymizationReport(StrictModel):
    enabled: bool = Field(description="False when the import ran with --no-anonymize.")
    method: str = Field(default=METHOD, description="Anonymizer and version.")
    conversations: int = Field(default=0, description="Conversations anonymized.")
    turns_changed: int = Field(default=0, description="Turns in which something was replaced.")
    replaced: dict[str, int] = Field(
        default_factory=lambda: dict.fromkeys(PII_KINDS, 0),
        description="Kind -> number of spans replaced by a placeholder.",
    )
    sample: list[SampleTurn] = Field(
        default_factory=list,
        exclude=True,  # in anonymization_report.json only (see model_dump_json), not elsewhere
        description=f"Up to {SAMPLE_SIZE} anonymized turns (one per conversation, placeholders "
        "shown) for a person to spot-check that nothing identifying is left.",
    )

    def add(self, counts: dict[str, int], turns_changed: int, record: Any = None) -> None:
        """Count one conversation; `record` (a ConversationRecord) may give a sample turn."""
        self.conversations += 1
        self.turns_changed += turns_changed
        for kind, n in counts.items():
            self.replaced[kind] = self.replaced.get(kind, 0) + n
        if record is not None and len(self.sample) < SAMPLE_SIZE:
            turn = next((t for t in record.turns if PLACEHOLDER.search(t.text)), None)
            if turn is not None:
                self.sample.append(
                    SampleTurn(conversation_id=record.id, turn=turn.index, text=turn.text)
                )

    def model_dump_json(self, **kwargs: Any) -> str:  # type: ignore[override]
        """This report on its own holds the sample; nested in the import report it does not."""
        data = self.model_dump(mode="json")
        data["sample"] = [s.model_dump(mode="json") for s in self.sample]
        return json.dumps(data, indent=kwargs.get("indent"), ensure_ascii=False)

    @property
    def total(self) -> int:
        return sum(self.replaced.values())
