"""What an import replaced, per kind: written next to the records and printed."""

from __future__ import annotations

from pydantic import Field

from emosim.schemas.common import StrictModel

from .kinds import PII_KINDS

METHOD = "emosim-anonymize/1 (phonenumbers, python-stdnum, patterns, Census name lists)"


class AnonymizationReport(StrictModel):
    enabled: bool = Field(description="False when the import ran with --no-anonymize.")
    method: str = Field(default=METHOD, description="Anonymizer and version.")
    conversations: int = Field(default=0, description="Conversations anonymized.")
    turns_changed: int = Field(default=0, description="Turns in which something was replaced.")
    replaced: dict[str, int] = Field(
        default_factory=lambda: dict.fromkeys(PII_KINDS, 0),
        description="Kind -> number of spans replaced by a placeholder.",
    )

    def add(self, counts: dict[str, int], turns_changed: int) -> None:
        self.conversations += 1
        self.turns_changed += turns_changed
        for kind, n in counts.items():
            self.replaced[kind] = self.replaced.get(kind, 0) + n

    @property
    def total(self) -> int:
        return sum(self.replaced.values())
