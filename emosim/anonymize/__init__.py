"""Anonymization of real transcripts: typed, conversation-consistent placeholders for names,
contact details, addresses, dates of birth and id, account, card and routing numbers."""

from .conversation import AnonymizedConversation, ConversationAnonymizer, Replacement
from .detect import detect
from .kinds import PII_KINDS, PiiKind, PiiSpan
from .report import AnonymizationReport

__all__ = [
    "PII_KINDS",
    "AnonymizationReport",
    "AnonymizedConversation",
    "ConversationAnonymizer",
    "PiiKind",
    "PiiSpan",
    "Replacement",
    "detect",
]
