"""`export --format layer` / `layer-plan`: domain masked, emotional skeleton kept, loadable."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from emosim.cli import app
from emosim.layer.mask import Masker


def _forbidden(record: dict, catalog) -> list[str]:
    """Every name, topic term and product the source record's world holds."""
    persona = record["scenario"].get("client_persona") or {}
    names = [catalog.advisor.name, persona.get("name", "")]
    terms = [p for n in names for p in [n, *n.split()] if len(p) > 2]
    for topic in catalog.topics.values():
        terms += [topic.name, topic.phrase or "", *(s.name for s in topic.subcategories)]
        terms += list(topic.key_terms)
    for fact in catalog.facts.facts:
        terms += [a for a in re.findall(r"\b[A-Z]{3,}\b", fact.statement)]
    return sorted({t for t in terms if t})


@pytest.mark.parametrize("fmt", ["layer", "layer-plan"])
def test_layer_export_has_no_domain_content(
    cli, scripted_run, catalog, tmp_path: Path, fmt, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, records = scripted_run
    out = tmp_path / fmt
    result = cli.invoke(
        app, ["export", str(run.path), "--format", fmt, "--out", str(out), "--split", "1,0,0"]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    assert rows and all(set(r) == {"prompt", "completion"} for r in rows)
    texts = [m["content"] for r in rows for m in r["prompt"] + r["completion"]]
    blob = "\n".join(texts)
    assert not re.search(r"\d", blob), "a figure survived"
    record = json.loads(records[0].model_dump_json())
    for term in _forbidden(record, catalog):
        assert not re.search(rf"(?<!\w){re.escape(term)}(?!\w)", blob, re.IGNORECASE), term
    advisor = [t for t in records[0].turns if t.speaker == "advisor"]
    if fmt == "layer-plan":
        plans = [json.loads(r["completion"][0]["content"]) for r in rows]
        assert [p["strategies"][0] for p in plans] == [
            (t.strategies or t.intended_strategies).primary for t in advisor
        ][: len(plans)]
        assert all(p["emotion"] in catalog.emotions for p in plans)
    else:
        first = rows[0]["completion"][0]["content"]
        assert first.startswith("<plan>emotion: ") and "functions: " in first
    recipe = yaml.safe_load((out / "lora_recipe.yaml").read_text())
    notes = " ".join(recipe["notes"])
    assert "add_weighted_adapter" in notes and "load_adapter" in notes

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
    loaded = datasets.load_dataset(
        "json", data_files=str(out / "train.jsonl"), split="train", cache_dir=str(tmp_path / "c")
    )
    assert loaded.num_rows == len(rows) and set(loaded.column_names) == {"prompt", "completion"}


def test_masker_keeps_the_feeling_and_drops_the_specifics(scripted_run, catalog) -> None:
    _, records = scripted_run
    mask = Masker.for_record(records[0], catalog)
    persona = records[0].scenario.client_persona
    text = (
        f"{persona.name.split()[0]}, I know it's scary: you put $5,000 into a Roth IRA at 4% "
        "in 2024 and twenty thousand dollars of debt feels like a lot."
    )
    masked = mask(text)
    assert masked == (
        "[NAME], I know it's scary: you put [AMOUNT] into a [TERM] at [PERCENT] in [NUMBER] "
        "and [AMOUNT] of [TOPIC] feels like a lot."
    )
