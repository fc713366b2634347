"""Variations of seeds: every axis, from a scenario and from a record, and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from emosim.catalog import Catalog
from emosim.cli import app
from emosim.errors import DataError, EmosimError
from emosim.schemas import intensity_level
from emosim.schemas.common import LENGTH_CLASS_EXCHANGES
from emosim.variations import (
    AXES,
    load_seed,
    transitions,
    variation_id,
    vary,
    write_scenarios,
)

SCENARIO_SEED = "simulations/investing_shame_first_steps.yaml"
RECORD_SEED = "seeds/seed_divorce_overwhelm_to_agency.json"


def _emotions(scenario) -> list[str]:
    return [s.emotion for s in scenario.arc]


@pytest.mark.parametrize("seed_file", [SCENARIO_SEED, RECORD_SEED])
@pytest.mark.parametrize("axis", AXES)
def test_variations_validate_differ_and_carry_lineage(
    catalog: Catalog, root: Path, tmp_path: Path, seed_file: str, axis: str
) -> None:
    template = load_seed(catalog, root / seed_file)
    variations = vary(catalog, template, axis, 2, seed=3)
    others = [p for p in catalog.clients.values() if p.id != template.persona]
    fitting = sum(1 for p in others if template.topic in p.topics)
    assert len(variations) == (min(2, fitting) if axis == "persona" else 2)
    paths = write_scenarios(catalog, variations, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)
    ids = [v.id for v in variations]
    assert len(set(ids)) == len(ids)
    for path, variation in zip(paths, variations, strict=True):
        loaded = catalog.load_scenario(path)  # valid against the models and the catalog
        assert loaded == variation
        assert f"_{axis.split('_')[-1]}_" in variation.id or axis == "strategy_context"
        assert variation.lineage.seed_id == template.root
        assert variation.lineage.parent_id == template.id
        assert variation.lineage.axis == axis
        assert variation.lineage.changed
        arc = variation.arc or []
        assert 2 <= len(arc) <= variation.exchanges
        lo, hi = LENGTH_CLASS_EXCHANGES[variation.length_class]
        assert lo <= variation.exchanges <= hi

        if axis == "topic":
            assert variation.topic != template.topic
            assert variation.lineage.changed["topic"] == variation.topic
            assert arc[0].emotion == template.arc[0].emotion  # same emotion, other topic
            assert variation.client_persona in {
                p.id for p in catalog.clients.values() if variation.topic in p.topics
            }
        elif axis == "emotion":
            assert (variation.topic, variation.client_persona) == (
                template.topic,
                template.persona,
            )
            assert arc[0].emotion != template.arc[0].emotion
            for a, b in zip(arc, arc[1:], strict=False):  # re-planned through likely_next
                assert (
                    b.emotion == a.emotion or b.emotion in catalog.emotions[a.emotion].likely_next
                )
        elif axis == "strategy_context":
            assert variation.topic != template.topic
            assert variation.client_persona != template.persona
            used = set(template.strategies)
            assert all(used & set(catalog.emotions[s.emotion].helpful_strategies) for s in arc)
        elif axis == "intensity":
            assert intensity_level(arc[0].intensity) == variation.lineage.changed["intensity"]
            assert intensity_level(arc[0].intensity) != intensity_level(template.arc[0].intensity)
            assert _emotions(variation) == [s.emotion for s in template.arc]
        elif axis == "persona":
            assert variation.client_persona != template.persona
            assert variation.topic == template.topic
            assert variation.topic in catalog.clients[variation.client_persona].topics
        elif axis == "length":
            assert variation.exchanges != template.exchanges
            assert variation.lineage.changed["exchanges"] == str(variation.exchanges)

        if axis == "length":
            assert variation.situation == template.situation
        else:  # recomposed from the (new) persona's facts and the sub-category
            assert variation.situation != template.situation
            persona = catalog.clients[variation.client_persona]
            sub = next(
                s
                for s in catalog.topics[variation.topic].subcategories
                if s.id == variation.subcategory
            )
            assert persona.name in variation.situation
            assert sub.description.rstrip(".").lower()[1:] in variation.situation.lower()
            assert any(f.statement.rstrip(".") in variation.situation for f in persona.facts)


def test_variations_of_the_same_seed_are_deterministic(catalog: Catalog, root: Path) -> None:
    template = load_seed(catalog, root / SCENARIO_SEED)
    first = vary(catalog, template, "topic", 4, seed=7)
    again = vary(catalog, template, "topic", 4, seed=7)
    other = vary(catalog, template, "topic", 4, seed=8)
    assert [v.model_dump() for v in first] == [v.model_dump() for v in again]
    assert [v.model_dump() for v in first] != [v.model_dump() for v in other]
    # n variations spread over different topics before repeating one
    assert len({v.topic for v in first}) == 4


def test_record_seed_takes_its_arc_and_strategies_from_the_turns(
    catalog: Catalog, root: Path
) -> None:
    template = load_seed(catalog, root / RECORD_SEED)
    record = json.loads((root / RECORD_SEED).read_text())
    client = [t for t in record["turns"] if t["speaker"] == "client"]
    assert [(s.emotion, s.intensity) for s in template.arc] == [
        (t["ground_truth"]["emotion"], t["ground_truth"]["intensity"]) for t in client
    ]
    assert template.exchanges == len(client)
    assert template.kind == "record" and template.root == record["id"]
    assert "referral_boundary" in template.strategies  # used in the seed's advisor turns


def test_an_axis_with_few_values_returns_what_exists(catalog: Catalog, root: Path) -> None:
    template = load_seed(catalog, root / SCENARIO_SEED)
    variations = vary(catalog, template, "intensity", 5, seed=0)
    assert {v.lineage.changed["intensity"] for v in variations} == {"low", "medium"}


def test_long_ids_keep_the_root_and_stay_unique() -> None:
    parent = "business_owner_disdain_retirement_plan__topic_estate_planning_1"
    a = variation_id(
        parent, "business_owner_disdain_retirement_plan", "persona", "ruth_goldberg", 1
    )
    b = variation_id(
        parent + "x", "business_owner_disdain_retirement_plan", "persona", "ruth_goldberg", 1
    )
    assert (
        len(a) <= 64 and a.startswith("business_owner") and a.endswith("__persona_ruth_goldberg_1")
    )
    assert a != b


def test_transitions_ease_unpleasant_feelings_and_grow_pleasant_ones(catalog: Catalog) -> None:
    steps = transitions(catalog, "anxiety", "high")
    assert ("anxiety", "medium") in steps and ("anxiety", "high") not in steps
    assert all(lv in {"medium", "high"} for e, lv in steps if catalog.emotions[e].valence < 0)
    assert ("hope", "high") in transitions(catalog, "hope", "medium")


# --- the command and its errors -----------------------------------------------------------


def test_vary_command_writes_files(cli, root: Path, tmp_path: Path) -> None:
    out = tmp_path / "vars"
    result = cli.invoke(
        app,
        ["vary", str(root / SCENARIO_SEED), "--axis", "persona", "--n", "3", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.yaml"))
    assert len(files) == 3
    data = yaml.safe_load(files[0].read_text())
    assert data["lineage"]["axis"] == "persona"
    assert data["lineage"]["seed_id"] == "investing_shame_first_steps"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--axis", "colour"], "unknown axis 'colour'"),
        (["--axis", "topic", "--n", "0"], "--n: must be at least 1"),
    ],
)
def test_vary_rejects_bad_options(cli, root: Path, tmp_path: Path, args, message) -> None:
    out = tmp_path / "vars"
    result = cli.invoke(app, ["vary", str(root / SCENARIO_SEED), *args, "--out", str(out)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())


def test_vary_rejects_bad_seed_files(cli, catalog: Catalog, root: Path, tmp_path: Path) -> None:
    bad_yaml = tmp_path / "bad.yaml"
    data = yaml.safe_load((root / SCENARIO_SEED).read_text())
    data["client_persona"] = "nobody_here"
    bad_yaml.write_text(yaml.safe_dump(data))
    result = cli.invoke(
        app, ["vary", str(bad_yaml), "--axis", "topic", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert f"{bad_yaml}: client_persona: unknown persona id 'nobody_here'" in result.output
    assert not (tmp_path / "o").exists()

    record = json.loads((root / RECORD_SEED).read_text())
    record["turns"][0]["ground_truth"]["intensity"] = 7
    bad_json = tmp_path / "bad.json"
    bad_json.write_text(json.dumps(record))
    with pytest.raises(DataError, match=r"bad\.json: turns\.0\.ground_truth\.intensity"):
        load_seed(catalog, bad_json)

    with pytest.raises(DataError, match=r"notes\.txt: a seed is a scenario \(\.yaml\)"):
        load_seed(catalog, tmp_path / "notes.txt")
    with pytest.raises(DataError, match="file not found"):
        load_seed(catalog, tmp_path / "missing.yaml")
    two = tmp_path / "two.jsonl"
    line = json.dumps(json.loads((root / RECORD_SEED).read_text()))
    two.write_text(line + "\n" + line + "\n")
    with pytest.raises(DataError, match="the file holds 2"):
        load_seed(catalog, two)


def test_write_is_all_or_nothing(catalog: Catalog, root: Path, tmp_path: Path) -> None:
    template = load_seed(catalog, root / SCENARIO_SEED)
    good, other = vary(catalog, template, "topic", 2, seed=1)
    broken = other.model_copy(update={"subcategory": "not_a_subcategory"})
    with pytest.raises(EmosimError, match="not_a_subcategory"):
        write_scenarios(catalog, [good, broken], tmp_path)
    assert list(tmp_path.iterdir()) == []
