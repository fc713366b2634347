"""What the answer bank says to a client's question, so the reading of a reply can see that
the reply holds it.

The reading of a reply (reading.py) decides whether Elena took up the client's question; a
client who finds it untaken asks again. Its word-overlap rule misses answers that use other
words than the question ("How do I make savings last until the next paycheck?" answered with
"Stretching savings often means a bare-bones budget..."), and the client then re-asked a
question Elena had answered. The bank (agents/scripted/answers/, the `answers:` of
agents/scripted/advisor.yaml) holds the answers to each question: a reply holding one of the
answers to the question asked has answered it, whatever backend wrote it. A reply that holds
none falls back to the word rule.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from emosim.catalog import Catalog

from .scripted.templates import AnswerTemplate, expansions
from .scripted.text import split_sentences, stems

# a bank answer is found in a reply sentence holding this share of its fixed content words
HELD = 0.75
MIN_WORDS = 3  # an answer with fewer fixed content words is found only whole
_SLOT = re.compile(r"\{[a-z_]+\}")
_MAX_EXPANSIONS = 256


@functools.lru_cache(maxsize=8192)
def fixed_stems(template: str) -> frozenset[str]:
    """The content words every way of saying an answer holds (its [a|b] alternatives and
    {slots} left out)."""
    text = _SLOT.sub(" ", template)
    ways = expansions(text)
    if len(ways) > _MAX_EXPANSIONS:  # too many ways to list: only the words outside groups
        return stems(re.sub(r"\[[^\[\]]*\]", " ", text))
    common = stems(ways[0])
    for way in ways[1:]:
        common &= stems(way)
    return common


def holds(reply: str, answers: Sequence[str]) -> str | None:
    """The first of `answers` (bank reply templates) that a sentence of `reply` says, else
    None."""
    sentences = [stems(s) for _, _, s in split_sentences(reply) if not s.endswith("?")]
    for answer in answers:
        fixed = fixed_stems(answer)
        if len(fixed) < MIN_WORDS:
            continue
        need = HELD * len(fixed)
        if any(len(fixed & said) >= need for said in sentences):
            return answer
    return None


def asked_part(question: str) -> str:
    """A question asked again without its lead-in: "Let me try again, because I'm still in
    the dark: How do I ...?" -> "How do I ...?"."""
    return question.rsplit(": ", 1)[-1].strip()


@dataclass(frozen=True)
class AnswerBank:
    """The bank's answers by question (the literal question, lower case) and the index that
    finds the bank question a client's words ask."""

    by_text: dict[str, tuple[str, ...]]
    patterns: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]
    catalog: Catalog
    templates: tuple[AnswerTemplate, ...]

    def answers_to(self, question: str, topic: str | None = None) -> tuple[str, ...]:
        """The bank's answers to a question: by its words, its slot pattern, or its meaning
        (the same index the scripted advisor uses); none when the bank has no answer."""
        asked = asked_part(question)
        known = self.by_text.get(asked.lower())
        if known is not None:
            return known
        for pattern, answers in self.patterns:
            if pattern.fullmatch(asked):
                return answers
        from .scripted.retrieval import index_for

        match = index_for(list(self.templates), self.catalog).match(asked, topic)
        return tuple(r.text for r in match.template.replies) if match is not None else ()


def _pattern(question: str) -> re.Pattern[str]:
    parts = _SLOT.split(question)
    return re.compile(".+?".join(re.escape(p) for p in parts), re.IGNORECASE)


_BANKS: dict[int, tuple[Catalog, AnswerBank | None]] = {}


def answer_bank(catalog: Catalog) -> AnswerBank | None:
    """The catalog's answer bank, loaded once per catalog; None when it has no scripted
    advisor files (another domain's catalog without them)."""
    held = _BANKS.get(id(catalog))
    if held is not None and held[0] is catalog:
        return held[1]
    from .backends import load_advisor_templates, scripted_template_paths

    bank: AnswerBank | None = None
    if scripted_template_paths(catalog)["advisor"].is_file():
        templates = tuple(load_advisor_templates(catalog).answers)
        by_text: dict[str, tuple[str, ...]] = {}
        patterns = []
        for t in templates:
            replies = tuple(r.text for r in t.replies)
            if "{" in t.question:
                patterns.append((_pattern(t.question), replies))
            else:
                by_text.setdefault(t.question.lower(), replies)
        bank = AnswerBank(by_text, tuple(patterns), catalog, templates)
    if len(_BANKS) >= 8:
        del _BANKS[next(iter(_BANKS))]
    _BANKS[id(catalog)] = (catalog, bank)
    return bank
