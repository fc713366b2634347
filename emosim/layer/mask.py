"""Domain masking for the layer's training data: keep how a reply meets a feeling, drop what
it is about.

Replaced, longest phrase first, case-insensitive, on word boundaries:
- names: the client persona's and the advisor's names (whole and each part), then any name
  the anonymizer's detector finds (`emosim.anonymize`) -> [NAME]; other personal data it
  finds (addresses, e-mails, phone numbers...) -> [PII];
- the scenario/topic vocabulary: every topic's name, phrase and sub-category names, and the
  domain nouns of the topic ids (retirement, debt, tax...; not generic ones such as planning)
  -> [TOPIC];
  its key terms (401(k), Roth IRA, APR...) and the acronyms the fact base uses -> [TERM];
- figures: amounts ($, "dollars", k/K) -> [AMOUNT], percentages -> [PERCENT], any other number
  (digits or number words) -> [NUMBER].

What remains is the emotional skeleton: the acknowledgement, the validation, the question, in
the reply's own words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from emosim.catalog import Catalog
from emosim.schemas.record import ConversationRecord

_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty "
    "ninety hundred thousand million billion trillion half quarter dozen"
).split()
_NUM = r"\d[\d,]*(?:\.\d+)?"
_WORDNUM = r"(?:" + "|".join(_NUMBER_WORDS) + r")(?:[\s-]+(?:" + "|".join(_NUMBER_WORDS) + r"))*"
_AMOUNT = re.compile(
    rf"\$\s?{_NUM}(?:\s?(?:k|K|m|M|bn|million|billion|thousand)\b)?"
    rf"|\b{_NUM}\s?(?:k|K)\b"
    rf"|\b(?:{_NUM}|{_WORDNUM})\s+(?:dollars|bucks|grand)\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(rf"\b(?:{_NUM}|{_WORDNUM})\s?(?:%|percent\b|per cent\b)", re.IGNORECASE)
_NUMBER = re.compile(rf"\b{_NUM}(?:st|nd|rd|th|s)?\b|\b{_WORDNUM}\b|\d+", re.IGNORECASE)
_ACRONYM = re.compile(r"\b[A-Z]{2,}[a-z]?\b|\b\d{3}\([a-z]\)")
PLACEHOLDERS = ("[NAME]", "[PII]", "[TOPIC]", "[TERM]", "[AMOUNT]", "[PERCENT]", "[NUMBER]")
_KEEP_ACRONYMS = {"OK", "I", "US"}
_GENERIC_TOPIC_WORDS = frozenset(
    "planning management basics buying transition small costs flow caring for aging parents "
    "home fund social security".split()
)


def _alternation(phrases: Iterable[str]) -> re.Pattern[str] | None:
    unique = sorted({p.strip() for p in phrases if len(p.strip()) > 1}, key=lambda p: (-len(p), p))
    if not unique:
        return None
    body = "|".join(re.escape(p) for p in unique)
    return re.compile(rf"(?<![\w\[])(?:{body})(?![\w\]])", re.IGNORECASE)


def domain_vocabulary(catalog: Catalog) -> tuple[list[str], list[str]]:
    """(topic phrases, terms): what the catalog knows about the domain."""
    topics: list[str] = []
    terms: list[str] = []
    for topic in catalog.topics.values():
        topics += [topic.name, topic.phrase or ""]
        topics += [s.name for s in topic.subcategories]
        nouns = [w for w in topic.id.split("_") if w not in _GENERIC_TOPIC_WORDS]
        topics += nouns + [f"{w}s" for w in nouns]
        terms += list(topic.key_terms)
    for fact in catalog.facts.facts:
        terms += [a for a in _ACRONYM.findall(fact.statement) if a not in _KEEP_ACRONYMS]
    return topics, terms


def record_names(record: ConversationRecord, catalog: Catalog) -> list[str]:
    """The names a record's people go by: client persona and advisor, whole and in parts."""
    names = [catalog.advisor.name]
    persona = record.scenario.client_persona or catalog.clients.get(
        record.scenario.client_persona_id
    )
    if persona is not None:
        names.append(persona.name)
    return names + [part for n in names for part in n.split() if len(part) > 1]


@dataclass
class Masker:
    names: re.Pattern[str] | None
    topics: re.Pattern[str] | None
    terms: re.Pattern[str] | None
    detect_names: bool = True

    @classmethod
    def for_record(cls, record: ConversationRecord, catalog: Catalog) -> Masker:
        topics, terms = domain_vocabulary(catalog)
        return cls(
            _alternation(record_names(record, catalog)), _alternation(topics), _alternation(terms)
        )

    def __call__(self, text: str) -> str:
        for pattern, token in (
            (self.names, "[NAME]"),
            (self.terms, "[TERM]"),
            (self.topics, "[TOPIC]"),
        ):
            if pattern is not None:
                text = pattern.sub(token, text)
        if self.detect_names:
            text = _mask_detected(text)
        text = _PERCENT.sub("[PERCENT]", text)
        text = _AMOUNT.sub("[AMOUNT]", text)
        return _NUMBER.sub("[NUMBER]", text)


def _mask_detected(text: str) -> str:
    from emosim.anonymize.detect import detect

    spans = sorted(detect(text), key=lambda s: s.start, reverse=True)
    taken = len(text) + 1
    for span in spans:
        if span.end > taken or text[span.start : span.end] in PLACEHOLDERS:
            continue
        token = "[NAME]" if span.kind == "name" else "[PII]"
        text = text[: span.start] + token + text[span.end :]
        taken = span.start
    return text
