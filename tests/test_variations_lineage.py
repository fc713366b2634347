"""The lineage graph: families over seeds, variations, conversations and forks."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from emosim.catalog import Catalog
from emosim.cli import app
from emosim.graphs.runner import Job, run_jobs
from emosim.lineage import build_graph, depth, families, family_of, read_sources
from emosim.schemas import LineageInfo
from emosim.variations import load_seed, vary, write_scenarios

SCENARIO_SEED = "simulations/investing_shame_first_steps.yaml"
RECORD_SEED = "seeds/seed_divorce_overwhelm_to_agency.json"


def _family_tree(catalog: Catalog, root: Path, out: Path):
    """seed -> 2 topic variations -> 2 persona variations of the first one; and a record seed
    -> 1 emotion variation. Returns (first generation, second generation, record variations)."""
    seed = load_seed(catalog, root / SCENARIO_SEED)
    first = vary(catalog, seed, "topic", 2, seed=1)
    write_scenarios(catalog, first, out)
    child = load_seed(catalog, out / f"{first[0].id}.yaml")
    second = vary(catalog, child, "persona", 2, seed=1)
    write_scenarios(catalog, second, out)
    from_record = vary(catalog, load_seed(catalog, root / RECORD_SEED), "emotion", 1, seed=1)
    write_scenarios(catalog, from_record, out)
    return first, second, from_record


def test_families_depth_and_family_of_records(catalog: Catalog, root: Path, tmp_path: Path) -> None:
    first, second, from_record = _family_tree(catalog, root, tmp_path / "vars")
    assert all(s.lineage.seed_id == "investing_shame_first_steps" for s in second)
    assert all(s.lineage.parent_id == first[0].id for s in second)

    # play one conversation of a second-generation variation and one of the record's variation
    jobs = [Job(second[0], "h1", 5), Job(from_record[0], "h2", 5)]
    _, records = run_jobs(catalog, jobs, tmp_path / "runs", "scripted", "t", "pytest")
    assert records[0].lineage.axis == "persona"  # the record carries its scenario's lineage

    sources = read_sources(
        [str(root / SCENARIO_SEED), str(tmp_path / "vars"), str(root / RECORD_SEED)],
        catalog=catalog,
    )
    graph = build_graph(sources.scenarios, [*sources.records, *records])
    fams = families(graph)
    scenario_family = fams["investing_shame_first_steps"]
    assert set(scenario_family) == {
        "investing_shame_first_steps",
        *(s.id for s in first),
        *(s.id for s in second),
        records[0].id,
    }
    assert set(fams["seed_divorce_overwhelm_to_agency"]) == {
        "seed_divorce_overwhelm_to_agency",
        from_record[0].id,
        records[1].id,
    }
    depths = depth(graph, "investing_shame_first_steps")
    assert depths[first[1].id] == 1 and depths[second[0].id] == 2 and depths[records[0].id] == 3
    assert graph.edges[first[0].id, second[0].id]["axis"] == "persona"

    # from records alone (what the exports pass): a record's family is its root seed
    assert family_of(records) == {
        records[0].id: "investing_shame_first_steps",
        records[1].id: "seed_divorce_overwhelm_to_agency",
    }


def test_forks_and_plain_conversations_form_families(scripted_run) -> None:
    _, records = scripted_run
    parent = records[0]
    fork = parent.model_copy(
        update={
            "id": f"{parent.id}--fork-abc",
            "lineage": LineageInfo(
                seed_id=parent.scenario.scenario_id,
                parent_id=parent.id,
                axis="fork",
                changed={"hidden.intensity": "0.9"},
                fork_checkpoint="cp-1",
            ),
        }
    )
    assert family_of([parent, fork]) == {
        parent.id: parent.scenario.scenario_id,
        fork.id: parent.scenario.scenario_id,
    }
    # the fork alone still joins its seed (its parent was not among the inputs)
    assert family_of([fork]) == {fork.id: parent.scenario.scenario_id}


def test_lineage_command_prints_families_and_writes_graphml(
    cli, catalog: Catalog, root: Path, tmp_path: Path
) -> None:
    first, second, _ = _family_tree(catalog, root, tmp_path / "vars")
    out = tmp_path / "lineage.graphml"
    result = cli.invoke(
        app,
        ["lineage", str(root / SCENARIO_SEED), str(tmp_path / "vars"), "--graphml", str(out)],
    )
    assert result.exit_code == 0, result.output
    # the record seed's variation is its own family: its parent record was not given
    assert "2 lineage families" in result.output
    graph = nx.read_graphml(out)
    assert graph.nodes[second[1].id]["family"] == "investing_shame_first_steps"
    assert int(graph.nodes[second[1].id]["depth"]) == 2
    assert graph.edges["investing_shame_first_steps", first[0].id]["axis"] == "topic"


def test_lineage_command_rejects_bad_inputs(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    result = cli.invoke(app, ["lineage", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:1:" in result.output and "Traceback" not in result.output
    result = cli.invoke(app, ["lineage", str(tmp_path / "missing")])
    assert result.exit_code == 1 and "no such file, folder or run" in result.output
