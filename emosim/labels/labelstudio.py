"""Reading Label Studio exports of `emosim review export` tasks back as review decisions.

Supported (checked with Label Studio 1.23.2, see docs/label-studio.md):

- `JSON`: a list of tasks, each with `data` (our task fields) and `annotations`
  (`result` items with `from_name` = our field). `completed_by` is the annotator's user id,
  or `{"id", "email", ...}` in a snapshot export made with annotators expanded.
- `JSON_MIN`: one flat object per annotation: our task fields, `id` (task), `annotation_id`,
  `annotator` (user id, or email when expanded) and each field's value (a choice string,
  `{"choices": [...]}`, or `[{"number": x}]` for intensity).

A user id becomes the annotator's email through `annotators` (Label Studio's
`GET /api/users/` list, or an {id: email} map); an id with no email is stored as
`labelstudio-user-ID` and reported, never silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emosim.errors import DataError

from .review import REVIEW_FIELDS, Decision, TargetKey, _int, _timestamp

SUPPORTED = (
    "supported: Label Studio's 'JSON' and 'JSON_MIN' exports of tasks written by "
    "`emosim review export --format labelstudio`, or the CSV written by "
    "`emosim review export --format csv` (Label Studio's CSV/TSV exports are not)"
)


@dataclass
class LabelStudioRead:
    decisions: list[Decision]
    format: str  # JSON or JSON_MIN
    unmapped_ids: set[int] = field(default_factory=set)

    def warnings(self) -> list[str]:
        if not self.unmapped_ids:
            return []
        ids = ", ".join(map(str, sorted(self.unmapped_ids)))
        return [
            f"annotator(s) named only by Label Studio user id ({ids}) are stored as "
            "labelstudio-user-ID: pass --annotators with Label Studio's user list "
            "(GET /api/users/) or export with annotators expanded to store their emails"
        ]


def load_annotators(path: Path | None) -> dict[int, str]:
    """Label Studio's `GET /api/users/` JSON (a list of users) or a {"id": "email"} map."""
    if path is None:
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError([f"--annotators: {path}: file not found"]) from None
    except json.JSONDecodeError as exc:
        raise DataError([f"--annotators: {path}:{exc.lineno}: malformed JSON: {exc.msg}"]) from None
    out: dict[int, str] = {}
    if isinstance(doc, dict):
        items = [{"id": k, "email": v} for k, v in doc.items()]
    elif isinstance(doc, list):
        items = doc
    else:
        items = None
    for i, item in enumerate(items or [None]):
        if not isinstance(item, dict) or not item.get("email") or item.get("id") is None:
            raise DataError(
                [
                    f"--annotators: {path}: item {i}: expected Label Studio users "
                    '([{"id": 1, "email": "..."}], as GET /api/users/ returns) or '
                    '{"1": "email"}'
                ]
            )
        try:
            out[int(item["id"])] = str(item["email"])
        except (TypeError, ValueError):
            raise DataError(
                [f"--annotators: {path}: item {i}: id {item['id']!r} is not an integer"]
            ) from None
    return out


class _Annotators:
    def __init__(self, known: dict[int, str], fallback: str):
        self.known, self.fallback, self.unmapped = known, fallback, set()

    def name(self, who: Any) -> str:
        if isinstance(who, dict):
            if who.get("email"):
                return str(who["email"])
            who = who.get("id")
        if isinstance(who, bool) or who in (None, ""):
            return self.fallback
        if isinstance(who, int) or (isinstance(who, str) and who.isdigit()):
            number = int(who)
            if number in self.known:
                return self.known[number]
            self.unmapped.add(number)
            return f"labelstudio-user-{number}"
        return str(who)  # an email (JSON_MIN of an expanded export)


def _picked(name: str, value: Any) -> Any:
    """A field's value from a JSON `result` value or a JSON_MIN column."""
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    if isinstance(value, dict):
        if name == "intensity":
            return value.get("number")
        chosen = value.get("choices") or []
        return chosen[0] if chosen else None
    return value


