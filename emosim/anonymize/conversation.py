"""Anonymize a whole conversation: detect per turn, then replace with typed placeholders that
stay consistent across the conversation ("Sarah" and "Sarah Miller" are one [CLIENT_NAME_1]).

Names found once are searched for again in every turn (a name the cues revealed in one turn
is a name wherever it is written). Who a name belongs to comes from the cues: the speaker's
self-introduction, or a greeting that addresses the other speaker.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from .detect import detect
from .kinds import PiiSpan, resolve_overlaps
from .lexicon import Lexicon, get_lexicon
from .names import POSSESSIVE, WORD

Speaker = str  # "client" or "advisor"
ROLE_LABEL = {"client": "CLIENT_NAME", "advisor": "ADVISOR_NAME"}
_MERGEABLE_GAP = re.compile(r"^[,\s]{0,3}$")
# After a name confirmed elsewhere, these make a sentence-initial ambiguous word the subject
# ("Bill is fine") rather than a noun ("Bill collectors call").
_SUBJECT_VERBS = frozenset(
    "is was said says and has had thinks wants told called does did doesn't didn't can can't "
    "keeps just never always also knows feels felt wanted asked agreed got".split()
)


@dataclass
class Replacement:
    """One replaced span. `original` stays in memory only (tests); it is never written."""

    turn: int
    start: int
    end: int
    kind: str
    placeholder: str
    original: str


@dataclass
class AnonymizedConversation:
    texts: list[str]
    replacements: list[Replacement] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter(r.kind for r in self.replacements)


@dataclass
class _Entity:
    tokens: tuple[str, ...]
    role: str | None = None
    placeholder: str = ""


def _merge_adjacent(text: str, spans: list[PiiSpan]) -> list[PiiSpan]:
    """Join address pieces found separately ("12 Oak St" + ", Apt 4" + ", Reno, NV 89501")."""
    out: list[PiiSpan] = []
    for s in spans:
        if (
            out
            and s.kind == out[-1].kind == "address"
            and _MERGEABLE_GAP.match(text[out[-1].end : s.start])
        ):
            prev = out.pop()
            s = PiiSpan.make(text, prev.start, s.end, "address")
        out.append(s)
    return out


class ConversationAnonymizer:
    def __init__(self, lexicon: Lexicon | None = None):
        self.lx = lexicon or get_lexicon()

    def _gazetteer(self, texts: list[str], spans: list[list[PiiSpan]]) -> None:
        """Find again, in every turn, the words of names already found."""
        words: set[str] = set()
        for turn in spans:
            for s in turn:
                if s.kind == "name":
                    words.update(w for w in WORD.findall(POSSESSIVE.sub("", s.text)) if len(w) > 1)
        words = {w for w in words if w.lower() not in self.lx.not_name}
        if not words:
            return
        # a name that is no English word is the name in any case ("Kamau" and "kamau")
        alternatives = [
            re.escape(w) if self.lx.is_dictionary_word(w) else f"(?i:{re.escape(w)})"
            for w in sorted(words, key=len, reverse=True)
        ]
        word = "(?:" + "|".join(alternatives) + ")"
        pattern = re.compile(r"(?<![\w\[])" + word + r"(?: " + word + r")*(?![\w\]])")
        for t, text in enumerate(texts):
            extra = []
            for m in pattern.finditer(text):
                first = m.group().split(" ")[0]
                before = text[: m.start()].rstrip(" \"'(")
                initial = not before or before[-1] in ".!?\n:"
                after = text[m.end() :].split(maxsplit=1)
                verb = bool(after) and after[0].lower().strip(",.") in _SUBJECT_VERBS
                if (
                    first.lower() in self.lx.ambiguous
                    and initial
                    and " " not in m.group()
                    and not verb
                ):
                    continue  # "Will you..." / "Bill collectors..." at a sentence start
                extra.append(PiiSpan.make(text, m.start(), m.end(), "name", boost=-1))
            if extra:
                spans[t] = resolve_overlaps(spans[t] + extra)

    def _entities(
        self, speakers: list[Speaker], spans: list[list[PiiSpan]]
    ) -> dict[tuple[int, int], _Entity]:
        entities: list[_Entity] = []
        owner: dict[tuple[int, int], _Entity] = {}
        for t, turn in enumerate(spans):
            for s in turn:
                if s.kind != "name":
                    continue
                tokens = tuple(w.lower() for w in WORD.findall(s.text) if len(w) > 1) or (
                    s.text.lower(),
                )
                entity = self._link(entities, tokens)
                if entity is None:
                    entity = _Entity(tokens)
                    entities.append(entity)
                elif len(tokens) > len(entity.tokens) and tokens[0] == entity.tokens[0]:
                    entity.tokens = tokens
                if s.role and entity.role is None:
                    speaker = speakers[t]
                    other = "advisor" if speaker == "client" else "client"
                    entity.role = speaker if s.role == "self" else other
                owner[(t, s.start)] = entity
        for number, entity in enumerate(entities, start=1):
            label = ROLE_LABEL.get(entity.role or "", "PERSON")
            entity.placeholder = f"[{label}_{number}]"
        return owner

    @staticmethod
    def _link(entities: list[_Entity], tokens: tuple[str, ...]) -> _Entity | None:
        for e in entities:
            if tokens == e.tokens:
                return e
        for e in entities:
            if len(tokens) == 1 and tokens[0] in (e.tokens[0], e.tokens[-1]):
                return e
            if len(e.tokens) == 1 and e.tokens[0] in (tokens[0], tokens[-1]):
                return e
            if len(tokens) > 1 and len(e.tokens) > 1 and tokens[0] == e.tokens[0]:
                return e
        return None

    def anonymize(self, turns: list[tuple[Speaker, str]]) -> AnonymizedConversation:
        texts = [text for _, text in turns]
        speakers = [speaker for speaker, _ in turns]
        spans = [detect(text, self.lx) for text in texts]
        self._gazetteer(texts, spans)
        spans = [_merge_adjacent(text, s) for text, s in zip(texts, spans, strict=True)]
        owner = self._entities(speakers, spans)
        numbers: dict[str, dict[str, str]] = {}
        out_texts: list[str] = []
        replacements: list[Replacement] = []
        for t, (text, turn_spans) in enumerate(zip(texts, spans, strict=True)):
            pieces: list[str] = []
            cursor = 0
            for s in turn_spans:
                if s.kind == "name":
                    placeholder = owner[(t, s.start)].placeholder
                else:
                    seen = numbers.setdefault(s.label, {})
                    key = re.sub(r"\W", "", s.text.lower())
                    placeholder = seen.setdefault(key, f"[{s.label}_{len(seen) + 1}]")
                pieces += [text[cursor : s.start], placeholder]
                cursor = s.end
                replacements.append(Replacement(t, s.start, s.end, s.kind, placeholder, s.text))
            pieces.append(text[cursor:])
            out_texts.append("".join(pieces))
        return AnonymizedConversation(out_texts, replacements)
