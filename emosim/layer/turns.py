"""The point just before a supporter speaks: what the next-strategy model sees.

A supporter's next strategy depends on what the seeker just said, on what the supporter
already did (the strategies so far, the last one most) and on how far the conversation is.
It must not depend on anything later: the dialog's length is unknown at that point, so the
position is counted from the start only.

The same `NextTurn` is built from an ESConv dialog (training and evaluation; the history
strategies are the human labels in the file) and from a live conversation (`from_messages`;
the history strategies are what the strategy observer reads from the assistant's messages).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from emosim.agents.classifier.esconv_train import esconv_dialogs, no_labelled_supporter
from emosim.esconv import SEEKER, SUPPORTER


@dataclass(frozen=True)
class NextTurn:
    """The conversation up to a supporter turn, reduced to what predicts its strategy.

    `seeker`: the seeker's last turn (consecutive messages joined); `previous`: the
    supporter's last utterance ("" at the start); `history`: the supporter's ESConv strategies
    so far, oldest first; `supporter_index`: how many supporter utterances came before;
    `seeker_turns`: how many seeker turns came before; `follows_supporter`: the supporter
    spoke last (continuing their own turn); `strategy`: the gold next strategy, if known.
    """

    seeker: str
    previous: str = ""
    history: tuple[str, ...] = ()
    supporter_index: int = 0
    seeker_turns: int = 0
    follows_supporter: bool = False
    strategy: str | None = None
    dialog: str = ""
    where: str = field(default="", compare=False)


def read_next_turns(path: Path) -> tuple[list[NextTurn], int]:
    """Every labelled supporter utterance of an ESConv file as a `NextTurn`, and how many
    labels outside the eight were skipped (they still count for the position; the history
    keeps the eight only)."""
    turns: list[NextTurn] = []
    skipped = 0
    for where, said in esconv_dialogs(path):
        seeker, previous, last = "", "", None
        history: list[str] = []
        supporter_index = seeker_turns = 0
        for u in said:
            if u.seeker:
                if last in SEEKER:
                    seeker = f"{seeker} {u.words}"
                else:
                    seeker, seeker_turns = u.words, seeker_turns + 1
                last = u.speaker
                continue
            skipped += u.off_label
            if u.label is not None:
                turns.append(
                    NextTurn(
                        seeker=seeker,
                        previous=previous,
                        history=tuple(history),
                        supporter_index=supporter_index,
                        seeker_turns=seeker_turns,
                        follows_supporter=last in SUPPORTER,
                        strategy=u.label,
                        dialog=where,
                        where=f"{where}.dialog.{u.index}",
                    )
                )
                history.append(u.label)
            supporter_index += 1
            previous, last = u.words, u.speaker
    if not turns:
        raise no_labelled_supporter(path)
    return turns, skipped


def from_messages(messages: Sequence[tuple[str, str]], history: Sequence[str]) -> NextTurn:
    """The point after `messages` ((role, content), roles user/assistant, oldest first), with
    `history` the ESConv strategy of each assistant message, in order."""
    seeker, previous, last = "", "", None
    seeker_turns = supporter_index = 0
    for role, content in messages:
        words = " ".join(content.split())
        if not words:
            continue
        if role == "user":
            if last == "user":
                seeker = f"{seeker} {words}"
            else:
                seeker, seeker_turns = words, seeker_turns + 1
        else:
            supporter_index += 1
            previous = words
        last = role
    return NextTurn(
        seeker=seeker,
        previous=previous,
        history=tuple(history),
        supporter_index=supporter_index,
        seeker_turns=seeker_turns,
        follows_supporter=last == "assistant",
    )