def _decision(
    where: str, data: dict, name: str, value: Any, who: str, when: Any, ref: str
) -> Decision:
    turn = _int(data.get("turn_index"), where, "turn_index")
    sentence = _int(data.get("sentence_index"), where, "sentence_index", optional=True)
    return Decision(
        where=where,
        key=TargetKey(str(data["conversation_id"]), turn, sentence, name),
        value=value,
        reject=False,
        reviewer=who,
        reason="Label Studio review",
        created_at=_timestamp(when),
        ref=ref,
    )


def _read_json(path: Path, doc: list, people: _Annotators) -> list[Decision]:
    decisions: list[Decision] = []
    for i, task in enumerate(doc):
        where = f"{path}: task[{i}]"
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or "conversation_id" not in data:
            raise DataError(
                [f"{where}: data.conversation_id missing (not an emosim task; {SUPPORTED})"]
            )
        for j, ann in enumerate(task.get("annotations") or []):
            if not isinstance(ann, dict) or ann.get("was_cancelled"):
                continue
            who = people.name(ann.get("completed_by"))
            when = ann.get("updated_at") or ann.get("created_at")
            for k, item in enumerate(ann.get("result") or []):
                name = item.get("from_name") if isinstance(item, dict) else None
                if name not in REVIEW_FIELDS:
                    continue
                picked = _picked(name, item.get("value") or {})
                if picked is None:
                    continue
                decisions.append(
                    _decision(
                        f"{where}.annotations[{j}].result[{k}]",
                        data,
                        name,
                        picked,
                        who,
                        when,
                        f"ls:{task.get('id')}:{ann.get('id', j)}:{name}",
                    )
                )
    return decisions


def _read_json_min(path: Path, doc: list, people: _Annotators) -> list[Decision]:
    decisions: list[Decision] = []
    for i, row in enumerate(doc):
        where = f"{path}: [{i}]"
        if not isinstance(row, dict) or "conversation_id" not in row:
            raise DataError([f"{where}: conversation_id missing (not an emosim task; {SUPPORTED})"])
        who = people.name(row.get("annotator"))
        when = row.get("updated_at") or row.get("created_at")
        for name in REVIEW_FIELDS:
            picked = _picked(name, row.get(name))
            if picked is None:
                continue
            decisions.append(
                _decision(
                    f"{where}.{name}",
                    row,
                    name,
                    picked,
                    who,
                    when,
                    f"ls:{row.get('id')}:{row.get('annotation_id', i)}:{name}",
                )
            )
    return decisions


def read_labelstudio(
    path: Path, reviewer: str, annotators: dict[int, str] | None = None
) -> LabelStudioRead:
    """Decisions from a JSON or JSON_MIN export; anything else is refused, saying what is."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError([f"{path}: file not found"]) from None
    except UnicodeDecodeError:
        raise DataError([f"{path}: not UTF-8 text ({SUPPORTED})"]) from None
    except json.JSONDecodeError as exc:
        raise DataError(
            [f"{path}:{exc.lineno}: malformed JSON: {exc.msg} (column {exc.colno}; {SUPPORTED})"]
        ) from None
    if not isinstance(doc, list) or not doc:
        got = "an empty list" if doc == [] else type(doc).__name__
        raise DataError([f"{path}: expected a list of Label Studio tasks, got {got} ({SUPPORTED})"])
    people = _Annotators(annotators or {}, reviewer)
    first = doc[0] if isinstance(doc[0], dict) else {}
    if "data" in first:
        return LabelStudioRead(_read_json(path, doc, people), "JSON", people.unmapped)
    if "conversation_id" in first:
        return LabelStudioRead(_read_json_min(path, doc, people), "JSON_MIN", people.unmapped)
    keys = ", ".join(sorted(first)[:6]) or "none"
    raise DataError(
        [f"{path}: [0]: neither a 'JSON' task (no 'data') nor a 'JSON_MIN' row (no "
         f"'conversation_id'); keys: {keys} ({SUPPORTED})"]
    )  # fmt: skip
