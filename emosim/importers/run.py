"""`emosim import`: read a file, build records, write them with the import and anonymization
reports. Bad conversations are reported by line and skipped; the rest of the batch imports."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from emosim.agents.backends import build_scripted
from emosim.anonymize import AnonymizationReport
from emosim.catalog import Catalog
from emosim.errors import EmosimError
from emosim.files import ensure_folder, write_text_atomic
from emosim.runlock import run_lock
from emosim.schemas import ConversationRecord
from emosim.schemas.common import StrictModel

from .build import BuildOptions, BuildStats, RecordBuilder
from .config import esconv_config
from .csv_chat import CsvLayout, read_csv_chat
from .esconv import read_esconv
from .jsonl_chat import read_jsonl_chat
from .raw import Problem, RawConversation, ReadItem

Format = Literal["esconv", "jsonl-chat", "csv"]
FORMATS: tuple[str, ...] = ("esconv", "jsonl-chat", "csv")
RECORDS_FILE = "conversations.jsonl"
IMPORT_REPORT = "import_report.json"
ANONYMIZATION_REPORT = "anonymization_report.json"


class ImportReport(StrictModel):
    source: str = Field(description="File imported.")
    format: Format
    conversations_read: int = 0
    imported: int = 0
    failed: int = Field(default=0, description="Conversations or rows that could not be imported.")
    warnings: int = Field(default=0, description="Problems that did not stop an import.")
    problems: list[str] = Field(
        default_factory=list, description="Every error and warning, located."
    )
    merged_messages: int = 0
    dropped_leading_advisor: int = 0
    dropped_trailing_client: int = 0
    dropped_system: int = 0
    strategy_labels: dict[str, int] = Field(
        default_factory=dict, description="Imported human strategy labels per emosim strategy."
    )
    unmapped_labels: dict[str, int] = Field(
        default_factory=dict, description="Imported labels with no emosim strategy (ESConv Others)."
    )
    topics_inferred: int = 0
    topics_default: int = 0
    anonymization: AnonymizationReport


@dataclass
class ImportResult:
    report: ImportReport
    records: list[ConversationRecord]
    out_dir: Path


def _read(path: Path, fmt: str, catalog: Catalog, layout: CsvLayout | None) -> Iterator[ReadItem]:
    if fmt == "esconv":
        return read_esconv(path, esconv_config(catalog))
    if fmt == "jsonl-chat":
        return read_jsonl_chat(path)
    if fmt == "csv":
        return read_csv_chat(path, layout or CsvLayout())
    raise EmosimError(f"--format: unknown format {fmt!r} (choose from {', '.join(FORMATS)})")


def import_file(
    path: Path,
    fmt: str,
    out_dir: Path,
    catalog: Catalog,
    options: BuildOptions,
    layout: CsvLayout | None = None,
    mode: str = "new",
) -> ImportResult:
    """Import `path` into `out_dir`; `mode` says what happens to records already there:
    new (refuse), append (keep them; an id imported again is refused) or replace."""
    if not path.is_file():
        raise EmosimError(f"{path}: file not found")
    options.format = fmt
    options.source_sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    esconv = esconv_config(catalog) if fmt == "esconv" else None
    if fmt == "esconv" and options.license == "unknown":
        options.license = "CC-BY-NC-4.0"
    existing = _existing_records(out_dir, mode)
    _check_out(out_dir)
    builder: RecordBuilder | None = None  # built at the first conversation (it takes a while)
    stats = BuildStats()
    anonymization = AnonymizationReport(enabled=options.anonymize)
    report = ImportReport(source=str(path), format=fmt, anonymization=anonymization)  # type: ignore[arg-type]
    records: list[ConversationRecord] = []
    first_line: dict[str, int] = {}
    for item in _read(path, fmt, catalog, layout):
        if isinstance(item, Problem):
            _problem(report, item)
            continue
        report.conversations_read += 1
        if item.source_id in first_line:
            raise EmosimError(
                f"{path}:{item.line}: conversation id {item.source_id!r} is used twice (first at "
                f"line {first_line[item.source_id]}); ids must be unique, nothing imported"
            )
        first_line[item.source_id] = item.line
        if builder is None:
            builder = RecordBuilder(catalog, build_scripted(catalog, anti_pattern_rate=0.0), esconv)
        _build_one(builder, item, options, stats, report, records, path)
    report.merged_messages = stats.merged_messages
    report.dropped_leading_advisor = stats.dropped_leading_advisor
    report.dropped_trailing_client = stats.dropped_trailing_client
    report.dropped_system = stats.dropped_system
    report.strategy_labels = dict(sorted(stats.strategy_labels.items()))
    report.unmapped_labels = dict(sorted(stats.unmapped_labels.items()))
    report.topics_inferred = stats.topics_inferred
    report.topics_default = stats.topics_default
    if not records:
        detail = "\n".join(report.problems) or f"{path}: no conversation found"
        raise EmosimError(f"{detail}\n{path}: nothing imported ({report.failed} failed)")
    clash = sorted({r.id for r in records} & set(existing))
    if clash:
        raise EmosimError(
            f"{out_dir / RECORDS_FILE}: already holds conversation(s) {', '.join(clash[:5])}"
            f"{' ...' if len(clash) > 5 else ''}; nothing imported"
        )
    created = not out_dir.exists()
    ensure_folder(out_dir, "--out")
    try:
        with run_lock(out_dir):
            kept = "".join(line + "\n" for line in existing.values())
            write_text_atomic(
                out_dir / RECORDS_FILE,
                kept + "".join(r.model_dump_json() + "\n" for r in records),
            )
            write_text_atomic(
                out_dir / ANONYMIZATION_REPORT, anonymization.model_dump_json(indent=2) + "\n"
            )
            write_text_atomic(out_dir / IMPORT_REPORT, report.model_dump_json(indent=2) + "\n")
    except BaseException:
        if created:  # a failed write (a full disk) leaves no half-filled folder behind
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    return ImportResult(report, records, out_dir)


def _check_out(out_dir: Path) -> None:
    """A file where the --out folder (or a parent) should be: refused before any work."""
    for parent in (out_dir, *out_dir.parents):
        if parent.exists() and not parent.is_dir():
            raise EmosimError(f"--out: {parent} is a file, not a folder")


def _existing_records(out_dir: Path, mode: str) -> dict[str, str]:
    """Record lines already in the folder, by id, that the import keeps (`--append`); a folder
    with records and neither --append nor --replace is refused, never silently overwritten."""
    path = out_dir / RECORDS_FILE
    if mode not in ("new", "append", "replace"):
        raise EmosimError(f"import mode: {mode!r} is not new, append or replace")
    if not path.is_file() or path.stat().st_size == 0:
        return {}
    is_run = (out_dir / "manifest.json").is_file()
    if mode == "new":
        what = "a run folder with simulated records" if is_run else "records"
        raise EmosimError(
            f"{out_dir}: already holds {what} ({path.name}); use --append to add the imported "
            "conversations, --replace to overwrite them, or another --out"
        )
    if mode == "replace":
        if is_run:
            raise EmosimError(
                f"{out_dir}: is a run folder (manifest.json); --replace would lose its simulated "
                "records; use --append or another --out"
            )
        return {}
    lines: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            lines[json.loads(line)["id"]] = line
        except (ValueError, KeyError, TypeError):
            raise EmosimError(f"{path}:{number}: not a record line; nothing imported") from None
    return lines


def _problem(report: ImportReport, problem: Problem) -> None:
    report.problems.append(("" if problem.fatal else "warning: ") + str(problem))
    if problem.fatal:
        report.failed += 1
    else:
        report.warnings += 1


def _build_one(
    builder: RecordBuilder,
    raw: RawConversation,
    options: BuildOptions,
    stats: BuildStats,
    report: ImportReport,
    records: list[ConversationRecord],
    path: Path,
) -> None:
    try:
        record, counts, changed, why = builder.build(raw, options, stats)
    except ValueError as exc:  # pydantic ValidationError is a ValueError
        _problem(
            report,
            Problem(f"{path}:{raw.line}", f"conversation {raw.source_id!r}: {_no_input(exc)}"),
        )
        return
    if record is None:
        _problem(report, Problem(f"{path}:{raw.line}", f"conversation {raw.source_id!r}: {why}"))
        return
    if options.anonymize:
        report.anonymization.add(dict(counts), changed, record)
    records.append(record)
    report.imported += 1


def load_records(out_dir: Path) -> list[ConversationRecord]:
    path = out_dir / RECORDS_FILE
    return [
        ConversationRecord.model_validate(json.loads(line))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def _no_input(exc: ValueError) -> str:
    """A build error without the offending value: it is raw (not anonymized) text."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return "could not be built (the value is not shown: it may identify someone)"
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '<record>'}: {e['msg']}" for e in errors()[:3]
    )
