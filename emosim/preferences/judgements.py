"""Preference review results in: filled CSVs and Label Studio exports, read as judgements.

A judgement is one reviewer's answer to one question: the order of a candidate set
(`candidate_ranking`), or a conversation's verdict, emotional authenticity or helpfulness.
Label Studio's JSON and JSON_MIN exports are read (the annotator as in `review import` of
labels: email when the export has it, else `--annotators`, else `labelstudio-user-ID`).
A Ranker result is read in each shape Label Studio has saved it in: the ids in order
(`{"ranker": [...]}`), or keyed by the list or a bucket (`{"ranker": {"rank": [...]}}`).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from emosim.errors import DataError
from emosim.labels.labelstudio import _Annotators
from emosim.labels.review import _int, _timestamp

from .tasks import RANKING_CSV, TaskKind, unsafe_cell

RATINGS = ("emotional_authenticity", "helpfulness")
SUPPORTED = (
    "supported: the CSV written by `emosim review export --task ranking|authenticity --format "
    "csv`, filled in, or Label Studio's 'JSON' or 'JSON_MIN' export of the tasks written by "
    "`emosim review export --task ranking|authenticity`"
)


@dataclass
class Judgement:
    where: str
    field: str  # candidate_ranking, conversation_verdict, emotional_authenticity, helpfulness
    conversation_id: str
    turn_index: int | None
    value: Any
    reviewer: str
    comment: str
    created_at: datetime | None
    ref: str


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError([f"{path}: file not found"]) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", "")
        raise DataError([f"{path}:{line}: not JSON ({exc}; {SUPPORTED})"]) from None


def _read_csv(path: Path) -> csv.DictReader:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError([f"{path}: file not found"]) from None
    return csv.DictReader(io.StringIO(text))


def detect_task(path: Path) -> TaskKind | None:
    """Which preference task a review file answers, or None (a label-review file)."""
    if path.suffix.lower() in (".csv", ".tsv"):
        header = set(_read_csv(path).fieldnames or [])
        if {"candidate_id", "rank"} <= header:
            return "ranking"
        if {"verdict", "emotional_authenticity"} <= header:
            return "authenticity"
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # the label-review reader reports what is wrong
    first = doc[0] if isinstance(doc, list) and doc and isinstance(doc[0], dict) else {}
    data = first.get("data") if isinstance(first.get("data"), dict) else first
    kind = data.get("emosim_task")
    return kind if kind in ("ranking", "authenticity") else None


# --- CSV -----------------------------------------------------------------------------------


def _check_columns(path: Path, reader: csv.DictReader, wanted: tuple[str, ...]) -> None:
    missing = [c for c in wanted if c not in (reader.fieldnames or [])]
    if missing:
        raise DataError([f"{path}:1: missing column(s): {', '.join(missing)} ({SUPPORTED})"])


def read_ranking_csv(path: Path, reviewer: str) -> list[Judgement]:
    """Rows with a rank (1 = best) become one ranking per reviewer and candidate set."""
    reader = _read_csv(path)
    _check_columns(path, reader, ("conversation_id", "turn_index", "candidate_id", "rank"))
    groups: dict[tuple[str, str, int], list[tuple[int, str, str]]] = {}
    comments: dict[tuple[str, str, int], list[str]] = {}
    first_line: dict[tuple[str, str, int], str] = {}
    for number, row in enumerate(reader, start=2):  # spreadsheet row (header: 1)
        where = f"{path}:{number}"
        rank = (row.get("rank") or "").strip()
        if not rank:
            continue
        try:
            place = int(rank)
        except ValueError:
            place = 0
        if place < 1:
            raise DataError([f"{where}: rank: expected a whole number 1 or more, got {rank!r}"])
        who = unsafe_cell((row.get("reviewer") or "").strip()) or reviewer
        turn = _int(row.get("turn_index"), where, "turn_index")
        key = (who, unsafe_cell(row["conversation_id"].strip()), turn or 0)
        groups.setdefault(key, []).append((place, row["candidate_id"].strip(), where))
        first_line.setdefault(key, where)
        comment = unsafe_cell((row.get("comment") or "").strip())
        if comment:
            comments.setdefault(key, []).append(comment)
    out = []
    for key, ranked in groups.items():
        who, cid, turn = key
        places = [p for p, _, _ in ranked]
        if len(set(places)) != len(places):
            tie = next(p for p in places if places.count(p) > 1)
            lines = ", ".join(w.rsplit(":", 1)[1] for p, _, w in ranked if p == tie)
            raise DataError(
                [
                    f"{first_line[key]}: rank: {who} gave rank {tie} to two replies of "
                    f"{cid} turn {turn} (lines {lines}); give each reply its own rank"
                ]
            )
        if len(ranked) < 2:
            raise DataError(
                [f"{first_line[key]}: rank: {who} ranked one reply of {cid} turn {turn}; "
                 "rank two or more"]
            )  # fmt: skip
        out.append(
            Judgement(
                where=first_line[key],
                field="candidate_ranking",
                conversation_id=cid,
                turn_index=turn,
                value=[c for _, c, _ in sorted(ranked)],
                reviewer=who,
                comment=" / ".join(comments.get(key, [])),
                created_at=None,
                ref=f"csv:{cid}:{turn}",
            )
        )
    return out


def _rating(value: Any, where: str, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if not 1 <= number <= 5:
        raise DataError([f"{where}: {name}: expected a whole number 1-5, got {value!r}"])
    return number


def _verdict(value: Any, where: str) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).strip().lower()
    if text not in ("accept", "reject"):
        raise DataError([f"{where}: verdict: expected accept or reject, got {value!r}"])
    return text


def _authenticity(
    where: str, cid: str, answers: dict[str, Any], who: str, comment: str, when: Any, ref: str
) -> list[Judgement]:
    out = []
    for name, value in answers.items():
        if value is None:
            continue
        out.append(
            Judgement(
                where=where,
                field="conversation_verdict" if name == "verdict" else name,
                conversation_id=cid,
                turn_index=None,
                value=value,
                reviewer=who,
                comment=comment,
                created_at=_timestamp(when),
                ref=f"{ref}:{name}",
            )
        )
    return out


def read_authenticity_csv(path: Path, reviewer: str) -> list[Judgement]:
    reader = _read_csv(path)
    _check_columns(path, reader, ("conversation_id", "verdict", *RATINGS))
    out = []
    for number, row in enumerate(reader, start=2):
        where = f"{path}:{number}"
        answers = {
            "verdict": _verdict(row.get("verdict"), where),
            **{name: _rating(row.get(name), where, name) for name in RATINGS},
        }
        cid = unsafe_cell((row.get("conversation_id") or "").strip())
        who = unsafe_cell((row.get("reviewer") or "").strip()) or reviewer
        comment = unsafe_cell((row.get("comment") or "").strip())
        out += _authenticity(where, cid, answers, who, comment, None, f"csv:{cid}")
    return out


# --- Label Studio --------------------------------------------------------------------------


def ranker_ids(value: Any) -> list[str] | None:
    """Candidate ids in ranked order from a Ranker result value (any saved shape)."""
    if isinstance(value, dict) and "ranker" in value:
        value = value["ranker"]
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, dict):
        lists = {k: v for k, v in value.items() if k != "_" and isinstance(v, list)}
        if len(lists) == 1:
            return [str(v) for v in next(iter(lists.values()))]
        if "rank" in lists:
            return [str(v) for v in lists["rank"]]
    return None


def _rating_of(value: Any) -> Any:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, dict):
        return value.get("rating")
    return value


def _choice_of(value: Any) -> Any:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, dict):
        chosen = value.get("choices") or []
        return chosen[0] if chosen else None
    return value


def _text_of(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("text")
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    return str(value or "").strip()


def _answers(kind: str, results: dict[str, Any], where: str) -> dict[str, Any]:
    """Our control names -> values, from a JSON annotation's results or a JSON_MIN row."""
    if kind == "ranking":
        if "rank" not in results:
            return {}
        ids = ranker_ids(results["rank"])
        if ids is None:
            raise DataError([f"{where}: rank: unreadable Ranker result {results['rank']!r}"])
        return {"rank": ids}
    return {
        "verdict": _verdict(_choice_of(results.get("verdict")), where),
        **{n: _rating(_rating_of(results.get(n)), where, n) for n in RATINGS},
    }


