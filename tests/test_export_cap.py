"""`emosim export --cap-pattern N`: no masked sentence pattern in more than N exported
conversations; the most templated conversations are dropped first and the drop is reported."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from emosim.cli import app
from emosim.exports.detemplate import cap_patterns, record_patterns
from emosim.schemas import ConversationRecord

UNIQUE = [
    "Your sister's loan changes the order of things quite a bit.",
    "The roof repair comes before the vacation fund this spring.",
    "Retirement accounts can wait until the card balance is gone.",
    "A rental property brings landlord duties along with its income.",
    "Childcare costs shrink once both kids start school next fall.",
    "The pension buyout decision deserves a careful side-by-side look.",
    "Moving closer to work would cut the commute and the car costs.",
    "Your bonus could seed the emergency fund in one single step.",
]


def _record(
    doc: dict, new_id: str, advisor: list[str], client: str = "Okay.", name: str | None = None
) -> dict:
    """A copy of `doc` as its own family, every client turn `client`, advisor turns from the
    list (cycled)."""
    out = copy.deepcopy(doc)
    out["id"] = new_id
    out["scenario"]["scenario_id"] = f"{new_id}-scenario"
    out["lineage"]["seed_id"] = new_id
    if name is not None:
        out["scenario"]["client_persona"]["name"] = name
    for event in out["label_events"]:
        event["event_id"] = f"{new_id}:{event['event_id']}"
        event["target"]["conversation_id"] = new_id
    k = 0
    for turn in out["turns"]:
        if turn["speaker"] == "client":
            turn["text"] = client
        else:
            turn["text"] = advisor[k % len(advisor)]
            turn["sentences"] = []
            k += 1
    return out


def _records(docs: list[dict]) -> list[ConversationRecord]:
    return [ConversationRecord.model_validate(d) for d in docs]


def test_names_and_numbers_are_masked_and_short_sentences_ignored(record_dict):
    ruth = _records(
        [
            _record(
                record_dict,
                "a",
                ["Ruth, you have $2,400 saved, which is a start."],
                name="Ruth Goldberg",
            )
        ]
    )
    omar = _records(
        [
            _record(
                record_dict,
                "b",
                ["Omar, you have $180 saved, which is a start."],
                name="Omar Siddiqui",
            )
        ]
    )
    assert record_patterns(ruth[0]) == record_patterns(omar[0])
    assert ("advisor", "<name>, you have <num> saved, which is a start") in record_patterns(ruth[0])
    # "Okay." (the client turns) is shorter than CAP_MIN_WORDS
    assert all(speaker == "advisor" for speaker, _ in record_patterns(ruth[0]))


def test_cap_drops_whole_conversations_over_the_cap(record_dict):
    template = "This is something we can figure out together, {}."
    names = ["Ruth", "Omar", "Priya", "Dana", "Frank"]
    docs = [
        _record(record_dict, f"r{i}", [template.format(name) + " " + UNIQUE[i]])
        for i, name in enumerate(names)
    ]
    docs.append(_record(record_dict, "r5", [UNIQUE[5]]))
    records = _records(docs)
    kept, report = cap_patterns(records, cap=2)
    assert [r.id for r in kept] == ["r0", "r1", "r5"]  # input order kept, ids decide ties
    assert (report.records_before, report.records_dropped) == (6, 3)
    assert report.dropped == ["r2", "r3", "r4"]
    assert report.patterns_over_cap == 1
    top = report.top_patterns[0]
    assert (top.speaker, top.conversations_before, top.conversations_after) == ("advisor", 5, 2)
    assert top.pattern == "this is something we can figure out together, <name>"
    # every pattern is within the cap afterwards
    for pattern in {p for r in kept for p in record_patterns(r)}:
        assert sum(pattern in record_patterns(r) for r in kept) <= 2
    # a cap at or above the spread drops nothing; "Okay." in every conversation is not capped
    assert cap_patterns(records, cap=5)[1].records_dropped == 0
    with pytest.raises(ValueError):
        cap_patterns(records, cap=0)


def test_cap_keeps_the_most_diverse_conversations(record_dict):
    t1 = "We could start with whatever feels most urgent today."
    t2 = "Which would you like to cover first, the numbers or the questions?"
    docs = [
        _record(record_dict, "a-both", [f"{t1} {t2}"]),  # first by id, uses both templates
        _record(record_dict, "b-one", [f"{t1} {UNIQUE[0]}"]),
        _record(record_dict, "c-two", [f"{t2} {UNIQUE[1]}"]),
    ]
    kept, report = cap_patterns(_records(docs), cap=1)
    # keeping the conversation with both templates would cost the other two
    assert [r.id for r in kept] == ["b-one", "c-two"]
    assert report.dropped == ["a-both"]
    assert {p.conversations_after for p in report.top_patterns} == {1}


def _write(path: Path, docs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


def test_export_cap_option_reports_in_console_manifest_and_card(cli, record_dict, tmp_path):
    template = "This is something we can figure out together, {}."
    docs = [
        _record(record_dict, f"r{i}", [template.format(n) + " " + UNIQUE[i], UNIQUE[i + 1]])
        for i, n in enumerate(["Ruth", "Omar", "Priya", "Dana"])
    ]
    source = _write(tmp_path / "records.jsonl", docs)
    out = tmp_path / "capped"
    result = cli.invoke(
        app,
        [
            "export",
            str(source),
            "--format",
            "trl-messages",
            "--out",
            str(out),
            "--cap-pattern",
            "1",
            "--split",
            "1,0,0",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "--cap-pattern 1: 3/4 conversation(s) dropped" in result.output
    assert "this is something we can figure out together, <name>" in result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["options"]["cap_pattern"] == 1
    assert manifest["records_kept"] == 1
    capped = manifest["de_templating"]
    assert capped["records_dropped"] == 3 and capped["dropped"] == ["r1", "r2", "r3"]
    rows = (out / "train.jsonl").read_text(encoding="utf-8").splitlines()
    metas = [json.loads(m) for m in (out / "meta" / "train.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and {m["record_id"] for m in metas} == {"r0"}
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "De-templating (`--cap-pattern 1`)" in card
    assert "3 of 4 conversation(s) were dropped" in card

    plain = tmp_path / "plain"
    result = cli.invoke(
        app, ["export", str(source), "--format", "trl-messages", "--out", str(plain)]
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((plain / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["de_templating"] is None and manifest["records_kept"] == 4
    assert "De-templating" not in (plain / "README.md").read_text(encoding="utf-8")

    bad = cli.invoke(
        app,
        [
            "export",
            str(source),
            "--format",
            "trl-messages",
            "--out",
            str(tmp_path / "x"),
            "--cap-pattern",
            "0",
        ],
    )
    assert bad.exit_code != 0
