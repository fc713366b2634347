"""Arcs fit the persona: a feeling that needs a ground in the story (grief needs a loss) goes
only to a persona whose `grounds` names it, in plans, variations and scenario files."""

from __future__ import annotations

import dataclasses
import random
import shutil

import pytest

from emosim.catalog import Catalog
from emosim.coverage import Assigner, load_targets, make_plan
from emosim.errors import DataError, EmosimError
from emosim.schemas import ArcStep, Scenario
from emosim.variations import arc_fits, fits


def test_grief_needs_a_ground_and_the_personas_with_a_loss_name_it(catalog) -> None:
    assert catalog.emotions["grief"].needs_ground
    # nobody died and nothing was lost in Daniel's story; Leilani's mother died
    assert not catalog.grounded(catalog.clients["daniel_nakamura"], "grief")
    assert catalog.grounded(catalog.clients["leilani_kahale"], "grief")
    assert catalog.grounded(catalog.clients["daniel_nakamura"], "regret")
    for persona in catalog.clients.values():
        assert arc_fits(catalog, persona, [s.emotion for s in persona.default_arc])


def test_the_default_plan_gives_grief_only_to_a_persona_with_a_loss(catalog, root) -> None:
    plan = make_plan(catalog, load_targets(catalog, root / "targets.yaml"), seed=0)
    with_grief = [
        j.scenario for j in plan.jobs if any(s.emotion == "grief" for s in j.scenario.arc)
    ]
    assert with_grief  # the targets ask for grief turns: they are still planned
    for scenario in plan.jobs:
        persona = catalog.clients[scenario.scenario.client_persona]
        emotions = [s.emotion for s in scenario.scenario.arc]
        assert arc_fits(catalog, persona, emotions), (persona.id, emotions)
    assert {s.client_persona for s in with_grief} <= {
        p.id for p in catalog.clients.values() if "grief" in p.grounds
    }


def test_the_assigner_leaves_out_personas_the_arc_does_not_fit(catalog) -> None:
    assigner = Assigner(catalog, random.Random(0))
    for _ in range(60):
        _, _, persona = assigner.assign("regret", ["regret", "grief", "calm"])
        assert "grief" in catalog.clients[persona].grounds
    assert not fits(catalog, catalog.clients["daniel_nakamura"], "investing_basics", "grief")


def test_a_scenario_giving_grief_to_a_persona_without_a_loss_is_refused(catalog, tmp_path):
    scenario = Scenario(
        id="daniel_grief",
        title="t",
        topic="investing_basics",
        subcategory=catalog.topics["investing_basics"].subcategories[0].id,
        client_persona="daniel_nakamura",
        advisor_persona=catalog.advisor.id,
        length_class="short",
        exchanges=3,
        phase="scenario_driven",
        situation="t",
        arc=[ArcStep(emotion="regret", intensity=0.6), ArcStep(emotion="grief", intensity=0.5)],
    )
    problems = catalog.scenario_problems(scenario, "s.yaml")
    assert len(problems) == 1
    assert "s.yaml: arc.1.emotion: 'grief' needs a loss" in problems[0]
    assert "daniel_nakamura" in problems[0]
    ok = scenario.model_copy(update={"client_persona": "leilani_kahale", "topic": "inheritance"})
    ok = ok.model_copy(update={"subcategory": catalog.topics["inheritance"].subcategories[0].id})
    assert catalog.scenario_problems(ok, "s.yaml") == []


def test_a_persona_file_with_an_ungrounded_default_arc_fails_validation(root, tmp_path) -> None:
    """`emosim validate` (the catalog load) names the file, the field and the value."""
    copy = tmp_path / "data"
    shutil.copytree(
        root,
        copy,
        ignore=shutil.ignore_patterns(".*", "runs", "tests", "data", "docs", "benchmarks"),
    )
    path = copy / "personas" / "clients" / "leilani_kahale.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.split("# feelings that need a ground")[0], encoding="utf-8")
    with pytest.raises(DataError) as caught:
        Catalog.load(copy)
    message = str(caught.value)
    assert "leilani_kahale.yaml: default_arc.0.emotion: 'grief' needs a loss" in message


def test_no_persona_for_an_arc_is_a_clear_error(catalog) -> None:
    clients = {k: p for k, p in catalog.clients.items() if "grief" not in p.grounds}
    bare = dataclasses.replace(catalog, clients=clients)
    with pytest.raises(EmosimError, match="no persona fits an arc of regret, grief"):
        Assigner(bare, random.Random(0)).assign("regret", ["regret", "grief"])
