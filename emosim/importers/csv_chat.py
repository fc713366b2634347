"""Message tables (CSV): one row per message with conversation id, timestamp, speaker and
text; the column names and which speaker values are the client or the advisor are options.
Rows are grouped by conversation id and ordered by timestamp (file order on ties or when
there is no timestamp column)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from emosim.errors import EmosimError

from .raw import Problem, RawConversation, RawMessage, ReadItem
from .textio import read_lines


@dataclass
class CsvLayout:
    id_col: str = "conversation_id"
    time_col: str | None = "timestamp"
    speaker_col: str = "speaker"
    text_col: str = "text"
    client_speakers: list[str] = field(
        default_factory=lambda: ["client", "user", "customer", "seeker"]
    )
    advisor_speakers: list[str] = field(
        default_factory=lambda: ["advisor", "assistant", "agent", "planner"]
    )
    time_required: bool = False  # True when --time-col was given explicitly


def _time(value: str) -> float:
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def read_csv_chat(path: Path, layout: CsvLayout) -> Iterator[ReadItem]:
    lines, problems = read_lines(path)
    yield from problems
    text = "".join(lines)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise EmosimError(f"{path}:1: empty file; expected a header row") from None
    needed = {
        "--id-col": layout.id_col,
        "--speaker-col": layout.speaker_col,
        "--text-col": layout.text_col,
    }
    if layout.time_required and layout.time_col:
        needed["--time-col"] = layout.time_col
    missing = [f"{opt} {col!r}" for opt, col in needed.items() if col not in header]
    if missing:
        raise EmosimError(
            f"{path}:1: header has no column {', '.join(missing)} (columns: {header})"
        )
    col = {name: i for i, name in enumerate(header)}
    time_i = col.get(layout.time_col) if layout.time_col else None
    clients = {s.lower() for s in layout.client_speakers}
    advisors = {s.lower() for s in layout.advisor_speakers}
    groups: dict[str, list[RawMessage]] = {}
    first_line: dict[str, int] = {}
    broken: set[str] = set()
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield Problem(f"{path}:{reader.line_num}", f"unreadable CSV row ({exc})")
            continue
        line = reader.line_num
        where = f"{path}:{line}"
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            yield Problem(where, f"{len(row)} columns, the header has {len(header)}")
            continue
        cid = row[col[layout.id_col]].strip()
        if not cid:
            yield Problem(where, f"column {layout.id_col!r} is empty")
            continue
        first_line.setdefault(cid, line)
        speaker = row[col[layout.speaker_col]].strip()
        if speaker.lower() in clients:
            role = "client"
        elif speaker.lower() in advisors:
            role = "advisor"
        else:
            yield Problem(
                where,
                # the value itself is not shown: speaker columns often hold people's names,
                # and problems are kept in import_report.json
                f"conversation {cid!r}: the {layout.speaker_col!r} value ({len(speaker)} "
                f"characters, not shown: it may be a name) is neither a client "
                f"({sorted(clients)}) nor an advisor ({sorted(advisors)}); use "
                "--client-speakers/--advisor-speakers",
            )
            broken.add(cid)
            continue
        message_text = row[col[layout.text_col]].strip()
        if not message_text:
            yield Problem(
                where, f"conversation {cid!r}: empty {layout.text_col!r}; row skipped", fatal=False
            )
            continue
        when = None
        if time_i is not None and row[time_i].strip():
            try:
                when = _time(row[time_i])
            except ValueError:
                yield Problem(
                    where,
                    f"conversation {cid!r}: {layout.time_col!r} {row[time_i]!r} is not a timestamp (ISO 8601 or epoch seconds)",
                )
                broken.add(cid)
                continue
        groups.setdefault(cid, []).append(RawMessage(role, message_text, line, time=when))  # type: ignore[arg-type]
    for cid, messages in groups.items():
        if cid in broken:
            yield Problem(
                f"{path}:{first_line[cid]}",
                f"conversation {cid!r} not imported: a row of it is bad (see above)",
            )
            continue
        messages.sort(key=lambda m: (m.time if m.time is not None else float("-inf"), m.line))
        yield RawConversation(source_id=cid, line=first_line[cid], messages=messages)
