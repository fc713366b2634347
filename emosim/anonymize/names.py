"""Person names of any origin, from cues and word shape rather than from one country's lists.

A word is a name when a cue says so, whatever the word and its case, unless it is an English
word (SCOWL) or a place: a self-introduction ("my name is thandiwe", "I'm Khoa", "Kamau
here"), a relation ("my wife Ngozi", "our son, Emre,"), a title ("Mrs. Okafor"), a greeting
or thanks that addresses someone ("Hi Siti,", "thanks linh"), a closing vocative ("..., Tariq.")
or sign-off ("Best, Efthymia"), a pair with the speaker ("Njeri and I", "me and Budi").
Without a cue, a capitalised word is a name when it is not an English word, not a place
(GeoNames), not a brand, holiday, language or people (lists.yaml) and not written like a brand
("DoorDash"); 1990 US Census first names count as names too unless they are common words.
A name runs on over the surname after it ("Olumide Ogunleye", "khoa quach").

No list of names of other origins is used: the one on PyPI (names-dataset 3.3) is a 56 MB
wheel of names taken from the 2021 Facebook leak of 533M accounts, and a list only covers the
names it holds. No NER model either: spaCy's English models are not published on PyPI by
their authors, and one measured as a re-upload finds fewer of these names
(tests/data/names/spacy_baseline.py).
"""

from __future__ import annotations

import re

from .kinds import NameRole, PiiSpan
from .lexicon import Lexicon, alternation

WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_]))*")
POSSESSIVE = re.compile(r"['’][sS]$")
# A capital inside a word marks a brand ("DoorDash", "TurboTax") unless a name prefix explains it.
_INNER_CAPITAL = re.compile(r"(?<=[^\W\d_])[A-Z]")
_NAME_PREFIX = re.compile(r"^(?:Mc|Mac|O['’]|D['’]|De|La|Le|Di|Da|Du|Van|Von)(?=[A-Z])")
_PAIR_AFTER = re.compile(r"^\s+and\s+(?:i|me|myself)\b", re.IGNORECASE)
_PAIR_BEFORE = re.compile(r"\b(?:me|both)\s+and\s*$", re.IGNORECASE)
_HERE_AFTER = re.compile(r"^\s+here\b", re.IGNORECASE)
_TURN_OPENING = re.compile(
    r"^\W*(?:(?:hi|hello|hey|good\s+(?:morning|afternoon|evening)|ok|okay|yes)\W+)?$",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"(?:^|[.!?]\s*|\n\s*|\b(?:best|thanks|cheers|regards|sincerely|warmly|thank you)\s*,?\s*"
    r"|\s[-–—]+\s*)$",
    re.IGNORECASE,
)
# Verbs around a person: with them, a lower-case word that is no English word is a name.
_PERSON_VERB_BEFORE = re.compile(
    r"\b(?:help|helps|helped|helping|tell|told|ask|asked|call|called|text|texted|pay|paid|"
    r"owe|owes|want|wants|wanted|married|marry|miss|thank)\s+$",
    re.IGNORECASE,
)
_PERSON_VERB_AFTER = re.compile(
    r"^\s+(?:said|says|thinks|thought|told|tells|wants|wanted|needs|needed|keeps|kept|"
    r"works|worked|lives|lived|handles|pays|paid|earns|feels|felt|asked|agreed|loves)\b",
    re.IGNORECASE,
)
# After a capitalised word at the start of a sentence: it is the subject, so a person.
_SUBJECT_AFTER = re.compile(
    r"^(?:['’]s\b|\s*,|\s+(?:and|is|was|has|had|does|did|doesn't|didn't|can|can't|will|"
    r"won't|would|got|gets|makes|made|just|also|never|always|still|and\s+i|"
    r"lost|left|quit|retired|started|passed|died|moved|went|came|took|gave|bought|sold|spent|"
    r"saved|lent|borrowed|inherited|owes|loves|hates|knows|helps|helped|called|texted|runs|"
    r"drives|manages|became|turned|graduated|received)\b)",
    re.IGNORECASE,
)
# The same, for a writer who never capitalises: a verb, not "and" or a comma ("noone and").
_LOWER_SUBJECT_AFTER = re.compile(
    r"^\s+(?:is|was|has|had|does|did|doesn't|didn't|doesnt|didnt|can|can't|cant|will|won't|"
    r"would|got|gets|just|also|never|always|still)\b",
    re.IGNORECASE,
)
_DETERMINER_BEFORE = re.compile(
    r"\b(?:the|a|an|this|these|those|some|any|every|each|no)\s+$", re.IGNORECASE
)
# "my job is unfulfilling and I": an adjective, not a person, before "and I"
_COPULA_BEFORE = re.compile(
    r"\b(?:is|are|was|were|be|been|being|am|so|very|too|really|feel|feels|felt)\s+$",
    re.IGNORECASE,
)
_NOT_GREETINGS = frozenset({"ok", "okay", "yes", "sure", "sorry", "you too"})
# After a lower-case name introduced by "i'm" / "this is": its end (not "i'm dong good").
_INTRO_END = re.compile(
    r"^(?:\s+[^\W\d_]+)?\s*(?:[,.!?;:)]|$|\s+(?:and|from|here|by|but)\b)", re.IGNORECASE
)
_ELONGATED = re.compile(r"(.)\1\1|hh$")  # "Awww", "Ohh", "Yeahhh": no name
_PLACE_SPAN = 3  # longest place name looked up, in words ("Rio de Janeiro")


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
            r"(?:^|[.!?,]\s*|\b(?:hi|hello|hey|yes|ok|okay|morning)\W*)(?:"
            + alternation(weak_intro)
            + r")\s*,?\s*$",
            re.IGNORECASE,
        )
        self.title = re.compile(r"\b(?:" + alternation(lists.titles) + r")\.?\s*$", re.IGNORECASE)
        self.vocative = re.compile(
            r"(?:^|[.!?,]\s+)(?:" + alternation(lists.vocative_openers) + r")\s*,?\s*$",
            re.IGNORECASE,
        )
        # in lower case, only a greeting or thanks addresses someone ("yes oo," does not)
        greetings = [o for o in lists.vocative_openers if o not in _NOT_GREETINGS]
        self.greeting = re.compile(
            r"(?:^|[.!?,]\s+)(?:" + alternation(greetings) + r")\s*,?\s*$", re.IGNORECASE
        )
        # one-word brands in any case ("walmart", "skype"): no name even after a cue
        self.brand_words = frozenset(p.lower() for p in lists.allow_phrases if " " not in p)
        self.place_cue = re.compile(
            r"\b(?:" + alternation(lists.place_cues) + r")\s*$", re.IGNORECASE
        )

    # --- per word ---------------------------------------------------------------------

    def _plain(self, word: str) -> str:
        return POSSESSIVE.sub("", word).lower().replace("’", "'")

    @staticmethod
    def _capitalized(word: str) -> bool:
        return word[0].isupper() and not (len(word) > 1 and word.isupper())

    @staticmethod
    def _brandlike(word: str) -> bool:
        return bool(_INNER_CAPITAL.search(_NAME_PREFIX.sub("", POSSESSIVE.sub("", word))))

    def _foreign(self, w: str) -> bool:
        """Not an English word, a place or a never-a-name word: a name when a cue says so."""
        return (
            len(w) > 1
            and not _ELONGATED.search(w)
            and not self.lx.is_dictionary_word(w)
            and w not in self.lx.places
            and w not in self.lx.not_name
            and w not in self.brand_words
        )

    def _unknown(self, w: str) -> bool:
        """Not an English word nor a never-a-name word; a place is fine (a cue beats the place
        list: "my daughter Xinyi")."""
        return (
            len(w) > 1
            and not _ELONGATED.search(w)
            and not self.lx.is_dictionary_word(w)
            and w not in self.lx.not_name
            and w not in self.brand_words
        )

    def _proper(self, word: str) -> bool:
        """A capitalised word that is a name without a cue."""
        w = self._plain(word)
        return (
            self._capitalized(word)
            and not self._brandlike(word)
            and self._foreign(w)
            and w not in self.lx.ambiguous
            # plurals of days, months, holidays ("Saturdays", "Christmases")
            and not (
                w.endswith("s") and (w[:-1] in self.lx.ambiguous or w[:-1] in self.lx.not_name)
            )
            and not (w.endswith("es") and w[:-2] in self.lx.not_name)
        )

    def _named_by_cue(self, word: str) -> bool:
        """A cue makes this word a name: any capitalised non-brand word that is a first name or
        not an English word; in lower case, a clear first name or a non-English word."""
        w = self._plain(word)
        if w in self.lx.not_name:
            return False
        if self._capitalized(word):
            return not self._brandlike(word) and (
                self.lx.is_first_name(w) or self._unknown(w) or w not in self.lx.dictionary
            )
        return word.islower() and (self.lx.is_clear_first_name(w) or self._unknown(w))

    def _cue(self, text: str, start: int, end: int, word: str) -> NameRole | str | None:
        """'self', 'addressee', 'other' when a cue names the word, else None."""
        before = text[max(0, start - 40) : start]
        after = text[end : end + 12]
        w = self._plain(word)
        cap = self._capitalized(word)
        if (
            not cap
            and w not in self.lx.first_names
            and (w in self.lx.dictionary or w in self.lx.english)
        ):
            return None  # most words: a lower-case English word is named by no cue
        if (
            self.title.search(before)
            and w not in self.lx.not_name
            and ((cap and not self._brandlike(word)) or self._foreign(w))
        ):
            return "other"
        if not self._named_by_cue(word):
            return None
        if self.strong_intro.search(before):
            return "self"
        if self.weak_intro.search(before) and (
            (self.lx.is_first_name(w) and (cap or w not in self.lx.ambiguous))
            or (self._foreign(w) and (cap or _INTRO_END.match(text[end : end + 40])))
        ):
            return "self"
        if _HERE_AFTER.match(after) and _TURN_OPENING.match(text[:start]):
            return "self"
        if self.relation.search(before) and (self.lx.is_first_name(w) or self._unknown(w)):
            return "other"
        if (
            (self.vocative if cap else self.greeting).search(before)
            and ((cap and self.lx.is_first_name(w)) or self._unknown(w))
            and (not after.strip() or after[0] in ",.!?:;-")
        ):
            return "addressee"
        if _DETERMINER_BEFORE.search(before):
            return None  # "the babys and me", "a Zumba class": no person
        if (
            (_PAIR_AFTER.match(after) and not _COPULA_BEFORE.search(before))
            or _PAIR_BEFORE.search(before)
        ) and (self._foreign(w) or (cap and self.lx.is_clear_first_name(w))):
            return "other"
        if (
            not cap
            and self._foreign(w)
            and (
                _PERSON_VERB_BEFORE.search(before)
                or _PERSON_VERB_AFTER.match(after)
                or (_LOWER_SUBJECT_AFTER.match(after) and text.islower())
            )
        ):
            # "we help wulan with", "otieno needs"; from a writer who never capitalises,
            # also "emre is", "emre can": a lower-case name
            return "other"
        return None

    @staticmethod
    def _sentence_initial(text: str, start: int) -> bool:
        before = text[:start].rstrip(" \t\"'“(")
        return not before or before[-1] in ".!?\n:"

    def _closing(self, text: str, start: int, end: int, word: str) -> NameRole | None:
        """', Sarah.' ends a sentence: the addressee. A name alone at the end of the turn,
        after a sign-off or a sentence ('Best, Efthymia', 'Thanks. Khoa'): the speaker."""
        w = self._plain(word)
        named = (self._capitalized(word) and self.lx.is_clear_first_name(w)) or self._foreign(w)
        if not named or POSSESSIVE.search(word):
            return None
        before = text[:start].rstrip(" ")
        after = text[end : end + 1]
        if before.endswith(",") and (not after or after in ".!?"):
            return "addressee"
        return None

    def _sign_off(self, text: str, start: int, end: int) -> bool:
        rest = text[end:].strip(" .!\n")
        return not rest and bool(_SIGN_OFF.search(text[:start]))

    def _place_at(self, words: list[tuple[int, int, str]], i: int, text: str) -> int:
        """How many words from i name a place (0 if none): a GeoNames place, or a capitalised
        unknown word after 'in', 'from', 'moved to'..."""
        start, _, word = words[i]
        if not self._capitalized(word):
            return 0
        for n in range(min(_PLACE_SPAN, len(words) - i), 1, -1):
            chunk = words[i : i + n]
            spaced = all(text[a[1] : b[0]] == " " for a, b in zip(chunk, chunk[1:], strict=False))
            if (
                spaced
                and all(self._capitalized(w) for *_, w in chunk[1:])
                and " ".join(self._plain(w) for *_, w in chunk) in self.lx.places
            ):
                return n
        cued = bool(self.place_cue.search(text[max(0, start - 24) : start]))
        w = self._plain(word)
        if w in self.lx.places and not cued and self.lx.is_clear_first_name(w):
            return 0  # "Tyler", "Mary", "Madison": a first name first, "in Madison" a place
        return 1 if cued or w in self.lx.places else 0

    def _extendable(self, head: str, word: str) -> bool:
        w = self._plain(word)
        if self._capitalized(head):
            # an ambiguous word after a first name is still a surname ("Tom Price")
            return self._capitalized(word) and w not in self.lx.not_name
        return (
            word.islower()
            and len(w) > 1
            and not self.lx.is_dictionary_word(w)
            and (w not in self.lx.not_name)
        )

    # --- per text ---------------------------------------------------------------------

    def find(self, text: str) -> list[PiiSpan]:
        words = [(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]
        allowed = [(m.start(), m.end()) for m in self.lx.allow.finditer(text)]

        def in_allowed(pos: int) -> bool:
            return any(a <= pos < b for a, b in allowed)

        spans: list[PiiSpan] = []
        i = 0
        while i < len(words):
            start, end, word = words[i]
            w = self._plain(word)
            if word.islower() and w not in self.lx.first_names and w in self.lx.dictionary:
                i += 1  # most words: a lower-case English word, named by no cue
                continue
            role: NameRole | None = None
            cue = self._cue(text, start, end, word)
            is_name = cue is not None
            if cue in ("self", "addressee"):
                role = cue  # type: ignore[assignment]
            if not is_name and allowed and in_allowed(start):
                i += 1  # a brand or organisation ("Honda", "Goldman Sachs")
                continue
            if not is_name:
                places = self._place_at(words, i, text)
                if places:
                    i += places
                    continue
            if not is_name:
                closing = self._closing(text, start, end, word)
                if closing:
                    is_name, role = True, closing
            if not is_name and self._capitalized(word) and w not in self.lx.not_name:
                if self.lx.is_clear_first_name(w):
                    is_name = True
                elif self._proper(word) and not _DETERMINER_BEFORE.search(
                    text[max(0, start - 8) : start]
                ):
                    # at a sentence start, an unknown word is as often a typo or a brand:
                    # a name there is the subject ("Njeri's", "Kamau thinks", "Emre, ...")
                    nxt = words[i + 1] if i + 1 < len(words) else None
                    is_name = (
                        not self._sentence_initial(text, start)
                        or bool(POSSESSIVE.search(word))
                        or bool(
                            _SUBJECT_AFTER.match(text[end : end + 12])
                            or _PERSON_VERB_AFTER.match(text[end : end + 12])
                        )
                        or (nxt is not None and text[end : nxt[0]] == " " and self._proper(nxt[2]))
                    )
                elif w in self.lx.first_names and i + 1 < len(words):
                    nxt = words[i + 1]
                    is_name = (
                        text[end : nxt[0]] == " "
                        and self._capitalized(nxt[2])
                        and self._plain(nxt[2]) in self.lx.last_names
                        and self._plain(nxt[2]) not in self.lx.not_name
                    )
            if not is_name:
                i += 1
                continue
            j = i
            # run on over a middle initial and surnames: single spaces
            while j + 1 < len(words) and j - i < 3 and not POSSESSIVE.search(words[j][2]):
                gap = text[words[j][1] : words[j + 1][0]]
                nxt_word = words[j + 1][2]
                if allowed and in_allowed(words[j + 1][0]):
                    break
                if (
                    gap == " "
                    and self._extendable(word, nxt_word)
                    or gap == ". "
                    and len(words[j][2]) == 1
                    and self._extendable(word, nxt_word)
                ):
                    j += 1
                else:
                    break
            span_end = words[j][1]
            if POSSESSIVE.search(words[j][2]):
                span_end -= 2
            if role is None and self._sign_off(text, start, span_end):
                role = "self"
            span = PiiSpan.make(text, start, span_end, "name", role=role)
            # a cue beats the brand list ("my son Chase", "Mr. Wise"); without one, a name
            # inside a brand or organisation is kept ("Charles Schwab")
            if cue is not None or not self._allowed(text, span):
                spans.append(span)
            i = j + 1
        return spans

    def _allowed(self, text: str, span: PiiSpan) -> bool:
        return any(
            m.start() <= span.start and span.end <= m.end() for m in self.lx.allow.finditer(text)
        )
