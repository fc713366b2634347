"""Bulk human review: tasks out (Label Studio JSON or CSV), reviewers' decisions back in.

Label Studio exports are read by `labelstudio.py` (its JSON and JSON_MIN formats).

Exported tasks carry the current labels as pre-annotations (Label Studio `predictions`), so
before any review they are the model observers' labels. Imported decisions become
`human_bulk_review` events: `accept` when the reviewer kept the shown label, `correct` when
they changed it (CSV: `REJECT` rejects it); both supersede the label they were shown.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import quoteattr

from pydantic import Field

from emosim.catalog import Catalog
from emosim.errors import DataError
from emosim.files import spreadsheet_safe
from emosim.schemas import LabelEvent, LabelSource, LabelTarget
from emosim.schemas.common import StrictModel

from .policy import HUMAN_KINDS, ResolutionPolicy
from .resolve import Resolution, comparable, resolve_events
from .roles import Roles, supersede_problem
from .store import LabelStore
from .targets import ConversationInfo, TargetKey

REVIEW_FIELDS = ("emotion", "secondary_emotion", "intensity", "strategy", "sentence_function")
CSV_COLUMNS = (
    "task_id",
    "conversation_id",
    "turn_index",
    "sentence_index",
    "field",
    "speaker",
    "topic",
    "subcategory",
    "context",
    "text",
    "current_label",
    "current_source",
    "review_label",
    "reviewer",
    "reason",
)
REJECT = "REJECT"


@dataclass
class ReviewUnit:
    """One review task: a turn (its turn-level fields) or one sentence."""

    info: ConversationInfo
    turn_index: int
    sentence_index: int | None
    keys: list[TargetKey]

    @property
    def speaker(self) -> str:
        return self.info.turns[self.turn_index].speaker

    @property
    def text(self) -> str:
        return self.info.text_of(self.keys[0])

    @property
    def context(self) -> str:
        """What came just before: the previous turn (and the turn, for a sentence)."""
        turns = self.info.turns
        before = turns[self.turn_index - 1].text if self.turn_index > 0 else ""
        if self.sentence_index is None:
            return before
        return f"{before}\n\n>> {turns[self.turn_index].text}".strip()


def review_units(
    infos: dict[str, ConversationInfo],
    fields: Iterable[str] = REVIEW_FIELDS,
    conversations: set[str] | None = None,
) -> list[ReviewUnit]:
    wanted = set(fields)
    units: dict[tuple[str, int, int | None], ReviewUnit] = {}
    for cid in sorted(infos):
        if conversations and cid not in conversations:
            continue
        for key in infos[cid].targets():
            if key.field not in wanted:
                continue
            unit_id = (cid, key.turn_index or 0, key.sentence_index)
            unit = units.setdefault(
                unit_id, ReviewUnit(infos[cid], key.turn_index or 0, key.sentence_index, [])
            )
            unit.keys.append(key)
    return list(units.values())


# --- export --------------------------------------------------------------------------------


def _prediction_result(key: TargetKey, value: Any) -> dict[str, Any]:
    if key.field == "intensity":
        return {
            "from_name": "intensity",
            "to_name": "text",
            "type": "number",
            "value": {"number": value},
        }
    return {
        "from_name": key.field,
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [value]},
    }


def labelstudio_tasks(
    units: list[ReviewUnit], resolutions: dict[TargetKey, Resolution]
) -> list[dict]:
    tasks = []
    for number, unit in enumerate(units, start=1):
        results, scores, sources = [], [], set()
        for key in unit.keys:
            res = resolutions.get(key)
            if res is None or res.winner is None or res.winner.value is None:
                continue
            results.append(_prediction_result(key, res.winner.value))
            src = res.winner.event.source
            sources.add(f"{src.kind}:{src.name}")
            if res.winner.event.confidence is not None:
                scores.append(res.winner.event.confidence)
        task: dict[str, Any] = {
            "id": number,
            "data": {
                "conversation_id": unit.info.conversation_id,
                "turn_index": unit.turn_index,
                "sentence_index": unit.sentence_index,
                "speaker": unit.speaker,
                "topic": unit.info.topic,
                "subcategory": unit.info.subcategory,
                "fields": [k.field for k in unit.keys],
                "context": unit.context,
                "text": unit.text,
            },
        }
        if results:
            task["predictions"] = [
                {
                    "model_version": ", ".join(sorted(sources)),
                    "score": round(sum(scores) / len(scores), 3) if scores else None,
                    "result": results,
                }
            ]
        tasks.append(task)
    return tasks


def labelstudio_config(catalog: Catalog) -> str:
    """A Label Studio labeling config that matches the exported tasks."""

    def choices(name: str, ids: Iterable[str], required: bool) -> str:
        inner = "".join(f"\n      <Choice value={quoteattr(i)}/>" for i in ids)
        req = ' required="false"' if not required else ""
        return (
            f'    <Header value="{name}"/>\n'
            f'    <Choices name="{name}" toName="text" choice="single" showInline="true"{req}>'
            f"{inner}\n    </Choices>\n"
        )

    emotions = sorted(catalog.emotions)
    return (
        "<View>\n"
        '  <Header value="$topic / $subcategory: $speaker, turn $turn_index"/>\n'
        '  <Text name="context" value="$context"/>\n'
        '  <Text name="text" value="$text"/>\n'
        "  <View>\n"
        + choices("emotion", emotions, False)
        + choices("secondary_emotion", emotions, False)
        + '    <Header value="intensity (0..1)"/>\n'
        '    <Number name="intensity" toName="text" min="0" max="1" step="0.05"/>\n'
        + choices("strategy", sorted(catalog.strategies), False)
        + choices("sentence_function", sorted(catalog.functions), False)
        + "  </View>\n</View>\n"
    )


def csv_rows(units: list[ReviewUnit], resolutions: dict[TargetKey, Resolution]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    number = 0
    for unit in units:
        for key in unit.keys:
            number += 1
            res = resolutions.get(key)
            w = res.winner if res else None
            writer.writerow(
                {
                    "task_id": number,
                    "conversation_id": key.conversation_id,
                    "turn_index": key.turn_index,
                    "sentence_index": "" if key.sentence_index is None else key.sentence_index,
                    "field": key.field,
                    "speaker": unit.speaker,
                    "topic": unit.info.topic,
                    "subcategory": unit.info.subcategory,
                    "context": spreadsheet_safe(unit.context),
                    "text": spreadsheet_safe(unit.text),
                    "current_label": "" if w is None or w.value is None else w.value,
                    "current_source": ""
                    if w is None
                    else spreadsheet_safe(f"{w.kind}:{w.event.source.name}"),
                    "review_label": "",
                    "reviewer": "",
                    "reason": "",
                }
            )
    return buffer.getvalue()


def export_review(
    store: LabelStore,
    catalog: Catalog,
    fmt: Literal["labelstudio", "csv"],
    policy: ResolutionPolicy,
    fields: Iterable[str] = REVIEW_FIELDS,
    conversations: set[str] | None = None,
    only_disagreements: bool = False,
) -> tuple[str, int]:
    """(file text, number of tasks)."""
    resolutions = resolve_events(store.events(), policy)
    units = review_units(store.conversations(), fields, conversations)
    if only_disagreements:
        units = [
            u
            for u in units
            if any(resolutions.get(k) and resolutions[k].disagreement for k in u.keys)
        ]
    if fmt == "labelstudio":
        tasks = labelstudio_tasks(units, resolutions)
        return json.dumps(tasks, indent=2, ensure_ascii=False) + "\n", len(tasks)
    text = csv_rows(units, resolutions)
    return text, sum(len(u.keys) for u in units)


# --- import --------------------------------------------------------------------------------


@dataclass
class Decision:
    where: str
    key: TargetKey
    value: Any
    reject: bool
    reviewer: str
    reason: str
    created_at: datetime | None
    ref: str  # stable reference of the decision in its file (annotation id, row)


class ChangeRow(StrictModel):
    target: LabelTarget = Field(description="The label reviewed.")
    before: Any = Field(description="Label shown to / current before the import.")
    before_source: str = Field(description="Source kind of the label before.")
    after: Any = Field(description="Resolved label after the import.")
    after_source: str = Field(description="Source kind of the label after.")
    action: str = Field(description="accept, correct or reject.")
    reviewer: str = Field(description="Who decided.")
    changed: bool = Field(description="Whether the resolved label changed.")


class ReviewImport(StrictModel):
    file: str = Field(description="The imported file.")
    decisions: int = Field(description="Decisions read.")
    stored: int = Field(description="Events stored.")
    already_imported: int = Field(description="Decisions already in the store (skipped).")
    format: str = Field(default="", description="csv, or the Label Studio export format read.")
    warnings: list[str] = Field(default_factory=list, description="What to check.")
    changes: list[ChangeRow] = Field(description="Per decision: before and after.")


def _int(value: Any, where: str, name: str, optional: bool = False) -> int | None:
    if value in (None, "") and optional:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DataError([f"{where}: {name}: expected an integer, got {value!r}"]) from None


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_csv(path: Path, reviewer: str) -> list[Decision]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError([f"{path}: file not found"]) from None
    reader = csv.DictReader(io.StringIO(text))
    needed = {"conversation_id", "turn_index", "sentence_index", "field", "review_label"}
    missing = needed - set(reader.fieldnames or [])
    if missing:
        raise DataError(
            [
                f"{path}:1: missing column(s): {', '.join(sorted(missing))} (expected the CSV "
                "written by `emosim review export --format csv`; from Label Studio, import its "
                "'JSON' or 'JSON_MIN' export)"
            ]
        )
    decisions: list[Decision] = []
    for row in reader:
        where = f"{path}:{reader.line_num}"
        label = (row.get("review_label") or "").strip()
        if not label:
            continue
        name = (row.get("field") or "").strip()
        if name not in REVIEW_FIELDS:
            raise DataError(
                [f"{where}: field: {name!r} is not reviewable ({', '.join(REVIEW_FIELDS)})"]
            )
        value: Any = label
        if name == "intensity" and label != REJECT:
            try:
                value = float(label)
            except ValueError:
                raise DataError(
                    [f"{where}: review_label: intensity must be a number 0..1, got {label!r}"]
                ) from None
        decisions.append(
            Decision(
                where=where,
                key=TargetKey(
                    row["conversation_id"],
                    _int(row["turn_index"], where, "turn_index"),
                    _int(row["sentence_index"], where, "sentence_index", optional=True),
                    name,
                ),
                value=None if label == REJECT else value,
                reject=label == REJECT,
                reviewer=(row.get("reviewer") or "").strip() or reviewer,
                reason=(row.get("reason") or "").strip() or "CSV review",
                created_at=_timestamp(row.get("reviewed_at")),
                ref=f"csv:{row.get('task_id') or reader.line_num}",
            )
        )
    return decisions


def decision_events(
    decisions: list[Decision],
    resolutions: dict[TargetKey, Resolution],
    tool: str,
    roles: Roles | None = None,
) -> list[tuple[str, LabelEvent]]:
    """One event per decision, superseding the label shown.

    A label another person set (not a model's or rule's) is answered by an accept or correct
    with no `supersedes` link, an opinion of its own, unless the reviewer holds a role
    allowed to supersede others (roles.py); a reject of it keeps the link, so the store
    refuses it with the reason.
    """
    now = datetime.now(UTC)
    roles = roles or Roles()
    items = []
    for d in decisions:
        res = resolutions.get(d.key)
        shown = res.winner if res else None
        source = LabelSource(kind="human_bulk_review", name=d.reviewer, version=tool)
        if d.reject:
            action = "reject"
        elif shown is not None and comparable(d.key.field, shown.value) == comparable(
            d.key.field, d.value
        ):
            action = "accept"
        else:
            action = "correct"
        link = shown.event if shown is not None else None
        if link is not None and action != "reject" and link.source.kind in HUMAN_KINDS:
            probe = link.model_copy(update={"source": source, "action": action})
            if supersede_problem(probe, link, roles):
                link = None
        digest = hashlib.sha256(
            json.dumps([d.ref, d.reviewer, list(d.key), d.value, d.reject], default=str).encode()
        ).hexdigest()[:20]
        items.append(
            (
                d.where,
                LabelEvent(
                    event_id=f"review-{digest}",
                    created_at=d.created_at or now,
                    target=LabelTarget(
                        conversation_id=d.key.conversation_id,
                        turn_index=d.key.turn_index,
                        sentence_index=d.key.sentence_index,
                        field=d.key.field,  # type: ignore[arg-type]
                    ),
                    value=d.value,
                    source=source,
                    action=action,  # type: ignore[arg-type]
                    confidence=None,
                    reason=d.reason,
                    supersedes=link.event_id if link is not None else None,
                ),
            )
        )
    return items


def import_review(
    store: LabelStore,
    catalog: Catalog,
    path: Path,
    policy: ResolutionPolicy,
    reviewer: str = "reviewer",
    fmt: Literal["labelstudio", "csv"] | None = None,
    annotators: dict[int, str] | None = None,
) -> ReviewImport:
    """Store reviewers' decisions; `annotators` maps Label Studio user ids to emails."""
    from .labelstudio import read_labelstudio

    fmt = fmt or ("csv" if path.suffix.lower() in (".csv", ".tsv") else "labelstudio")
    warnings: list[str] = []
    if fmt == "csv":
        decisions, read_as = read_csv(path, reviewer), "csv"
    else:
        read = read_labelstudio(path, reviewer, annotators)
        decisions, read_as, warnings = read.decisions, read.format, read.warnings()
    before = resolve_events(store.events(), policy)
    items = decision_events(decisions, before, fmt, store.roles)
    stored_ids = store.events_by_id(e.event_id for _, e in items)
    fresh = [(w, e) for w, e in items if e.event_id not in stored_ids]
    result = store.append(fresh, catalog)
    after = resolve_events(store.events(), policy)
    changes = []
    for _, e in fresh:
        key = TargetKey(
            e.target.conversation_id, e.target.turn_index, e.target.sentence_index, e.target.field
        )
        b, a = before.get(key), after.get(key)
        bw, aw = (b.winner if b else None), (a.winner if a else None)
        changes.append(
            ChangeRow(
                target=e.target,
                before=bw.value if bw else None,
                before_source=bw.kind if bw else "",
                after=aw.value if aw else None,
                after_source=aw.kind if aw else "",
                action=e.action,
                reviewer=e.source.name,
                changed=(bw.value if bw else None) != (aw.value if aw else None),
            )
        )
    return ReviewImport(
        file=str(path),
        decisions=len(decisions),
        stored=len(result.stored),
        already_imported=len(items) - len(fresh),
        format=read_as,
        warnings=warnings,
        changes=changes,
    )
