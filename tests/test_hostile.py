"""Hostile input: every case exits non-zero with one clear message naming the file, field or
value, no traceback, and nothing written (the folder the command ran in is unchanged).

Each case builds its input under tmp_path and runs the CLI in-process with tmp_path as the
working folder, so a default output (plan.yaml, runs/, ...) would show up as a written file.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click
import click.testing
import pytest
import typer
import typer.main
import yaml

from emosim.cli import app

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "simulations" / "investing_shame_first_steps.yaml"
PII = ("John Smith", "john.smith@example.com", "555-867-5309")


@dataclass
class Ctx:
    tmp: Path
    source: Path  # a finished scripted run (one conversation), shared: never changed
    conversation: str
    monkeypatch: pytest.MonkeyPatch
    hold: list = field(default_factory=list)  # locks held during the case

    @property
    def run(self) -> Path:
        """A copy of the finished run under tmp/runs, made on first use (cases may damage it)."""
        copy = self.tmp / "runs" / self.source.name
        if not copy.exists():
            shutil.copytree(self.source, copy, ignore=shutil.ignore_patterns(".lock*"))
        return copy


Case = Callable[[Ctx], tuple[list[str], list[str]]]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        assert name not in CASES, name
        CASES[name] = fn
        return fn

    return register


def scenario_text(**changes: object) -> str:
    data = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    data.update(changes)
    return yaml.safe_dump(data, sort_keys=False)


def write(ctx: Ctx, name: str, text: str | bytes) -> Path:
    path = ctx.tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def alias_bomb(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


# --- hostile YAML (the one reader: emosim.files.parse_yaml) ---------------------------------


def _yaml_case(name: str, text: Callable[[], str | bytes], *expect: str) -> None:
    @case(f"yaml_{name}")
    def run(ctx: Ctx) -> tuple[list[str], list[str]]:
        path = write(ctx, "in/scenario.yaml", text())
        return ["validate", str(path)], [str(path), *expect]


_yaml_case("alias_bomb", alias_bomb, "too many values once aliases are expanded")
_yaml_case(
    "alias_bomb_in_title",
    lambda: alias_bomb() + scenario_text().replace("title:", "title: *l9\nold_title:", 1),
    "too many values",
)
_yaml_case("nested_100_lists", lambda: "a: " + "[" * 100 + "]" * 100 + "\n", "nested deeper")
_yaml_case("nested_100k_lists", lambda: "a: " + "[" * 100_000 + "]" * 100_000 + "\n", "nest")
_yaml_case(
    "nested_200_mappings",
    lambda: "".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n",
    "nested deeper",
)
_yaml_case("nested_flow_mappings", lambda: "a: " + "{b: " * 80 + "1" + "}" * 80, "nested deeper")
_yaml_case(
    "duplicate_top_key",
    lambda: scenario_text() + "title: Again\n",
    "title: duplicate key",
    "first at line",
)
_yaml_case(
    "duplicate_nested_key",
    lambda: scenario_text().replace(
        "arc:\n", "arc:\n- {emotion: shame, intensity: 0.5, emotion: fear}\n", 1
    ),
    "duplicate key",
    "emotion",
)
_yaml_case("duplicate_key_flow", lambda: "{id: a, id: b}\n", "id: duplicate key")
_yaml_case("empty_arc", lambda: scenario_text(arc=[]), "arc", "at least 1 item")
_yaml_case("empty_title", lambda: scenario_text(title=""), "title", "at least 1 character")
_yaml_case("blank_situation", lambda: scenario_text(situation="   "), "situation", "blank")
_yaml_case("exchanges_text", lambda: scenario_text(exchanges="lots"), "exchanges", "lots")
_yaml_case("exchanges_99", lambda: scenario_text(exchanges=99), "exchanges", "99")
_yaml_case("unknown_key", lambda: scenario_text(colour="red"), "colour", "Extra inputs")
_yaml_case("unknown_persona", lambda: scenario_text(client_persona="nobody_here"), "nobody_here")
_yaml_case(
    "python_tag",
    lambda: scenario_text() + 'hack: !!python/object/apply:os.system ["touch pwned"]\n',
    "invalid YAML",
)
_yaml_case("two_documents", lambda: scenario_text() + "---\nid: other\n", "invalid YAML")
_yaml_case("unknown_alias", lambda: "a: *nowhere\n", "unknown alias", "nowhere")
_yaml_case("unclosed_bracket", lambda: "id: x\ntitle: [unclosed\n", "invalid YAML")
_yaml_case("tab_indent", lambda: "id: x\n\ttitle: y\n", "invalid YAML")
_yaml_case("not_utf8", lambda: "title: caf\xe9\n".encode("latin-1"), "not UTF-8")
_yaml_case("nul_bytes", lambda: b"id: a\x00b\n", "invalid YAML")
_yaml_case("top_level_list", lambda: "- a\n- b\n", "not a known emosim file")
_yaml_case("unhashable_key", lambda: "? [a, b]\n: 1\n? {c: d}\n: 2\n", "invalid YAML")
_yaml_case(
    "markup_in_id",
    lambda: scenario_text(id="[/bold]oops[red]"),
    "[/bold]oops[red]",
)


@case("yaml_over_size_limit")
def _over_size(ctx: Ctx) -> tuple[list[str], list[str]]:
    ctx.monkeypatch.setattr("emosim.files.MAX_YAML_BYTES", 1000)
    path = write(ctx, "big.yaml", scenario_text() + "# " + "x" * 2000 + "\n")
    return ["validate", str(path)], [str(path), "larger than the 1,000-byte limit"]


@case("yaml_bomb_in_plan")
def _bomb_plan(ctx: Ctx) -> tuple[list[str], list[str]]:
    path = write(ctx, "plan.yaml", alias_bomb() + "jobs: *l9\n")
    return ["batch", str(path), "--runs-dir", str(ctx.tmp / "out")], [str(path), "too many"]


@case("yaml_duplicate_key_in_plan")
def _dup_plan(ctx: Ctx) -> tuple[list[str], list[str]]:
    path = write(ctx, "plan.yaml", "jobs: []\njobs: []\n")
    return ["batch", str(path), "--runs-dir", str(ctx.tmp / "out")], ["jobs: duplicate key"]


@case("plan_without_jobs")
def _plan_empty(ctx: Ctx) -> tuple[list[str], list[str]]:
    path = write(ctx, "plan.yaml", "jobs: []\n")
    return ["batch", str(path), "--runs-dir", str(ctx.tmp / "out")], [str(path), "jobs"]


@case("yaml_duplicate_key_run")
def _dup_run(ctx: Ctx) -> tuple[list[str], list[str]]:
    path = write(ctx, "s.yaml", scenario_text() + "seed: 4\n")
    return ["run", str(path), "--runs-dir", str(ctx.tmp / "out")], ["seed: duplicate key"]


@case("yaml_empty_arc_run")
def _arc_run(ctx: Ctx) -> tuple[list[str], list[str]]:
    path = write(ctx, "s.yaml", scenario_text(arc=[]))
    return ["run", str(path), "--runs-dir", str(ctx.tmp / "out")], [str(path), "arc"]


@case("yaml_bomb_in_backend_spec")
def _bomb_spec(ctx: Ctx) -> tuple[list[str], list[str]]:
    path = write(ctx, "spec.yaml", alias_bomb() + "roles: *l9\n")
    return ["run", str(SCENARIO), "--backend", str(path), "--runs-dir", str(ctx.tmp / "o")], [
        "too many"
    ]


# --- validate: paths ------------------------------------------------------------------------


@case("validate_empty_folder")
def _empty_folder(ctx: Ctx) -> tuple[list[str], list[str]]:
    (ctx.tmp / "empty").mkdir()
    return ["validate", str(ctx.tmp / "empty")], ["no data files"]


@case("validate_folder_without_data")
def _no_data(ctx: Ctx) -> tuple[list[str], list[str]]:
    write(ctx, "notes/readme.txt", "hello")
    return ["validate", str(ctx.tmp / "notes")], ["no data files"]


@case("validate_symlink_loop")
def _loop(ctx: Ctx) -> tuple[list[str], list[str]]:
    (ctx.tmp / "loop.yaml").symlink_to(ctx.tmp / "loop.yaml")
    return ["validate", str(ctx.tmp / "loop.yaml")], ["symbolic link loop"]


@case("validate_symlink_cycle_folder")
def _cycle(ctx: Ctx) -> tuple[list[str], list[str]]:
    (ctx.tmp / "d").mkdir()
    (ctx.tmp / "d" / "back").symlink_to(ctx.tmp / "d")
    return ["validate", str(ctx.tmp / "d")], ["no data files"]


@case("validate_missing_file")
def _missing(ctx: Ctx) -> tuple[list[str], list[str]]:
    return ["validate", str(ctx.tmp / "nope.yaml")], ["nope.yaml: file not found"]


@case("validate_unsupported_type")
def _txt(ctx: Ctx) -> tuple[list[str], list[str]]:
    path = write(ctx, "x.txt", "hi")
    return ["validate", str(path)], ["unsupported file type '.txt'"]


@case("validate_bad_middle_line")
def _bad_line(ctx: Ctx) -> tuple[list[str], list[str]]:
    lines = (ctx.run / "conversations.jsonl").read_text().splitlines()
    path = write(ctx, "r.jsonl", "\n".join([lines[0], "{oops", lines[0]]) + "\n")
    return ["validate", str(path)], [f"{path}:2", "invalid JSON"]


# --- batch: seeds, concurrency, resume ------------------------------------------------------


def _batch(ctx: Ctx, *extra: str) -> list[str]:
    return ["batch", str(SCENARIO), "--runs-dir", str(ctx.tmp / "out"), *extra]


for _name, _seeds, _expect in (
    ("seeds_huge_range", "1-100000000", "more than 100,000 seeds"),
    ("seeds_many_parts", ",".join(["1-60000", "1-60000"]), "more than 100,000 seeds"),
    ("seeds_backwards", "5-1", "no seeds"),
    ("seeds_text", "abc", "'abc'"),
    ("seeds_empty", "", "--seeds"),
    ("seeds_double_dash", "1--5", "'1--5'"),
    ("seeds_negative", "-3", "'-3'"),
    ("seeds_float", "1.5", "'1.5'"),
):

    def _make(seeds: str, expect: str) -> Case:
        return lambda ctx: (_batch(ctx, "--seeds", seeds), ["--seeds", expect])

    case(f"batch_{_name}")(_make(_seeds, _expect))


@case("batch_concurrency_zero")
def _conc0(ctx: Ctx) -> tuple[list[str], list[str]]:
    return _batch(ctx, "--concurrency", "0"), ["--concurrency", "at least 1", "got 0"]


@case("batch_concurrency_negative")
def _conc_neg(ctx: Ctx) -> tuple[list[str], list[str]]:
    return _batch(ctx, "--concurrency", "-3"), ["--concurrency", "got -3"]


@case("batch_no_source")
def _no_source(ctx: Ctx) -> tuple[list[str], list[str]]:
    return ["batch", "--runs-dir", str(ctx.tmp / "out")], ["give a plan"]


@case("batch_missing_source")
def _missing_source(ctx: Ctx) -> tuple[list[str], list[str]]:
    return ["batch", str(ctx.tmp / "nope.yaml")], ["nope.yaml: file not found"]


@case("batch_empty_folder")
def _empty_source(ctx: Ctx) -> tuple[list[str], list[str]]:
    (ctx.tmp / "scen").mkdir()
    return ["batch", str(ctx.tmp / "scen")], ["no scenario files"]


@case("batch_runs_dir_is_a_file")
def _runs_file(ctx: Ctx) -> tuple[list[str], list[str]]:
    path = write(ctx, "runs.txt", "not a folder")
    return ["batch", str(SCENARIO), "--runs-dir", str(path)], [
        "--runs-dir",
        str(path),
        "is a file",
    ]


@case("batch_runs_dir_under_a_file")
def _runs_under_file(ctx: Ctx) -> tuple[list[str], list[str]]:
    path = write(ctx, "runs.txt", "not a folder")
    return ["batch", str(SCENARIO), "--runs-dir", str(path / "sub")], ["is a file"]


@case("batch_runs_dir_read_only")
def _runs_readonly(ctx: Ctx) -> tuple[list[str], list[str]]:
    def refuse(*_a: object, **_k: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    ctx.monkeypatch.setattr(Path, "mkdir", refuse)
    return _batch(ctx), ["out", "cannot write", "read-only"]


@case("resume_unknown_run")
def _resume_unknown(ctx: Ctx) -> tuple[list[str], list[str]]:
    return ["batch", "--resume", "no-such-run", "--runs-dir", str(ctx.tmp / "runs")], [
        "'no-such-run'",
        "no such run",
    ]


def _records_lines(ctx: Ctx) -> list[str]:
    return (ctx.run / "conversations.jsonl").read_text().splitlines()


@case("resume_bad_middle_line")
def _resume_bad_line(ctx: Ctx) -> tuple[list[str], list[str]]:
    line = _records_lines(ctx)[0]
    (ctx.run / "conversations.jsonl").write_text(f"{line}\n{{broken\n{line}\n")
    return ["batch", "--resume", str(ctx.run)], ["conversations.jsonl:2", "not a record line"]


@case("resume_line_without_id")
def _resume_no_id(ctx: Ctx) -> tuple[list[str], list[str]]:
    line = _records_lines(ctx)[0]
    (ctx.run / "conversations.jsonl").write_text(f'{line}\n{{"no": "id"}}\n')
    return ["batch", "--resume", str(ctx.run)], ["conversations.jsonl:2", "not a record line"]


@case("resume_corrupt_manifest")
def _resume_manifest(ctx: Ctx) -> tuple[list[str], list[str]]:
    (ctx.run / "manifest.json").write_text('{"jobs": [')
    return ["batch", "--resume", str(ctx.run)], ["manifest.json", "unreadable run manifest"]


@case("resume_manifest_not_object")
def _resume_manifest_list(ctx: Ctx) -> tuple[list[str], list[str]]:
    (ctx.run / "manifest.json").write_text("[1, 2]")
    return ["batch", "--resume", str(ctx.run)], ["manifest.json", "not a run manifest"]


@case("resume_locked_run")
def _resume_locked(ctx: Ctx) -> tuple[list[str], list[str]]:
    hold(ctx)
    return ["batch", "--resume", str(ctx.run)], ["run is locked", f"pid {os.getpid()}"]


def hold(ctx: Ctx) -> None:
    from emosim.runlock import run_lock

    lock = run_lock(ctx.run, "emosim batch (another writer)")
    lock.__enter__()
    ctx.hold.append(lock)


# --- demo, run ------------------------------------------------------------------------------


@case("demo_count_zero")
def _demo0(ctx: Ctx) -> tuple[list[str], list[str]]:
    return ["demo", "--count", "0", "--runs-dir", str(ctx.tmp / "out")], [
        "--count",
        "greater than or equal to 1",
    ]


@case("demo_count_negative")
def _demo_neg(ctx: Ctx) -> tuple[list[str], list[str]]:
    return ["demo", "--count", "-1", "--runs-dir", str(ctx.tmp / "out")], [
        "--count",
        "greater than or equal to 1",
    ]


@case("demo_runs_dir_is_a_file")
def _demo_file(ctx: Ctx) -> tuple[list[str], list[str]]:
    path = write(ctx, "f", "x")
    return ["demo", "--count", "1", "--runs-dir", str(path)], [str(path), "is a file"]


@case("run_missing_scenario")
def _run_missing(ctx: Ctx) -> tuple[list[str], list[str]]:
    return ["run", str(ctx.tmp / "gone.yaml")], ["gone.yaml: file not found"]


@case("run_scenario_is_a_folder")
def _run_folder(ctx: Ctx) -> tuple[list[str], list[str]]:
    (ctx.tmp / "s.yaml").mkdir()
    return ["run", str(ctx.tmp / "s.yaml")], ["s.yaml: is a folder"]


# --- import ---------------------------------------------------------------------------------


def chat(cid: str, client: str = "I keep putting off my budget.") -> str:
    messages = [
        {"role": "user", "content": client},
        {"role": "assistant", "content": "Let's look at it together."},
    ]
    return json.dumps({"id": cid, "messages": messages})


def _import(ctx: Ctx, src: Path, out: Path | None = None, *extra: str) -> list[str]:
    out = out or ctx.tmp / "imported"
    return ["import", str(src), "--format", "jsonl-chat", "--out", str(out), *extra]


@case("import_duplicate_source_ids")
def _dup_ids(ctx: Ctx) -> tuple[list[str], list[str]]:
    src = write(ctx, "c.jsonl", "\n".join([chat("a"), chat("b"), chat("a")]) + "\n")
    return _import(ctx, src), [f"{src}:3", "'a' is used twice", "first at line 1"]


@case("import_into_run_folder")
def _into_run(ctx: Ctx) -> tuple[list[str], list[str]]:
    src = write(ctx, "c.jsonl", chat("a") + "\n")
    return _import(ctx, src, ctx.run), [str(ctx.run), "run folder", "--append"]


@case("import_into_run_folder_replace")
def _into_run_replace(ctx: Ctx) -> tuple[list[str], list[str]]:
    src = write(ctx, "c.jsonl", chat("a") + "\n")
    return _import(ctx, src, ctx.run, "--replace"), ["--replace would lose"]


@case("import_over_earlier_import")
def _over_import(ctx: Ctx) -> tuple[list[str], list[str]]:
    src = write(ctx, "c.jsonl", chat("a") + "\n")
    write(ctx, "prev/conversations.jsonl", _records_lines(ctx)[0] + "\n")
    return _import(ctx, src, ctx.tmp / "prev"), ["already holds records", "--replace"]


@case("import_append_and_replace")
def _both(ctx: Ctx) -> tuple[list[str], list[str]]:
    src = write(ctx, "c.jsonl", chat("a") + "\n")
    return _import(ctx, src, None, "--append", "--replace"), ["--append and --replace"]


@case("import_append_same_id")
def _append_clash(ctx: Ctx) -> tuple[list[str], list[str]]:
    from typer.testing import CliRunner

    src = write(ctx, "c.jsonl", chat("a") + "\n")
    out = ctx.tmp / "once"
    assert CliRunner().invoke(app, _import(ctx, src, out)).exit_code == 0
    return _import(ctx, src, out, "--append"), ["already holds conversation(s)"]


@case("import_out_is_a_file")
def _out_file(ctx: Ctx) -> tuple[list[str], list[str]]:
    src = write(ctx, "c.jsonl", chat("a") + "\n")
    path = write(ctx, "out.txt", "x")
    return _import(ctx, src, path), ["--out", str(path), "is a file"]


@case("import_disk_full")
def _disk_full(ctx: Ctx) -> tuple[list[str], list[str]]:
    src = write(ctx, "c.jsonl", chat("a") + "\n")

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    ctx.monkeypatch.setattr(os, "fsync", full)
    return _import(ctx, src), ["conversations.jsonl", "the disk is full"]


@case("import_empty_file")
def _empty_import(ctx: Ctx) -> tuple[list[str], list[str]]:
    src = write(ctx, "c.jsonl", "")
    return _import(ctx, src), [str(src), "nothing imported"]


@case("import_missing_file")
def _missing_import(ctx: Ctx) -> tuple[list[str], list[str]]:
    return _import(ctx, ctx.tmp / "none.jsonl"), ["none.jsonl: file not found"]


@case("import_unknown_format")
def _xml(ctx: Ctx) -> tuple[list[str], list[str]]:
    src = write(ctx, "c.jsonl", chat("a") + "\n")
    args = _import(ctx, src)
    args[args.index("jsonl-chat")] = "xml"
    return args, ["--format", "'xml'"]


@case("import_training_weight_2")
def _weight(ctx: Ctx) -> tuple[list[str], list[str]]:
    src = write(ctx, "c.jsonl", chat("a") + "\n")
    return _import(ctx, src, None, "--training-weight", "2"), ["--training-weight", "2"]


@case("import_pii_in_a_bad_line")
def _pii_line(ctx: Ctx) -> tuple[list[str], list[str]]:
    bad = '{"id": "a", "messages": [{"role": "user", "content": "I am John Smith, '
    bad += 'john.smith@example.com, 555-867-5309"}, oops]}'
    src = write(ctx, "c.jsonl", bad + "\n")
    return _import(ctx, src), [f"{src}:1", "invalid JSON"]


@case("import_pii_in_a_bad_role")
def _pii_role(ctx: Ctx) -> tuple[list[str], list[str]]:
    msg = {"role": "John Smith", "content": "call me at 555-867-5309"}
    src = write(ctx, "c.jsonl", json.dumps({"id": "a", "messages": [msg]}) + "\n")
    return _import(ctx, src), [f"{src}:1", "nothing imported"]


@case("import_pii_csv_speaker")
def _pii_csv(ctx: Ctx) -> tuple[list[str], list[str]]:
    src = write(
        ctx,
        "c.csv",
        "conversation_id,speaker,text\nc1,John Smith,hello from john.smith@example.com\n"
        "c1,advisor,hi\n",
    )
    args = ["import", str(src), "--format", "csv", "--out", str(ctx.tmp / "imported")]
    return args, [f"{src}:2", "not shown"]


@case("import_pii_esconv_speaker")
def _pii_esconv(ctx: Ctx) -> tuple[list[str], list[str]]:
    turn = {"speaker": "John Smith", "content": "reach me at john.smith@example.com"}
    src = write(ctx, "e.json", json.dumps([{"dialog": [turn]}]))
    args = ["import", str(src), "--format", "esconv", "--out", str(ctx.tmp / "imported")]
    return args, [f"{src}:1", "not shown"]


@case("import_csv_markup_header")
def _markup_header(ctx: Ctx) -> tuple[list[str], list[str]]:
    src = write(ctx, "c.csv", "conversation_id,[/bold]speaker,text\nc1,client,hi\n")
    args = ["import", str(src), "--format", "csv", "--out", str(ctx.tmp / "imported")]
    return args, [f"{src}:1", "speaker"]


# --- inspect, replay, fork: missing, damaged or locked checkpoints ---------------------------


def _no_checkpoints(ctx: Ctx) -> None:
    (ctx.run / "checkpoints.sqlite").unlink()


def _garbage_checkpoints(ctx: Ctx) -> None:
    (ctx.run / "checkpoints.sqlite").write_bytes(b"this is not a database" * 100)


def _foreign_database(ctx: Ctx) -> None:
    path = ctx.run / "checkpoints.sqlite"
    path.unlink()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE events (id INTEGER)")
    conn.close()


def _truncated_checkpoints(ctx: Ctx) -> None:
    path = ctx.run / "checkpoints.sqlite"
    path.write_bytes(path.read_bytes()[:2048])


DAMAGE = {
    "missing": (_no_checkpoints, "no checkpoints.sqlite"),
    "garbage": (_garbage_checkpoints, "damaged checkpoint database"),
    "foreign": (_foreign_database, "not a checkpoint database"),
    "truncated": (_truncated_checkpoints, "checkpoint"),
}


def _debug_args(ctx: Ctx, command: str) -> list[str]:
    runs = ["--runs-dir", str(ctx.run.parent)]
    if command == "inspect":
        return ["inspect", ctx.run.name, ctx.conversation, *runs]
    if command == "replay":
        return ["replay", ctx.run.name, ctx.conversation, *runs]
    return ["fork", ctx.run.name, ctx.conversation, "--at", "3", "--set", "progress=1", *runs]


for _command in ("inspect", "replay", "fork"):
    for _kind, (_damage, _expect) in DAMAGE.items():

        def _make_debug(command: str, damage: Callable[[Ctx], None], expect: str) -> Case:
            def run(ctx: Ctx) -> tuple[list[str], list[str]]:
                damage(ctx)
                return _debug_args(ctx, command), [expect]

            return run

        case(f"{_command}_checkpoints_{_kind}")(_make_debug(_command, _damage, _expect))


@case("inspect_unknown_run")
def _inspect_unknown(ctx: Ctx) -> tuple[list[str], list[str]]:
    return ["inspect", "nope", "--runs-dir", str(ctx.run.parent)], ["'nope'", "no such run"]


@case("inspect_unknown_conversation")
def _inspect_conv(ctx: Ctx) -> tuple[list[str], list[str]]:
    return ["inspect", str(ctx.run), "ghost"], ["no conversation 'ghost'"]


@case("inspect_bad_record_line")
def _inspect_bad(ctx: Ctx) -> tuple[list[str], list[str]]:
    line = _records_lines(ctx)[0]
    (ctx.run / "conversations.jsonl").write_text(f"{line}\n{{torn\n")
    return ["inspect", str(ctx.run)], ["conversations.jsonl:2", "not a valid record line"]


@case("replay_unknown_checkpoint")
def _replay_cp(ctx: Ctx) -> tuple[list[str], list[str]]:
    return ["replay", str(ctx.run), ctx.conversation, "--from", "zzz"], ["no checkpoint 'zzz'"]


@case("fork_unknown_path")
def _fork_path(ctx: Ctx) -> tuple[list[str], list[str]]:
    args = _debug_args(ctx, "fork")
    args[args.index("progress=1")] = "secret.key=1"
    return args, ["unknown state path 'secret.key'"]


@case("fork_bad_set_syntax")
def _fork_syntax(ctx: Ctx) -> tuple[list[str], list[str]]:
    args = _debug_args(ctx, "fork")
    args[args.index("progress=1")] = "progress"
    return args, ["expected PATH=VALUE", "'progress'"]


@case("fork_locked_run")
def _fork_locked(ctx: Ctx) -> tuple[list[str], list[str]]:
    hold(ctx)
    return _debug_args(ctx, "fork"), ["run is locked", "another writer"]


# --- label store, ports ---------------------------------------------------------------------


@case("labels_import_into_checkpoints")
def _labels_ckpt(ctx: Ctx) -> tuple[list[str], list[str]]:
    store = ctx.run / "checkpoints.sqlite"
    return ["labels", "import", str(ctx.run), "--store", str(store)], [
        "checkpoints.sqlite",
        "not a label store",
    ]


@case("labels_serve_port_70000")
def _port(ctx: Ctx) -> tuple[list[str], list[str]]:
    return ["labels", "serve", "--port", "70000"], ["--port", "less than or equal to 65535"]


@case("labels_serve_port_zero")
def _port0(ctx: Ctx) -> tuple[list[str], list[str]]:
    return ["labels", "serve", "--port", "0"], ["--port", "greater than or equal to 1"]


@case("studio_port_negative")
def _studio_port(ctx: Ctx) -> tuple[list[str], list[str]]:
    return ["studio", "--port", "-1"], ["--port", "greater than or equal to 1"]


# --- output paths ---------------------------------------------------------------------------


for _command in ("schema", "docs"):

    def _make_out(command: str) -> list[Case]:
        def is_file(ctx: Ctx) -> tuple[list[str], list[str]]:
            path = write(ctx, "out", "a file")
            return [command, "--out", str(path)], ["--out", str(path), "is a file"]

        def full(ctx: Ctx) -> tuple[list[str], list[str]]:
            (ctx.tmp / "out").mkdir()

            def no_space(_fd: int) -> None:
                raise OSError(errno.ENOSPC, "No space left on device")

            ctx.monkeypatch.setattr(os, "fsync", no_space)
            return [command, "--out", str(ctx.tmp / "out")], ["cannot write: the disk is full"]

        def read_only(ctx: Ctx) -> tuple[list[str], list[str]]:
            (ctx.tmp / "out").mkdir()

            def refuse(*_a: object, **_k: object) -> None:
                raise PermissionError(errno.EACCES, "Permission denied")

            ctx.monkeypatch.setattr("tempfile.mkstemp", refuse)
            return [command, "--out", str(ctx.tmp / "out")], ["cannot write: permission denied"]

        return [is_file, full, read_only]

    for _fn, _kind in zip(
        _make_out(_command), ("is_a_file", "disk_full", "read_only"), strict=True
    ):
        case(f"{_command}_out_{_kind}")(_fn)


@case("export_out_is_a_file")
def _export_out(ctx: Ctx) -> tuple[list[str], list[str]]:
    path = write(ctx, "out", "a file")
    args = ["export", str(ctx.run), "--format", "openai-chat", "--out", str(path / "sub")]
    return args, ["--out", str(path), "is a file"]


@case("report_out_is_a_file")
def _report_out(ctx: Ctx) -> tuple[list[str], list[str]]:
    path = write(ctx, "out", "a file")
    return ["report", str(ctx.run), "--out", str(path)], ["--out", str(path), "is a file"]


@case("coverage_json_under_a_file")
def _coverage_out(ctx: Ctx) -> tuple[list[str], list[str]]:
    path = write(ctx, "out", "a file")
    args = ["coverage", str(ctx.run), "--json", str(path / "c.json"), "--no-diversity"]
    return args, ["--json", str(path), "is a file"]


@case("plan_out_under_a_file")
def _plan_out(ctx: Ctx) -> tuple[list[str], list[str]]:
    path = write(ctx, "out", "a file")
    return ["plan", "--out", str(path / "p.yaml")], ["--out", str(path), "is a file"]


@case("seed_compile_out_is_a_file")
def _seed_out(ctx: Ctx) -> tuple[list[str], list[str]]:
    path = write(ctx, "out", "a file")
    return ["seed", "compile", "--out", str(path)], [str(path), "is a file"]


@case("show_unknown_run")
def _show_unknown(ctx: Ctx) -> tuple[list[str], list[str]]:
    return ["show", "nope", "--runs-dir", str(ctx.run.parent)], ["nope"]


@case("export_unknown_run_id")
def _export_unknown(ctx: Ctx) -> tuple[list[str], list[str]]:
    args = ["export", "nope", "--runs-dir", str(ctx.run.parent), "--format", "openai-chat"]
    return [*args, "--out", str(ctx.tmp / "exp")], ["run 'nope'", "no such run"]


@case("show_bad_middle_line")
def _show_bad(ctx: Ctx) -> tuple[list[str], list[str]]:
    line = _records_lines(ctx)[0]
    path = write(ctx, "r.jsonl", f"{line}\n\n{{torn\n")
    return ["show", str(path)], [f"{path}:3", "invalid JSON"]


# --- the test -------------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file (size, mtime) and folder under `folder`; the lock files are not output: the
    run's lock, made by the first writer and kept, and the note of who holds it."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if name.startswith(".lock") or path.is_symlink():
                continue
            stat = path.stat()
            # a folder's mtime moves when a temp file comes and goes: only its presence counts
            kept = (0, 0) if path.is_dir() else (stat.st_size, stat.st_mtime_ns)
            out[str(path.relative_to(folder))] = kept
    return out


@pytest.fixture()
def ctx(tmp_path: Path, scripted_run, monkeypatch: pytest.MonkeyPatch):
    run, records = scripted_run
    monkeypatch.chdir(tmp_path)
    context = Ctx(tmp_path, run.path, records[0].id, monkeypatch)
    yield context
    for lock in context.hold:
        lock.__exit__(None, None, None)


def test_there_are_at_least_80_cases() -> None:
    assert len(CASES) >= 80, len(CASES)


@pytest.fixture(scope="module")
def command() -> click.Command:
    """The click command built once: typer builds it again on every invoke (~0.4 s)."""
    return typer.main.get_command(app)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input(name: str, ctx: Ctx, command: click.Command) -> None:
    args, expected = CASES[name](ctx)
    before = snapshot(ctx.tmp)
    result = click.testing.CliRunner().invoke(command, args, prog_name="emosim")
    output = result.output
    assert result.exit_code not in (0, None), f"{name} was accepted:\n{output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{name}: {type(result.exception).__name__}: {result.exception}"
    )
    assert "Traceback" not in output
    flat = " ".join(output.split())
    for fragment in expected:
        assert " ".join(fragment.split()) in flat, f"{name}: {fragment!r} not in:\n{output}"
    for secret in PII:
        assert secret not in output, f"{name}: echoed {secret!r}"
    errors = [line for line in output.splitlines() if line.strip()]
    assert 1 <= len(errors) <= 12, f"{name}: not one clear message:\n{output}"
    assert snapshot(ctx.tmp) == before, f"{name}: something was written"
    assert not (ctx.tmp / "pwned").exists()


# --- one writer per run ----------------------------------------------------------------------

SHORT = ROOT / "simulations" / "budget_discouragement_paycheck_gap.yaml"


def _planned_run(runs: Path, seeds: list[int]):  # noqa: ANN202
    from emosim.batch import jobs_from, start_batch
    from emosim.catalog import get_catalog

    catalog = get_catalog(ROOT)
    jobs = jobs_from(catalog, SHORT, seeds)
    run = start_batch(catalog, jobs, runs, "scripted", "batch", "pytest")
    return run, {j.conversation_id for j in jobs}


def _ids(run) -> list[str]:  # noqa: ANN001
    lines = run.records_path.read_text().splitlines() if run.records_path.exists() else []
    return [json.loads(line)["id"] for line in lines if line.strip()]


def _lock_holder_pid(run) -> int | None:  # noqa: ANN001
    try:
        return json.loads((run.path / ".lock.holder").read_text() or "{}").get("pid")
    except (OSError, ValueError):
        return None


def _wait(predicate: Callable[[], bool], proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while not predicate():
        assert proc.poll() is None, f"{what}: the process ended early:\n{proc.stderr.read()}"
        assert time.monotonic() < deadline, f"{what}: timed out"
        time.sleep(0.02)


# A process that loads emosim and the catalog, then waits for a line on stdin before it runs
# `emosim ARGS...` through the real entry point: the test starts the command at a moment it
# chooses, not after an import time that varies with the machine's load.
WARM = (
    "import sys\n"
    "from emosim.cli import app\n"
    "import emosim.batch, emosim.graphs.runner\n"
    "from emosim.catalog import get_catalog\n"
    "get_catalog()\n"
    "print('ready', flush=True)\n"
    "sys.stdin.readline()\n"
    "sys.argv = ['emosim', *sys.argv[1:]]\n"
    "app()\n"
)


def _warm(*args: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", WARM, *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    return proc


def _go(proc: subprocess.Popen) -> None:
    proc.stdin.write("go\n")
    proc.stdin.flush()


def test_two_batch_resumes_on_one_run_one_proceeds_one_is_refused(tmp_path: Path) -> None:
    run, planned = _planned_run(tmp_path / "runs", [1, 2, 3, 4])
    args = ("batch", "--resume", str(run.path), "--concurrency", "1")
    first, second = _warm(*args), _warm(*args)
    try:
        _go(first)
        _wait(lambda: _lock_holder_pid(run) == first.pid, first, "first resume takes the lock")
        _go(second)
        refused = second.communicate(timeout=120)
        assert first.poll() is None, "the first resume ended before the second was refused"
        proceeded = first.communicate(timeout=120)
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                proc.kill()
    assert second.returncode == 1, refused
    flat = " ".join(refused[1].split())
    assert "run is locked" in flat and f"pid {first.pid}" in flat and "batch --resume" in flat
    assert "Traceback" not in refused[1]
    assert first.returncode == 0, proceeded[1]
    assert "4 played, 0 already done" in " ".join(proceeded[0].split())
    ids = _ids(run)
    assert len(ids) == len(set(ids)) and set(ids) == planned


def test_the_lock_is_released_when_its_holder_is_killed(
    tmp_path: Path, command: click.Command
) -> None:
    run, planned = _planned_run(tmp_path / "runs", [1, 2])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom pathlib import Path\nfrom emosim.runlock import run_lock\n"
            "with run_lock(Path(sys.argv[1]), 'emosim fork (test holder)'):\n"
            "    time.sleep(120)\n",
            str(run.path),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait(lambda: _lock_holder_pid(run) == holder.pid, holder, "the holder takes the lock")
        refused = click.testing.CliRunner().invoke(command, ["batch", "--resume", str(run.path)])
        assert refused.exit_code == 1 and "(emosim fork (test holder))" in refused.output
        assert _ids(run) == []
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    resumed = click.testing.CliRunner().invoke(command, ["batch", "--resume", str(run.path)])
    assert resumed.exit_code == 0, resumed.output
    assert sorted(_ids(run)) == sorted(planned)


def test_a_blank_middle_line_does_not_stop_a_resume(tmp_path: Path, command: click.Command) -> None:
    run, planned = _planned_run(tmp_path / "runs", [1, 2])
    runner = click.testing.CliRunner()
    assert runner.invoke(command, ["batch", "--resume", str(run.path)]).exit_code == 0
    first, second = run.records_path.read_text().splitlines()
    run.records_path.write_text(f"{first}\n\n{second}\n")
    result = runner.invoke(command, ["batch", "--resume", str(run.path)])
    assert result.exit_code == 0, result.output
    assert "0 played, 2 already done" in " ".join(result.output.split())


def test_import_append_adds_to_an_earlier_import(tmp_path: Path, command: click.Command) -> None:
    runner = click.testing.CliRunner()
    out = tmp_path / "imported"
    for cid in ("a", "b"):
        src = tmp_path / f"{cid}.jsonl"
        src.write_text(chat(cid) + "\n")
        extra = ["--append"] if cid == "b" else []
        args = ["import", str(src), "--format", "jsonl-chat", "--out", str(out), *extra]
        result = runner.invoke(command, args)
        assert result.exit_code == 0, result.output
    lines = (out / "conversations.jsonl").read_text().splitlines()
    assert len(lines) == 2 and len({json.loads(line)["id"] for line in lines}) == 2


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("I owe $4,000 = too much", "I owe $4,000 = too much"),
        ("", ""),
    ],
)
def test_review_csv_cells_never_start_a_formula(cell: str, shown: str) -> None:
    from emosim.files import spreadsheet_safe

    assert spreadsheet_safe(cell) == shown


def test_markup_in_a_partial_import_problem_is_printed_as_is(
    tmp_path: Path, command: click.Command
) -> None:
    bad = json.dumps({"id": "[/red]oops[bold]", "messages": []})
    src = tmp_path / "c.jsonl"
    src.write_text(chat("fine") + "\n" + bad + "\n")
    args = ["import", str(src), "--format", "jsonl-chat", "--out", str(tmp_path / "o")]
    result = click.testing.CliRunner().invoke(command, args)
    assert result.exit_code == 0, result.output
    assert "[/red]oops[bold]" in result.output and "Traceback" not in result.output
