"""A second domain through the same engine: the telecom support desk in domains/telecom/.

The engine has no telecom code; the domain is data laid over the project's shared files
(emotions, strategies, sentence functions, observer markers). These tests play telecom
conversations offline and check that finance does not leak in and that observers label them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from emosim.catalog import Catalog, resolve_domain
from emosim.cli import app
from emosim.errors import DataError
from emosim.graphs.runner import Job, run_jobs
from emosim.schemas import AdvisorTurn, ClientTurn, ConversationRecord

# Words of the finance domain that have no place at a telecom support desk.
FINANCE_WORDS = re.compile(
    r"\b(retire\w*|cfp|portfolio\w*|invest\w*|401\(?k\)?|ira|roth|annuit\w*|mortgage\w*|"
    r"social security|tax(es|able)?|cpa|estate|brokerage|index funds?|stocks?|bonds?|dividend\w*|"
    r"emergency fund|savings account|financial planner|elena)\b",
    re.IGNORECASE,
)
SCENARIOS = ("outage_lost_work", "behind_on_payments_notice", "bill_shock_promo_ended")


@pytest.fixture(scope="module")
def telecom(root: Path) -> Catalog:
    return Catalog.load(root, domain="telecom")


@pytest.fixture(scope="module")
def telecom_records(telecom: Catalog, tmp_path_factory) -> list[ConversationRecord]:
    folder = telecom.file("simulations")
    jobs = [
        Job(telecom.load_scenario(folder / f"{sid}.yaml"), f"hash-{sid}", seed)
        for seed, sid in enumerate(SCENARIOS, start=1)
    ]
    runs = tmp_path_factory.mktemp("telecom") / "runs"
    _, records = run_jobs(telecom, jobs, runs, "scripted", "t", "pytest")
    return records


def test_domain_files_win_and_shared_files_come_from_the_root(
    telecom: Catalog, catalog: Catalog, root: Path
) -> None:
    assert telecom.advisor.id == "maya_okafor" and telecom.domain_name == "telecom"
    assert set(telecom.clients) == {
        "denise_harper",
        "luis_ortega",
        "pat_mcallister",
        "shanice_brown",
    }
    assert set(telecom.topics).isdisjoint(catalog.topics)
    # shared: one emotion and strategy taxonomy for every domain
    assert telecom.file("taxonomies/emotions.yaml") == root / "taxonomies/emotions.yaml"
    assert telecom.emotions.keys() == catalog.emotions.keys()
    assert telecom.file("agents/scripted/advisor.yaml").is_relative_to(root / "domains")
    # finance facts are the finance domain's own: the telecom domain has none
    assert telecom.facts_path is None and catalog.facts_path is not None
    assert telecom.content_hash() != catalog.content_hash()


def test_unknown_domain_is_one_error_naming_it(root: Path) -> None:
    with pytest.raises(DataError, match=r"domain 'gas'.*known: finance, .*telecom"):
        resolve_domain(root, "gas")
    assert resolve_domain(root, "finance") is None


def test_telecom_conversations_have_no_finance_talk(
    telecom_records: list[ConversationRecord],
) -> None:
    assert len(telecom_records) == len(SCENARIOS)
    for record in telecom_records:
        assert record.scenario.advisor_persona_id == "maya_okafor"
        texts = [t.text for t in record.turns] + [
            d.text for t in record.advisor_turns for d in t.rejected_drafts
        ]
        leaks = {m.group(0).lower() for text in texts for m in FINANCE_WORDS.finditer(text)}
        assert not leaks, f"{record.scenario.id}: finance words {sorted(leaks)}"
        first = record.turns[0].text
        name = record.scenario.client_persona.name.split()[0]
        assert "Elena" not in first and name not in first  # the client speaks as themself


def test_observers_label_telecom_turns(
    telecom: Catalog, telecom_records: list[ConversationRecord]
) -> None:
    for record in telecom_records:
        clients = [t for t in record.turns if isinstance(t, ClientTurn)]
        advisors = [t for t in record.turns if isinstance(t, AdvisorTurn)]
        assert clients and advisors
        for turn in clients:
            assert turn.annotation is not None and turn.annotation.primary in telecom.emotions
        for turn in advisors:
            assert turn.strategies is not None
            assert turn.strategies.primary in telecom.strategies


def test_cli_validates_and_runs_the_domain(cli, root: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EMOSIM_DOMAIN", "finance")  # restored after the test; --domain sets it
    result = cli.invoke(app, ["--domain", "telecom", "validate", str(root / "domains/telecom")])
    assert result.exit_code == 0, result.output
    scenario = root / "domains/telecom/simulations/router_charge_after_return.yaml"
    runs = tmp_path / "runs"
    result = cli.invoke(app, ["--domain", "telecom", "run", str(scenario), "--runs-dir", str(runs)])
    assert result.exit_code == 0, result.output
    (path,) = runs.glob("*/conversations.jsonl")
    record = ConversationRecord.model_validate_json(path.read_text().splitlines()[0])
    assert record.scenario.topic == "billing_disputes"
    out = tmp_path / "export"
    args = ["--domain", "telecom", "export", str(path.parent), "-f", "sharegpt", "-o", str(out)]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    card, rows = (out / "README.md").read_text(), (out / "train.jsonl").read_text()
    assert "Maya Okafor" in card and "Maya Okafor" in rows  # her system prompt and card
    leaks = {m.group(0).lower() for m in FINANCE_WORDS.finditer(card + rows)}
    assert not leaks, f"export: finance words {sorted(leaks)}"
    # the finance catalog refuses the telecom scenario: its persona and topic are unknown
    monkeypatch.setenv("EMOSIM_DOMAIN", "finance")
    result = cli.invoke(app, ["run", str(scenario), "--runs-dir", str(tmp_path / "other")])
    assert result.exit_code != 0 and "unknown persona id 'denise_harper'" in result.output


def test_variations_and_plans_name_the_domains_advisor(
    cli, root: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("EMOSIM_DOMAIN", "telecom")
    seed = root / "domains/telecom/simulations/outage_lost_work.yaml"
    out = tmp_path / "variations"
    args = ["vary", str(seed), "--axis", "topic", "--n", "2", "--out", str(out)]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    plan = tmp_path / "plan.yaml"
    result = cli.invoke(app, ["plan", "--out", str(plan)])
    assert result.exit_code == 0, result.output
    written = [p.read_text() for p in sorted(out.glob("*.yaml"))] + [plan.read_text()]
    assert len(written) == 3
    for text in written:
        assert "advisor_persona: maya_okafor" in text and "Elena" not in text