def _judgements(
    kind: str, where: str, data: dict, answers: dict, who: str, comment: str, when: Any, ref: str
) -> list[Judgement]:
    cid = str(data.get("conversation_id") or "")
    if not cid:
        raise DataError([f"{where}: conversation_id missing (not an emosim task; {SUPPORTED})"])
    if kind == "authenticity":
        return _authenticity(where, cid, answers, who, comment, when, ref)
    if not answers:
        return []
    return [
        Judgement(
            where=where,
            field="candidate_ranking",
            conversation_id=cid,
            turn_index=_int(data.get("turn_index"), where, "turn_index"),
            value=answers["rank"],
            reviewer=who,
            comment=comment,
            created_at=_timestamp(when),
            ref=ref,
        )
    ]


def read_labelstudio(
    path: Path, kind: TaskKind, reviewer: str, annotators: dict[int, str] | None = None
) -> tuple[list[Judgement], str, set[int]]:
    """(judgements, format read, Label Studio user ids with no email)."""
    doc = _load_json(path)
    if not isinstance(doc, list) or not doc:
        raise DataError([f"{path}: expected a list of Label Studio tasks ({SUPPORTED})"])
    people = _Annotators(annotators or {}, reviewer)
    out: list[Judgement] = []
    if isinstance(doc[0], dict) and "data" in doc[0]:
        for i, task in enumerate(doc):
            data = task.get("data") if isinstance(task, dict) else None
            if not isinstance(data, dict) or data.get("emosim_task") != kind:
                raise DataError(
                    [f"{path}: task[{i}]: not an emosim {kind} task (data.emosim_task)"]
                )
            for j, ann in enumerate(task.get("annotations") or []):
                if not isinstance(ann, dict) or ann.get("was_cancelled"):
                    continue
                where = f"{path}: task[{i}].annotations[{j}]"
                results = {
                    r.get("from_name"): r.get("value")
                    for r in ann.get("result") or []
                    if isinstance(r, dict)
                }
                comment = _text_of(results.pop("comment", None))
                out += _judgements(
                    kind,
                    where,
                    data,
                    _answers(kind, results, where),
                    people.name(ann.get("completed_by")),
                    comment,
                    ann.get("updated_at") or ann.get("created_at"),
                    f"ls:{task.get('id')}:{ann.get('id', j)}",
                )
        return out, "JSON", people.unmapped
    for i, row in enumerate(doc):
        where = f"{path}: [{i}]"
        if not isinstance(row, dict) or row.get("emosim_task") != kind:
            raise DataError([f"{where}: not an emosim {kind} task row (emosim_task)"])
        out += _judgements(
            kind,
            where,
            row,
            _answers(kind, row, where),
            people.name(row.get("annotator")),
            _text_of(row.get("comment")),
            row.get("updated_at") or row.get("created_at"),
            f"ls:{row.get('id')}:{row.get('annotation_id', i)}",
        )
    return out, "JSON_MIN", people.unmapped


def read_judgements(
    path: Path, kind: TaskKind, reviewer: str, annotators: dict[int, str] | None = None
) -> tuple[list[Judgement], str, set[int]]:
    if path.suffix.lower() in (".csv", ".tsv"):
        reader = read_ranking_csv if kind == "ranking" else read_authenticity_csv
        return reader(path, reviewer), "csv", set()
    return read_labelstudio(path, kind, reviewer, annotators)


__all__ = ["RANKING_CSV", "Judgement", "detect_task", "read_judgements", "ranker_ids"]
