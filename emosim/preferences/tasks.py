"""Preference review tasks out: Label Studio tasks and configs, and CSVs for a spreadsheet.

Two tasks (`emosim review export --task ranking|authenticity`):

- ranking: one task per candidate set. The reviewer reads the conversation so far and puts
  Elena's possible replies in order, best first (Label Studio's List + Ranker). Replies are
  shown as "Reply A, B, ..." in an order fixed by a hash, not the order they were made, and
  nothing says which one was sent, so neither position nor origin leaks into the ranking.
- authenticity: one task per conversation: accept/reject, emotional authenticity 1-5,
  helpfulness 1-5, a comment.

CSV cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
return) are written with a leading apostrophe, which spreadsheets show as text.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from typing import Any, Literal

from emosim.files import spreadsheet_safe, spreadsheet_text
from emosim.labels.targets import ConversationInfo

from .models import CandidateSet

TaskKind = Literal["ranking", "authenticity"]
TASK_KINDS: tuple[TaskKind, ...] = ("ranking", "authenticity")
SPEAKER_NAMES = {"client": "Client", "advisor": "Elena"}
RANKING_CSV = (
    "task_id",
    "conversation_id",
    "turn_index",
    "reply",
    "candidate_id",
    "context",
    "text",
    "rank",
    "reviewer",
    "comment",
)
AUTHENTICITY_CSV = (
    "task_id",
    "conversation_id",
    "topic",
    "subcategory",
    "conversation",
    "verdict",
    "emotional_authenticity",
    "helpfulness",
    "reviewer",
    "comment",
)


def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet will not run as a formula (`files.spreadsheet_safe`)."""
    return spreadsheet_safe(value) if isinstance(value, str) else value


unsafe_cell = spreadsheet_text


def _shown_order(item: CandidateSet) -> list[str]:
    def key(candidate_id: str) -> str:
        seed = f"{item.conversation_id}:{item.turn_index}:{candidate_id}"
        return hashlib.sha256(seed.encode()).hexdigest()

    return sorted((c.candidate_id for c in item.candidates), key=key)


def reply_label(index: int) -> str:
    return f"Reply {chr(ord('A') + index)}" if index < 26 else f"Reply {index + 1}"


def _dialogue(turns: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"author": SPEAKER_NAMES.get(s, s), "text": t} for s, t in turns]


def _plain(turns: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"{SPEAKER_NAMES.get(s, s)}: {t}" for s, t in turns)


def ranking_tasks(sets: list[CandidateSet]) -> list[dict[str, Any]]:
    tasks = []
    for number, item in enumerate(sets, start=1):
        by_id = {c.candidate_id: c for c in item.candidates}
        turns = [(t.speaker, t.text) for t in item.context]
        tasks.append(
            {
                "id": number,
                "data": {
                    "emosim_task": "ranking",
                    "conversation_id": item.conversation_id,
                    "turn_index": item.turn_index,
                    "dialogue": _dialogue(turns),
                    "candidates": [
                        {"id": cid, "title": reply_label(i), "body": by_id[cid].text}
                        for i, cid in enumerate(_shown_order(item))
                    ],
                },
            }
        )
    return tasks


def ranking_csv(sets: list[CandidateSet]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RANKING_CSV, lineterminator="\n")
    writer.writeheader()
    for number, item in enumerate(sets, start=1):
        by_id = {c.candidate_id: c for c in item.candidates}
        context = _plain((t.speaker, t.text) for t in item.context)
        for i, cid in enumerate(_shown_order(item)):
            row = {
                "task_id": number,
                "conversation_id": item.conversation_id,
                "turn_index": item.turn_index,
                "reply": reply_label(i),
                "candidate_id": cid,
                "context": context if i == 0 else "",
                "text": by_id[cid].text,
                "rank": "",
                "reviewer": "",
                "comment": "",
            }
            writer.writerow({k: safe_cell(v) for k, v in row.items()})
    return buffer.getvalue()


def authenticity_tasks(infos: list[ConversationInfo]) -> list[dict[str, Any]]:
    return [
        {
            "id": number,
            "data": {
                "emosim_task": "authenticity",
                "conversation_id": info.conversation_id,
                "topic": info.topic,
                "subcategory": info.subcategory,
                "dialogue": _dialogue((t.speaker, t.text) for t in info.turns),
            },
        }
        for number, info in enumerate(infos, start=1)
    ]


def authenticity_csv(infos: list[ConversationInfo]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=AUTHENTICITY_CSV, lineterminator="\n")
    writer.writeheader()
    for number, info in enumerate(infos, start=1):
        row = {
            "task_id": number,
            "conversation_id": info.conversation_id,
            "topic": info.topic,
            "subcategory": info.subcategory,
            "conversation": _plain((t.speaker, t.text) for t in info.turns),
            "verdict": "",
            "emotional_authenticity": "",
            "helpfulness": "",
            "reviewer": "",
            "comment": "",
        }
        writer.writerow({k: safe_cell(v) for k, v in row.items()})
    return buffer.getvalue()


_DIALOGUE = (
    '  <Paragraphs name="dialogue" value="$dialogue" layout="dialogue" '
    'nameKey="author" textKey="text"/>\n'
)


def labelstudio_config(kind: TaskKind) -> str:
    """The labeling config matching the tasks of `kind` (names are what the import reads)."""
    if kind == "ranking":
        return (
            "<View>\n"
            '  <Header value="The conversation so far"/>\n'
            + _DIALOGUE
            + '  <Header value="Drag Elena\'s possible replies into order: best at the top"/>\n'
            '  <List name="candidates" value="$candidates" title="Possible replies"/>\n'
            '  <Ranker name="rank" toName="candidates"/>\n'
            '  <TextArea name="comment" toName="dialogue" placeholder="Why (optional)" '
            'maxSubmissions="1"/>\n'
            "</View>\n"
        )
    return (
        "<View>\n"
        '  <Header value="$topic / $subcategory"/>\n'
        + _DIALOGUE
        + '  <Header value="Would this conversation be good training data?"/>\n'
        '  <Choices name="verdict" toName="dialogue" choice="single" showInline="true" '
        'required="true">\n'
        '    <Choice value="accept"/>\n'
        '    <Choice value="reject"/>\n'
        "  </Choices>\n"
        '  <Header value="Emotional authenticity (1-5): does the client feel like a real '
        'person, and does Elena meet what they feel?"/>\n'
        '  <Rating name="emotional_authenticity" toName="dialogue" maxRating="5" '
        'required="true"/>\n'
        '  <Header value="Helpfulness (1-5): would the client leave better able to act?"/>\n'
        '  <Rating name="helpfulness" toName="dialogue" maxRating="5" required="true"/>\n'
        '  <TextArea name="comment" toName="dialogue" placeholder="Comment (optional)" '
        'maxSubmissions="1"/>\n'
        "</View>\n"
    )


def export_text(
    kind: TaskKind,
    fmt: Literal["labelstudio", "csv"],
    sets: list[CandidateSet],
    infos: list[ConversationInfo],
) -> tuple[str, int]:
    """(file text, number of tasks)."""
    if kind == "ranking":
        if fmt == "csv":
            return ranking_csv(sets), len(sets)
        tasks = ranking_tasks(sets)
    else:
        if fmt == "csv":
            return authenticity_csv(infos), len(infos)
        tasks = authenticity_tasks(infos)
    return json.dumps(tasks, indent=2, ensure_ascii=False) + "\n", len(tasks)
