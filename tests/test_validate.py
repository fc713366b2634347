"""`emosim validate`: shipped files pass; each kind of corruption fails with one clear error."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from emosim.cli import app
from emosim.validate import validate_paths

from .conftest import write_json


def _problems(paths: list[Path], catalog) -> list[str]:
    return validate_paths(paths, catalog).problems


def test_every_shipped_file_validates(root: Path, catalog) -> None:
    folders = [root / d for d in ("taxonomies", "personas", "simulations", "seeds", "agents")]
    report = validate_paths(folders, catalog)
    assert report.problems == []
    assert report.checked >= 1 + 3 + 20 + 12 + 3 + 3


def test_cli_validate_ok(cli, root: Path) -> None:
    result = cli.invoke(app, ["validate", str(root / "simulations"), str(root / "seeds")])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


# --- records -------------------------------------------------------------------------------


def _mutated(record: dict, mutate) -> dict:
    bad = copy.deepcopy(record)
    mutate(bad)
    return bad


def _first(record: dict, speaker: str) -> dict:
    return next(t for t in record["turns"] if t["speaker"] == speaker)


RECORD_CASES = {
    "missing_field": (lambda r: r.pop("outcome"), "outcome: Field required"),
    "unknown_emotion": (
        lambda r: _first(r, "client")["ground_truth"].update(emotion="ecstatic_rage"),
        "unknown emotion id 'ecstatic_rage'",
    ),
    "intensity_out_of_range": (
        lambda r: _first(r, "client")["ground_truth"].update(intensity=1.7),
        "turns.0.ground_truth.intensity: Input should be less than or equal to 1",
    ),
    "level_mismatch": (
        lambda r: _first(r, "client")["ground_truth"].update(intensity=0.1, intensity_level="high"),
        "does not match intensity 0.1",
    ),
    "turn_order": (
        lambda r: r["turns"].insert(0, r["turns"].pop(1)),
        "expected 0",
    ),
    "wrong_schema_version": (lambda r: r.update(schema_version="2.0"), "schema_version"),
    "unknown_strategy": (
        lambda r: _first(r, "advisor")["strategies"].update(primary="gaslighting"),
        "unknown strategy id 'gaslighting'",
    ),
    "unknown_function": (
        lambda r: _first(r, "advisor")["sentences"][0].update(function="upsell"),
        "unknown function id 'upsell'",
    ),
    "cue_span_mismatch": (
        lambda r: _first(r, "client")["annotation"]["cues"].insert(
            0, {"text": "zzz", "start": 0, "end": 3, "signals": "shame"}
        ),
        "span 0-3",
    ),
    "sentence_span_mismatch": (
        lambda r: _first(r, "advisor")["sentences"][0].update(start=1),
        "does not hold the sentence text",
    ),
    "unknown_topic": (lambda r: r["scenario"].update(topic="crypto_moonshots"), "unknown topic id"),
    "extra_field": (lambda r: r.update(colour="blue"), "colour: Extra inputs are not permitted"),
    "family_mismatch": (
        lambda r: _first(r, "client")["ground_truth"].update(family="love"),
        "belongs to",
    ),
    "event_wrong_conversation": (
        lambda r: r["label_events"][0]["target"].update(conversation_id="other"),
        "targets conversation 'other'",
    ),
    "duplicate_event_ids": (
        lambda r: r["label_events"].append(copy.deepcopy(r["label_events"][0])),
        "duplicate",
    ),
    "wrong_exchange": (lambda r: r["turns"][1].update(exchange=5), "turns[1].exchange is 5"),
    "bad_speaker": (lambda r: r["turns"][0].update(speaker="robot"), "speaker"),
    "weight_out_of_range": (
        lambda r: _first(r, "advisor").update(training_weight=2),
        "training_weight",
    ),
}


@pytest.mark.parametrize("case", sorted(RECORD_CASES))
def test_corrupted_record_fails_clearly(
    case: str, record_dict: dict, tmp_path: Path, catalog
) -> None:
    mutate, expected = RECORD_CASES[case]
    path = write_json(tmp_path / f"{case}.json", _mutated(record_dict, mutate))
    problems = _problems([path], catalog)
    assert problems, f"{case} was accepted"
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(str(path)) for p in problems), problems


def test_bad_json_line_is_named(record_dict: dict, tmp_path: Path, catalog) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps(record_dict) + "\n{not json\n", encoding="utf-8")
    problems = _problems([path], catalog)
    assert problems == [
        f"{path}:2: invalid JSON: Expecting property name enclosed in double quotes (column 2)"
    ]


def test_duplicate_record_ids(record_dict: dict, tmp_path: Path, catalog) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text((json.dumps(record_dict) + "\n") * 2, encoding="utf-8")
    problems = _problems([path], catalog)
    assert any("duplicate record id" in p and f"{path}:2" in p for p in problems), problems


def test_not_utf8(tmp_path: Path, catalog) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"id": "caf\xe9"}\n'.encode("latin-1"))
    assert _problems([path], catalog) == [
        f"{path}: not UTF-8 text (invalid continuation byte at byte 11)"
    ]


def test_missing_file(tmp_path: Path, catalog) -> None:
    assert _problems([tmp_path / "nope.json"], catalog) == [
        f"{tmp_path / 'nope.json'}: file not found"
    ]


# --- YAML data files ------------------------------------------------------------------------


def _yaml_case(root: Path, tmp_path: Path, rel: str, mutate) -> Path:
    data = yaml.safe_load((root / rel).read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / Path(rel).name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


SCENARIO = "simulations/investing_shame_first_steps.yaml"
YAML_CASES = {
    "scenario_length_mismatch": (
        SCENARIO,
        lambda d: d.update(length_class="long", exchanges=3),
        "does not fit length_class 'long'",
    ),
    "scenario_unknown_persona": (
        SCENARIO,
        lambda d: d.update(client_persona="nobody_here"),
        "client_persona: unknown persona id 'nobody_here'",
    ),
    "scenario_bad_subcategory": (
        SCENARIO,
        lambda d: d.update(subcategory="moon_bets"),
        "subcategory: 'moon_bets' is not a sub-category",
    ),
    "scenario_arc_unknown_emotion": (
        SCENARIO,
        lambda d: d.update(arc=[{"emotion": "bliss", "intensity": 0.5}] * 2),
        "arc.0.emotion: unknown emotion id 'bliss'",
    ),
    "scenario_rate_out_of_range": (
        SCENARIO,
        lambda d: d.update(anti_pattern_rate=1.5),
        "anti_pattern_rate",
    ),
    "persona_missing_facts": (
        "personas/clients/marcus_johnson.yaml",
        lambda d: d.pop("facts"),
        "facts: Field required",
    ),
    "persona_age": (
        "personas/clients/marcus_johnson.yaml",
        lambda d: d.update(age=7),
        "age: Input should be greater than or equal to 18 (got 7)",
    ),
    "emotion_unknown_strategy": (
        "taxonomies/emotions.yaml",
        lambda d: d["emotions"][0]["helpful_strategies"].append("retail_therapy"),
        "emotions.0.helpful_strategies",
    ),
    "strategy_bad_esconv": (
        "taxonomies/strategies.yaml",
        lambda d: d["strategies"][0].update(esconv="Hugging"),
        "esconv",
    ),
    "advisor_template_bad_slot": (
        "agents/scripted/advisor.yaml",
        lambda d: d["strategies"]["education"].append(
            {"function": "explain_concept", "text": "Your {salary} matters."}
        ),
        "unknown slot(s) ['salary']",
    ),
    "advisor_answer_unknown_strategy": (
        "agents/scripted/advisor.yaml",
        lambda d: d["answers"][0].update(strategy="lecturing"),
        "answers.0.strategy: unknown strategy id 'lecturing'",
    ),
    "topic_answer_foreign_question": (
        "agents/scripted/answers/caring_for_parents.yaml",
        lambda d: d["answers"][0].update(question="Should I buy a boat?"),
        "answers.0.question: not a client question of topic 'caring_for_parents'",
    ),
    "advisor_answer_unknown_function": (
        "agents/scripted/advisor.yaml",
        lambda d: d["answers"][1]["replies"][0].update(function="shrug"),
        "answers.1.replies.0.function: unknown function id 'shrug'",
    ),
}


@pytest.mark.parametrize("case", sorted(YAML_CASES))
def test_corrupted_yaml_fails_clearly(case: str, root: Path, tmp_path: Path, catalog) -> None:
    rel, mutate, expected = YAML_CASES[case]
    path = _yaml_case(root, tmp_path, rel, mutate)
    problems = _problems([path], catalog)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(str(path)) for p in problems), problems


def test_yaml_error_has_line_number(tmp_path: Path, catalog) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\ntitle: [unclosed\nexchanges: 3\n", encoding="utf-8")
    problems = _problems([path], catalog)
    assert (
        len(problems) == 1 and problems[0].startswith(f"{path}:") and "invalid YAML" in problems[0]
    )


def test_yaml_field_error_points_at_line(root: Path, tmp_path: Path, catalog) -> None:
    text = (root / SCENARIO).read_text(encoding="utf-8")
    lines = text.splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.startswith("exchanges:"))
    lines[number - 1] = "exchanges: lots"
    path = tmp_path / "scenario.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = _problems([path], catalog)
    assert problems == [
        f"{path}:{number}: exchanges: Input should be a valid integer, unable to parse string "
        'as an integer (got "lots")'
    ]


def test_unknown_yaml_kind(tmp_path: Path, catalog) -> None:
    path = tmp_path / "mystery.yaml"
    path.write_text("hello: world\n", encoding="utf-8")
    assert _problems([path], catalog) == [
        f"{path}: not a known emosim file (no identifying key at top level)"
    ]


def test_cli_bad_input_exit_1_no_traceback(cli, record_dict: dict, tmp_path: Path) -> None:
    bad = copy.deepcopy(record_dict)
    bad["turns"][0]["ground_truth"]["intensity"] = 3
    path = write_json(tmp_path / "bad.json", bad)
    result = cli.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "turns.0.ground_truth.intensity" in result.output and str(path) in result.output.replace(
        "\n", ""
    )


def test_validate_a_run_folder_checks_its_records(cli, scripted_run) -> None:
    run, _ = scripted_run
    result = cli.invoke(app, ["validate", str(run.path), str(run.path.parent)])
    assert result.exit_code == 0, result.output


def test_a_folder_where_a_record_file_is_expected_is_one_clear_error(tmp_path: Path) -> None:
    from emosim.errors import DataError
    from emosim.files import iter_json_documents

    with pytest.raises(DataError) as info:
        list(iter_json_documents(tmp_path))
    assert str(info.value) == f"{tmp_path}: is a folder; expected a .json or .jsonl record file"
