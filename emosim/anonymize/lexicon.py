"""The anonymizer's word lists: shipped data files, loaded once and compiled into matchers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import Field

from emosim.files import load_yaml_model
from emosim.schemas.common import StrictModel

DATA = Path(__file__).resolve().parent / "data"


class CueLists(StrictModel):
    account: list[str] = Field(description="Words before an account, policy or member number.")
    card: list[str] = Field(description="Words before a payment card number.")
    routing: list[str] = Field(description="Words before a bank routing number.")
    ssn: list[str] = Field(description="Words before a Social Security or taxpayer number.")
    national_id: list[str] = Field(description="Words before a passport, license or id number.")
    phone: list[str] = Field(description="Words before a phone number.")
    dob: list[str] = Field(description="Words before a date of birth.")
    zip: list[str] = Field(description="Words before a ZIP code.")
    money: list[str] = Field(description="Words around a number that make it an amount.")


class AnonymizerLists(StrictModel):
    """Model of data/lists.yaml."""

    version: str
    curated_ambiguous: list[str] = Field(description="First names that are common words.")
    allow_phrases: list[str] = Field(description="Organisations and public names kept as is.")
    not_name_words: list[str] = Field(description="Capitalized words that are never names.")
    culture_words: list[str] = Field(description="Holidays, languages, peoples, faiths.")
    extra_words: list[str] = Field(description="Everyday words missing from the dictionary.")
    place_cues: list[str] = Field(description="Words before a capitalised word naming a place.")
    relation_words: list[str] = Field(description="Words before a name saying who it is.")
    self_intro_phrases: list[str] = Field(description="Phrases before the speaker's own name.")
    vocative_openers: list[str] = Field(description="Openers before the addressee's name.")
    titles: list[str] = Field(description="Honorifics before a surname.")
    street_suffixes: list[str] = Field(description="USPS street suffixes.")
    strong_street_suffixes: list[str] = Field(description="Suffixes valid after lowercase words.")
    unit_words: list[str] = Field(description="Apartment, suite and unit designators.")
    cues: CueLists
    profile_hosts: list[str] = Field(description="Hosts whose URL paths name a person.")


_CONTRACTION_ENDINGS = frozenset({"s", "re", "ve", "ll", "d", "m", "t"})
_AUXILIARIES = frozenset(
    "do does did has have had is are was were could would should must need might ca wo ai".split()
)


def _word_list(name: str) -> frozenset[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().lower() for w in lines if w.strip() and not w.startswith("#"))


def alternation(phrases: list[str]) -> str:
    """A regex alternation of literal phrases, longest first so the longest one matches."""
    return "|".join(re.escape(p) for p in sorted(set(phrases), key=len, reverse=True))


@dataclass(frozen=True, eq=False)
class Lexicon:
    """Hashed by identity: built once per process (`get_lexicon`) and used as a cache key."""

    lists: AnonymizerLists
    first_names: frozenset[str]
    last_names: frozenset[str]
    ambiguous: frozenset[str]
    english: frozenset[str]
    dictionary: frozenset[str]
    places: frozenset[str]
    not_name: frozenset[str]
    allow: re.Pattern[str]
    cue_patterns: dict[str, re.Pattern[str]]

    def is_first_name(self, word: str) -> bool:
        return word.lower() in self.first_names

    def is_unknown_word(self, word: str) -> bool:
        """Neither a common English word nor a never-a-name word: likely a proper name."""
        w = word.lower()
        return w not in self.english and w not in self.not_name

    def is_dictionary_word(self, word: str) -> bool:
        """An English word (SCOWL, lists.yaml `extra_words`, or seen lowercase in GoEmotions):
        written with a capital, it is still an ordinary word first. Contractions count by
        their stem ("you're", "shouldn't")."""
        w = word.lower().replace("’", "'")
        if "'" in w:
            stem, _, ending = w.rpartition("'")
            if ending not in _CONTRACTION_ENDINGS:
                return False
            return stem == "i" or any(
                self.is_dictionary_word(s) for s in (stem, stem.removesuffix("n")) if s
            )
        if w.endswith("nt") and w[:-2] in _AUXILIARIES:  # "hasnt", "doesnt", "wont"
            return True
        if "-" in w:  # "co-workers", "in-person"; not "Ben-David"
            return all(self.is_dictionary_word(part) for part in w.split("-") if part)
        return w in self.dictionary or w in self.english

    def is_clear_first_name(self, word: str) -> bool:
        w = word.lower()
        return w in self.first_names and w not in self.ambiguous and w not in self.not_name


@cache
def get_lexicon() -> Lexicon:
    lists = load_yaml_model(DATA / "lists.yaml", AnonymizerLists)
    ambiguous = _word_list("ambiguous_first_names.txt") | {
        w.lower() for w in lists.curated_ambiguous
    }
    cue_patterns = {
        group: re.compile(r"(?<![\w])(?:" + alternation(words) + r")(?![\w])", re.IGNORECASE)
        for group, words in lists.cues.model_dump().items()
    }
    return Lexicon(
        lists=lists,
        first_names=_word_list("first_names.txt"),
        last_names=_word_list("last_names.txt"),
        ambiguous=frozenset(ambiguous),
        english=_word_list("english_words.txt"),
        dictionary=_word_list("dictionary_words.txt") | {w.lower() for w in lists.extra_words},
        places=_word_list("places.txt"),
        not_name=frozenset(w.lower() for w in lists.not_name_words + lists.culture_words),
        allow=re.compile(r"(?<![\w])(?:" + alternation(lists.allow_phrases) + r")(?![\w])"),
        cue_patterns=cue_patterns,
    )
