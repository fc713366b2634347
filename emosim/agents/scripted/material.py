"""The scripted client's own material: feelings and reactions written apart from the emotion
taxonomy's example lines (which the observer's cues come from), so that the observer's
agreement with the hidden arc is not the taxonomy agreeing with itself.

Files: agents/scripted/client_feelings.yaml (emotion -> level -> lines, and `named`: lines that
call the feeling what a person would call it) and
agents/scripted/client_reactions.yaml (category -> lines; `numbers_landed` by tone,
`disagree` by money script) and agents/scripted/client_tellings.yaml (persona -> sentences of
their situation -> tellings) and agents/scripted/client_lives.yaml (persona -> feelings told
through their own life), validated by their models in `templates.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from emosim.catalog import Catalog

from .templates import (
    CLIENT_FEELINGS_FILE,
    CLIENT_REACTIONS_FILE,
    ClientFeelings,
    ClientLives,
    ClientReactionBank,
    ClientTellings,
    load_client_feelings,
    load_client_lives,
    load_client_reactions,
    load_client_tellings,
)


@dataclass(frozen=True)
class ClientMaterial:
    feelings: ClientFeelings
    reactions: ClientReactionBank
    tellings: ClientTellings | None = None
    lives: ClientLives | None = None
    _told: dict[tuple[str, str], list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for persona, items in (self.tellings.personas if self.tellings else {}).items():
            for item in items:
                self._told[(persona, _plain(item.says))] = list(item.tellings)

    def tellings_of(self, persona: str, sentence: str) -> list[str]:
        """The persona's ways of telling a sentence of their situation (none: as written)."""
        return self._told.get((persona, _plain(sentence)), [])

    def feeling_lines(self, emotion: str, level: str) -> list[str]:
        levels = self.feelings.emotions.get(emotion)
        return list(getattr(levels, level)) if levels is not None else []

    def named_lines(self, emotion: str, level: str) -> list[str]:
        """Lines that call the feeling what a person would call it (none: not in the file)."""
        levels = self.feelings.named.get(emotion)
        return list(getattr(levels, level)) if levels is not None else []

    def life_lines(self, persona: str, valence: float) -> list[str]:
        """The persona's feelings told through their own life, on the side of the feeling
        (none for a neutral one or a persona without lines)."""
        lines = self.lives.personas.get(persona) if self.lives else None
        if lines is None or valence == 0:
            return []
        return list(lines.hard if valence < 0 else lines.easier)

    def takes(self, persona: str, category: str) -> list[str]:
        """The persona's own ways of taking a reply that heard them or answered them (none
        for another category or a persona without lines)."""
        lines = self.lives.personas.get(persona) if self.lives else None
        if lines is None or category not in {"heard", "answered"}:
            return []
        return list(getattr(lines, category))

    def calls_it(self, persona: str) -> list[str]:
        """What the persona calls the business they came about, once it has been named."""
        lines = self.lives.personas.get(persona) if self.lives else None
        return list(lines.it) if lines is not None else []

    def disagreement(self, money_script: str) -> list[str]:
        return list(getattr(self.reactions.disagree, money_script, []) or [])


def load_client_material(catalog: Catalog) -> ClientMaterial | None:
    """The client's material under the catalog root, validated (a bad line is an error naming
    the file, field and value); None when the files are not there."""
    feelings, reactions = catalog.file(CLIENT_FEELINGS_FILE), catalog.file(CLIENT_REACTIONS_FILE)
    if not feelings.is_file() or not reactions.is_file():
        return None
    return ClientMaterial(
        load_client_feelings(catalog),
        load_client_reactions(catalog),
        load_client_tellings(catalog),
        load_client_lives(catalog),
    )


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w$%.' ]+", " ", text.lower().replace("’", "'")).split()).rstrip(".")
