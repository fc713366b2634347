"""`emosim import`: real conversations -> valid, anonymized, labelled records."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from emosim.cli import app
from emosim.importers import IMPORTED_CLIENT
from emosim.importers.run import ANONYMIZATION_REPORT, IMPORT_REPORT, RECORDS_FILE
from emosim.schemas import AdvisorTurn, ClientTurn, ConversationRecord
from emosim.validate import validate_paths

ESCONV = Path(__file__).resolve().parents[1] / "data" / "esconv_sample" / "train_sample.json"
PII = Path(__file__).parent / "data" / "pii"
PERSONA_PROBLEM = f"scenario.client_persona_id: unknown persona id {IMPORTED_CLIENT!r}"


def records(out: Path) -> list[ConversationRecord]:
    lines = (out / RECORDS_FILE).read_text().splitlines()
    return [ConversationRecord.model_validate_json(line) for line in lines]


def real_problems(report) -> list[str]:
    """validate.py checks client_persona_id against the catalog; imported records use the
    documented non-catalog id, which is the one problem it may report (see importer docs)."""
    return [p for p in report.problems if PERSONA_PROBLEM not in p]


@pytest.fixture(scope="module")
def esconv_import(tmp_path_factory):
    from typer.testing import CliRunner

    out = tmp_path_factory.mktemp("esconv")
    result = CliRunner().invoke(
        app, ["import", str(ESCONV), "--format", "esconv", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out, result


def test_esconv_sample_imports_as_valid_labelled_records(esconv_import, catalog):
    out, _ = esconv_import
    recs = records(out)
    assert len(recs) == 25
    report = validate_paths([out / RECORDS_FILE], catalog)
    assert report.checked == 25
    assert real_problems(report) == []
    for rec in recs:
        assert rec.provenance.source == "real"
        assert rec.provenance.consent == "unknown"
        assert rec.provenance.anonymization == "anonymized"
        assert rec.provenance.license == "CC-BY-NC-4.0"
        assert rec.scenario.client_persona_id == IMPORTED_CLIENT
        assert rec.turns[0].speaker == "client" and rec.turns[-1].speaker == "advisor"
        assert all(t.ground_truth is None and t.annotation for t in rec.client_turns)
        assert all(t.strategies and t.sentences for t in rec.advisor_turns)
        kinds = {e.source.kind for e in rec.label_events}
        assert kinds == {"model", "human_bulk_review"}
        for e in rec.label_events:
            if e.source.kind == "human_bulk_review":
                assert e.target.field == "strategy" and e.value in catalog.strategies
                assert isinstance(rec.turns[e.target.turn_index], AdvisorTurn)
    # the first dialog: "job crisis" -> career_transition; its first turns merged and aligned
    first = recs[0]
    assert (first.scenario.topic, first.scenario.subcategory) == ("career_transition", "job_loss")
    assert first.turns[1].text == "Hi, good afternoon."
    human = {e.target.turn_index: e.value for e in first.label_events if e.source.kind != "model"}
    assert human[1] == "open_question" and human[3] == "reflection_of_feelings"
    import_report = json.loads((out / IMPORT_REPORT).read_text())
    assert import_report["imported"] == 25 and import_report["unmapped_labels"]["Others"] > 0
    assert json.loads((out / ANONYMIZATION_REPORT).read_text())["enabled"] is True


def test_leading_greeting_dropped_and_consecutive_messages_merged(tmp_path, cli):
    src = tmp_path / "chat.jsonl"
    conv = {
        "id": "c1",
        "messages": [
            {"role": "system", "content": "You are a planner."},
            {"role": "assistant", "content": "Hello! How can I help?"},
            {"role": "user", "content": "I'm scared about money."},
            {"role": "user", "content": [{"type": "text", "text": "Really scared."}]},
            {"role": "assistant", "content": "That sounds heavy. What worries you most?"},
            {"role": "user", "content": "Bye."},
        ],
    }
    src.write_text(json.dumps(conv) + "\n")
    result = cli.invoke(
        app, ["import", str(src), "--format", "jsonl-chat", "--out", str(tmp_path / "o"), "--json"]
    )
    assert result.exit_code == 0, result.output
    (rec,) = records(tmp_path / "o")
    assert [t.text for t in rec.turns] == [
        "I'm scared about money. Really scared.",
        "That sounds heavy. What worries you most?",
    ]
    report = json.loads((tmp_path / "o" / IMPORT_REPORT).read_text())
    assert (
        report["dropped_system"],
        report["dropped_leading_advisor"],
        report["dropped_trailing_client"],
        report["merged_messages"],
    ) == (1, 1, 1, 1)


def _pii_chat(tmp_path: Path) -> tuple[Path, list[str]]:
    """The held-out PII conversations as a chat export; the planted values to look for."""
    lines, values = [], []
    for raw in (PII / "heldout.jsonl").read_text().splitlines():
        conv = json.loads(raw)
        harmless = {n["value"] for n in conv["negatives"]}
        values += [p["value"] for p in conv["pii"] if p["value"] not in harmless]
        roles = {"client": "user", "advisor": "assistant"}
        messages = [{"role": roles[t["speaker"]], "content": t["text"]} for t in conv["turns"]]
        lines.append(json.dumps({"id": conv["id"], "messages": messages}))
    path = tmp_path / "pii.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path, values


def test_nothing_identifying_survives_into_records_and_exports(tmp_path, cli, catalog):
    src, values = _pii_chat(tmp_path)
    out = tmp_path / "imported"
    result = cli.invoke(app, ["import", str(src), "--format", "jsonl-chat", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = (out / RECORDS_FILE).read_text()
    leaked = [v for v in values if v in text]
    # known misses of the held-out set: two lowercase street addresses (see the report)
    assert len(leaked) <= 0.05 * len(values), leaked
    assert "[CLIENT_NAME_1]" in text and "[CARD_1]" in text
    # the anonymization report: counts per kind and a sample to spot-check, placeholders only
    anon = json.loads((out / ANONYMIZATION_REPORT).read_text())
    assert anon["replaced"]["name"] > 0 and anon["replaced"]["card"] > 0
    sample = anon["sample"]
    assert 0 < len(sample) <= 20
    assert all(re.search(r"\[[A-Z_]+_\d+\]", s["text"]) for s in sample)
    assert {s["conversation_id"] for s in sample} <= {r.id for r in records(out)}
    assert not [v for v in values if v in json.dumps(sample)]
    # the import report (which may be shared) carries the counts, not the sample
    imported = json.loads((out / IMPORT_REPORT).read_text())
    assert "sample" not in imported["anonymization"]
    assert imported["anonymization"]["replaced"] == anon["replaced"]
    assert real_problems(validate_paths([out / RECORDS_FILE], catalog)) == []
    exported = tmp_path / "export"
    result = cli.invoke(
        app, ["export", str(out), "--format", "openai-chat", "--out", str(exported)]
    )
    assert result.exit_code == 0, result.output
    dump = "".join(p.read_text() for p in exported.rglob("*.jsonl"))
    assert dump
    assert not {v for v in values if v in dump} - set(leaked)


def test_no_anonymize_is_recorded(tmp_path, cli):
    src = tmp_path / "c.jsonl"
    msgs = [
        {"role": "user", "content": "My email is jo@example.com."},
        {"role": "assistant", "content": "Thanks."},
    ]
    src.write_text(json.dumps({"id": "x", "messages": msgs}) + "\n")
    result = cli.invoke(
        app,
        [
            "import",
            str(src),
            "--format",
            "jsonl-chat",
            "--out",
            str(tmp_path / "o"),
            "--no-anonymize",
        ],
    )
    assert result.exit_code == 0, result.output
    (rec,) = records(tmp_path / "o")
    assert rec.provenance.anonymization == "pending"
    assert "jo@example.com" in rec.turns[0].text
    assert json.loads((tmp_path / "o" / ANONYMIZATION_REPORT).read_text())["enabled"] is False


def test_csv_columns_speakers_order_and_bad_rows(tmp_path, cli):
    src = tmp_path / "chats.csv"
    rows = [
        "chat,when,who,body",
        "a,2024-01-01T10:00:02,Planner,Hi Maria, that sounds stressful.",
        "a,2024-01-01T10:00:01,Maria,I can't sleep because of my debt.",
        "a,2024-01-01T10:00:03,Maria,Thanks.",
        "a,2024-01-01T10:00:04,Planner,You're welcome.",
        "b,2024-01-01T11:00:00,Maria,Hello?",
        "b,2024-01-01T11:00:01,Robot,beep",
        "c,2024-01-01T12:00:00,Planner,Anyone there?",
    ]
    data = (
        "\n".join(rows).encode()
        + b"\nd,2024-01-02T09:00:00,Maria,Caf\xe9 bills are my weakness.\nd,2024-01-02T09:00:01,Planner,Let's look at it.\n"
    )
    src.write_bytes(data)
    args = [
        "import",
        str(src),
        "--format",
        "csv",
        "--out",
        str(tmp_path / "o"),
        "--id-col",
        "chat",
        "--time-col",
        "when",
        "--speaker-col",
        "who",
        "--text-col",
        "body",
        "--client-speakers",
        "maria",
        "--advisor-speakers",
        "Planner",
        "--json",
    ]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    recs = records(tmp_path / "o")
    assert len(recs) == 2
    a = recs[0]
    assert a.turns[0].text == "I can't sleep because of my debt."  # ordered by timestamp
    assert "Maria" not in a.model_dump_json()  # the client's name, anonymized
    report = json.loads((tmp_path / "o" / IMPORT_REPORT).read_text())
    assert report["imported"] == 2 and report["failed"] == 3 and report["warnings"] == 1
    problems = "\n".join(report["problems"])
    assert f"{src}:7: conversation 'b': the 'who' value (5 characters, not shown" in problems
    # speaker values are often names: none is kept in the import report
    assert "Robot" not in problems and "Maria" not in (tmp_path / "o" / IMPORT_REPORT).read_text()
    assert f"{src}:8: conversation 'c': no client message answered" in problems
    assert f"warning: {src}:9: not UTF-8" in problems
    assert "Café bills" in recs[1].turns[0].text
    assert "3 failed, 1 warning(s); 2 imported" in result.output


def test_missing_column_fails_naming_the_header(tmp_path, cli):
    src = tmp_path / "x.csv"
    src.write_text("conversation_id,speaker,message\n1,client,hi\n")
    result = cli.invoke(app, ["import", str(src), "--format", "csv", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert f"{src}:1: header has no column --text-col 'text'" in result.output
    assert not (tmp_path / "o").exists()


def test_wrong_format_fails_naming_the_line(tmp_path, cli):
    src = tmp_path / "notesconv.json"
    src.write_text('{"dialog": [{"speaker": "usr", "text": "hi"}]}\n{"messages": []}\nnot json\n')
    result = cli.invoke(
        app, ["import", str(src), "--format", "esconv", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert f"{src}:1: conversation 'notesconv:1': no client message answered" in result.output
    assert f"{src}:2: dialog 2: expected an object with a 'dialog' list" in result.output
    assert f"{src}:3: invalid JSON" in result.output
    assert "nothing imported (3 failed)" in result.output
    assert not (tmp_path / "o").exists()


def test_bad_options_fail(tmp_path, cli):
    src, _ = _pii_chat(tmp_path)
    bad = cli.invoke(app, ["import", str(src), "--format", "xml", "--out", str(tmp_path / "o")])
    assert bad.exit_code == 1 and "unknown format 'xml'" in bad.output
    bad = cli.invoke(
        app,
        [
            "import",
            str(src),
            "--format",
            "jsonl-chat",
            "--out",
            str(tmp_path / "o"),
            "--topic",
            "tax_planning",
            "--subcategory",
            "wills",
        ],
    )
    assert bad.exit_code == 1 and "'wills' is not in topic 'tax_planning'" in bad.output


def test_topic_option_and_inference(tmp_path, cli):
    src = tmp_path / "c.jsonl"
    msgs = [
        {"role": "user", "content": "My credit card APR is killing me and collectors call."},
        {"role": "assistant", "content": "Let's look at it."},
    ]
    src.write_text(json.dumps({"id": "x", "messages": msgs}) + "\n")
    assert (
        cli.invoke(
            app, ["import", str(src), "--format", "jsonl-chat", "--out", str(tmp_path / "a")]
        ).exit_code
        == 0
    )
    (rec,) = records(tmp_path / "a")
    assert (rec.scenario.topic, rec.scenario.subcategory) == ("debt_management", "credit_card_debt")
    args = [
        "import",
        str(src),
        "--format",
        "jsonl-chat",
        "--out",
        str(tmp_path / "b"),
        "--topic",
        "tax_planning",
        "--subcategory",
        "owing_the_irs",
    ]
    assert cli.invoke(app, args).exit_code == 0
    (rec,) = records(tmp_path / "b")
    assert rec.scenario.topic == "tax_planning" and isinstance(rec.turns[0], ClientTurn)
