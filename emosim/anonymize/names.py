"""Person names from lists and cues, without an NER model (none can be loaded offline here).

A capitalized word is a name when it is a first name of the 1990 US Census lists that is not
also a common word, or when a cue says so whatever the word: a title ("Mrs. Okafor"), a
self-introduction ("my name is Thandiwe"), a relation ("my sister, Grace"), "named" /
"called", or a greeting that addresses someone ("Hi Bill,"). A name runs on over the
capitalized words right after it ("Maria de la Cruz" stops at lowercase "de"; "Tom Okafor"
takes both). Organisations and public names in lists.yaml `allow_phrases` are kept.
"""

from __future__ import annotations

import re

from .kinds import NameRole, PiiSpan
from .lexicon import Lexicon, alternation

WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")
_POSSESSIVE = re.compile(r"['’]s$")


class NameFinder:
    def __init__(self, lexicon: Lexicon):
        self.lx = lexicon
        lists = lexicon.lists
        rel = alternation(lists.relation_words)
        self.relation = re.compile(
            r"(?:\b(?:my|our|his|her|their|your|the)\s+(?:"
            + rel
            + r")|\b(?:named|called|name's|names))\s*,?\s*$",
            re.IGNORECASE,
        )
        strong_intro = ["my name is", "my name's", "name is", "call me", "names"]
        weak_intro = [p for p in lists.self_intro_phrases if p not in strong_intro]
        self.strong_intro = re.compile(
            r"\b(?:" + alternation(strong_intro) + r")\s*:?\s*$", re.IGNORECASE
        )
        self.weak_intro = re.compile(
            r"(?:^|[.!?,]\s*|\b(?:hi|hello|hey|yes|ok|okay)\W*)(?:"
            + alternation(weak_intro)
            + r")\s*,?\s*$",
            re.IGNORECASE,
        )
        self.title = re.compile(r"\b(?:" + alternation(lists.titles) + r")\.?\s*$", re.IGNORECASE)
        self.vocative = re.compile(
            r"(?:^|[.!?]\s+)(?:" + alternation(lists.vocative_openers) + r")\s*,?\s*$",
            re.IGNORECASE,
        )

    # --- per word ---------------------------------------------------------------------

    def _plain(self, word: str) -> str:
        return _POSSESSIVE.sub("", word).lower()

    def _capitalized(self, word: str) -> bool:
        return word[0].isupper() and not (len(word) > 1 and word.isupper())

    def _sentence_initial(self, text: str, start: int) -> bool:
        before = text[:start].rstrip(" \t\"'“(")
        return not before or before[-1] in ".!?\n:"

    def _cue(self, text: str, start: int, word: str) -> NameRole | str | None:
        """'self', 'addressee', 'other' when a cue names the word, else None."""
        before = text[max(0, start - 40) : start]
        w = self._plain(word)
        cap = self._capitalized(word)
        usable = w not in self.lx.not_name and (cap or self.lx.is_clear_first_name(w))
        if not usable:
            return None
        if self.strong_intro.search(before):
            return "self"
        if (
            self.weak_intro.search(before)
            and self.lx.is_first_name(w)
            and (cap or w not in self.lx.ambiguous)
        ):
            return "self"
        if cap and self.title.search(before):
            return "other"
        if self.relation.search(before) and (
            self.lx.is_first_name(w) or self.lx.is_unknown_word(w)
        ):
            return "other"
        if (
            self.vocative.search(before)
            and cap
            and (self.lx.is_first_name(w) or self.lx.is_unknown_word(w))
        ):
            after = text[start + len(word) : start + len(word) + 2]
            if not after.strip() or after[0] in ",.!?:;-":
                return "addressee"
        return None

    def _closing_vocative(self, text: str, start: int, end: int, word: str) -> bool:
        """ ", Sarah." at the end of a sentence: the speaker addresses someone by name."""
        before = text[:start].rstrip(" ")
        after = text[end : end + 1]
        w = self._plain(word)
        return (
            before.endswith(",")
            and (not after or after in ".!?")
            and self._capitalized(word)
            and (self.lx.is_clear_first_name(w) or self.lx.is_unknown_word(w))
        )

    def _extendable(self, word: str) -> bool:
        # an ambiguous word after a first name is still a surname ("Tom Price")
        return self._capitalized(word) and self._plain(word) not in self.lx.not_name

    # --- per text ---------------------------------------------------------------------

    def find(self, text: str) -> list[PiiSpan]:
        words = [(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]
        spans: list[PiiSpan] = []
        i = 0
        while i < len(words):
            start, end, word = words[i]
            w = self._plain(word)
            role: NameRole | None = None
            cue = self._cue(text, start, word)
            is_name = cue is not None
            if cue in ("self", "addressee"):
                role = cue  # type: ignore[assignment]
            if not is_name and self._closing_vocative(text, start, end, word):
                is_name, role = True, "addressee"
            if not is_name and self._capitalized(word) and w not in self.lx.not_name:
                if self.lx.is_clear_first_name(w):
                    is_name = True
                elif w in self.lx.first_names and i + 1 < len(words):
                    nxt = words[i + 1]
                    is_name = (
                        text[end : nxt[0]] == " "
                        and self._capitalized(nxt[2])
                        and self._plain(nxt[2]) in self.lx.last_names
                        and self._plain(nxt[2]) not in self.lx.not_name
                    )
                if is_name and self._closing_vocative(text, start, end, word):
                    role = "addressee"
            if not is_name:
                i += 1
                continue
            j = i
            # run on over a middle initial and surnames: single spaces, capitalized words
            while j + 1 < len(words) and j - i < 3 and not _POSSESSIVE.search(words[j][2]):
                gap = text[words[j][1] : words[j + 1][0]]
                nxt_word = words[j + 1][2]
                if (
                    gap == " "
                    and self._extendable(nxt_word)
                    or gap == ". "
                    and len(words[j][2]) == 1
                    and self._extendable(nxt_word)
                ):
                    j += 1
                else:
                    break
            span_end = words[j][1]
            last = words[j][2]
            if _POSSESSIVE.search(last):
                span_end -= 2
            spans.append(PiiSpan.make(text, start, span_end, "name", role=role))
            i = j + 1
        return [s for s in spans if not self._allowed(text, s)]

    def _allowed(self, text: str, span: PiiSpan) -> bool:
        return any(
            m.start() <= span.start and span.end <= m.end() for m in self.lx.allow.finditer(text)
        )
