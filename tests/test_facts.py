"""The vetted fact base: the shipped file, its checks, the query API and the catalog hook."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from emosim.catalog import Catalog
from emosim.cli import app
from emosim.errors import DataError
from emosim.grounding.calculators import CAPITAL_LOSS_CAP, capital_loss_offset
from emosim.grounding.facts import (
    FactBase,
    fact_file_problems,
    is_current,
    load_fact_base,
    load_fact_file,
    newest_fact_file,
    tokens,
)
from emosim.schemas.facts import Fact
from emosim.validate import validate_paths

TODAY = dt.date(2026, 12, 7)


@pytest.fixture(scope="module")
def base(root: Path, catalog: Catalog) -> FactBase:
    return load_fact_base(root / "facts" / "us-2026.yaml", catalog.topics, TODAY)


def _fact_dict(**changes) -> dict:
    fact = {
        "id": "sample_fact",
        "topic": "tax_planning",
        "statement": "A sample statement with $1,000 in it.",
        "values": [{"value": 1000, "unit": "usd", "label": "sample"}],
        "jurisdiction": "US-federal",
        "tax_year": 2026,
        "source": {"publisher": "IRS", "title": "Sample", "url": "https://www.irs.gov/"},
        "as_of": dt.date(2026, 11, 1),
        "expires": dt.date(2026, 12, 31),
        "keywords": ["sample"],
    }
    fact.update(changes)
    return fact


def _write(tmp_path: Path, facts: list[dict], **top) -> Path:
    doc = {
        "version": "1",
        "jurisdiction": "US-federal",
        "tax_year": 2026,
        "as_of": dt.date(2026, 11, 1),
        "facts": facts,
        **top,
    }
    path = tmp_path / "us-2026.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


# --- the shipped file ------------------------------------------------------------------------


def test_shipped_fact_base_is_large_sourced_and_dated(base: FactBase, catalog: Catalog) -> None:
    assert len(base) >= 60
    assert base.file is not None and base.file.tax_year == 2026
    for fact in base:
        assert fact.source.url.startswith("https://"), fact.id
        assert fact.source.publisher and fact.source.title, fact.id
        assert fact.as_of <= TODAY, fact.id
        assert fact.topic in catalog.topics, fact.id
        assert fact.expires is None or fact.expires > fact.as_of, fact.id
        assert fact.statement.endswith("."), fact.id
        assert fact.keywords, fact.id
        if fact.tax_year == 2026:
            assert fact.expires == dt.date(2026, 12, 31), fact.id
    # most topics have facts
    assert len(set(base.topics)) >= 15


def test_shipped_statements_contain_their_figures(base: FactBase) -> None:
    """Every number in `values` is said in the statement (as Elena would say it)."""
    import re

    from emosim.grounding.calculators import money, percent

    words = "zero one two three four five six seven eight nine ten".split()

    def spellings(v) -> set[str]:
        x = v.value
        out = {f"{x:g}", f"{x:,.0f}" if x == int(x) else f"{x:g}"}
        if v.unit.startswith("usd"):
            out |= {money(x), money(x, cents=True)}
        if v.unit.startswith("percent"):
            out.add(percent(x))
        if x == int(x) and 0 <= x <= 10:
            out.add(words[int(x)])
        if x == 0 and v.unit == "usd":
            out.add("no")
        if x == 59.5:
            out.add("59 and a half")
        return out

    def said(text: str, spelling: str) -> bool:
        return re.search(rf"(?<![\w$,.]){re.escape(spelling)}(?!\w|[,.]\d)", text) is not None

    missing = [
        f"{fact.id}: {v.value:g} {v.unit}"
        for fact in base
        for v in fact.values
        if not any(said(fact.statement, s) for s in spellings(v))
    ]
    assert missing == []


def test_key_2026_figures(base: FactBase) -> None:
    assert base.value("workplace_plan_deferral_limit") == 24_500
    assert base.value("ira_contribution_limit") == 7_500
    assert base.value("workplace_plan_catch_up_50") == 8_000
    assert base.value("workplace_plan_catch_up_60_63") == 11_250
    assert base.value("ira_catch_up_50") == 1_100
    assert base.value("hsa_contribution_limit", "self-only") == 4_400
    assert base.value("hsa_contribution_limit", "family") == 8_750
    assert base.value("annual_gift_exclusion") == 19_000
    assert base.value("estate_tax_exemption") == 15_000_000
    assert base.value("standard_deduction_2026", "single") == 16_100
    assert base.value("standard_deduction_2026", "jointly") == 32_200
    assert base.value("ss_wage_base_2026") == 184_500
    assert base.value("rmd_starting_age") == 73
    assert base.value("fdic_insurance_limit") == 250_000
    assert base.value("pslf_qualifying_payments") == 120
    assert base.value("ss_reduction_at_62", "reduction") == 30
    assert base.value("ss_delayed_retirement_credits") == 8
    assert base.value("ss_spousal_benefit", "maximum") == 50
    assert base.value("college_529_roth_rollover", "lifetime") == 35_000
    assert base.value("college_529_k12_limit", "from 2026") == 20_000
    assert base.value("medicare_eligibility_age") == 65


def test_capital_loss_cap_matches_the_calculator_default(base: FactBase) -> None:
    cap = base.value("capital_loss_deduction_cap")
    assert cap == CAPITAL_LOSS_CAP == 3_000
    assert capital_loss_offset(0, 10_000, cap).outputs["carryforward"] == 7_000


# --- query API -------------------------------------------------------------------------------


def test_get_and_by_topic(base: FactBase) -> None:
    assert base.get("rmd_starting_age").topic == "retirement_planning"
    assert "rmd_starting_age" in base and "nope" not in base
    with pytest.raises(KeyError, match="unknown fact id 'nope'"):
        base.get("nope")
    ss = base.by_topic("social_security")
    assert ss and all(f.topic == "social_security" for f in ss)
    assert [f.id for f in ss] == [f.id for f in base if f.topic == "social_security"]
    assert base.by_topic("no_such_topic") == []
    with pytest.raises(KeyError, match="no value labelled"):
        base.value("ira_contribution_limit", "nonsense")


def test_find_value_by_number_and_unit(base: FactBase) -> None:
    ids = [f.id for f in base.find_value(7_500, "usd")]
    assert "ira_contribution_limit" in ids
    assert {f.id for f in base.find_value(3_000, "usd")} >= {
        "capital_loss_deduction_cap",
        "capital_loss_carryforward",
    }
    assert "ss_reduction_at_62" in [f.id for f in base.find_value(30, "percent")]
    # a unit family: 0.5 percent_per_month is found as "percent"
    assert "failure_to_pay_penalty" in [f.id for f in base.find_value(0.5, "percent")]
    # a specific unit matches only itself
    assert base.find_value(0.5, "percent_per_year") == []
    assert "rmd_starting_age" in [f.id for f in base.find_value(73, "age")]
    assert base.find_value(73, "usd") == []
    assert base.find_value(12_345.67) == []
    # no unit: anything with that number
    assert {f.id for f in base.find_value(62)} >= {"ss_earliest_claiming_age"}


def test_is_current_expired_and_stale() -> None:
    year_bound = Fact.model_validate(_fact_dict())
    assert is_current(year_bound, dt.date(2026, 12, 7))
    assert is_current(year_bound, dt.date(2026, 12, 31))
    assert not is_current(year_bound, dt.date(2027, 1, 1))  # expired
    no_expiry = Fact.model_validate(_fact_dict(expires=None))
    assert not is_current(no_expiry, dt.date(2027, 3, 1))  # an earlier tax year
    rule = Fact.model_validate(_fact_dict(expires=None, tax_year=None))
    assert is_current(rule, dt.date(2027, 6, 1))
    assert not is_current(rule, dt.date(2028, 12, 1))  # not checked for ~2 years: stale
    assert FactBase.is_current(rule, dt.date(2027, 6, 1), max_age_days=30) is False


def test_current_facts_today(base: FactBase) -> None:
    assert len(base.current(TODAY)) == len(base)
    assert base.current(dt.date(2027, 2, 1)) == [
        f for f in base if f.tax_year is None and f.expires is None
    ]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How much can I put in my IRA this year?", "ira_contribution_limit"),
        ("I'm over 50, can I put extra into my 401(k)?", "workplace_plan_catch_up_50"),
        ("I sold stocks at a loss, can I write off the losses?", "capital_loss_deduction_cap"),
        ("I owe the IRS and can't pay it all, is there a payment plan?", None),
        ("How big should my emergency fund be?", "emergency_fund_rule_of_thumb"),
        ("Is my money safe in the bank if it fails? Is it FDIC insured?", "fdic_insurance_limit"),
        ("What happens to leftover 529 money if he doesn't go to college?", None),
        ("How long does a late payment stay on my credit report?", "credit_report_negative_items"),
        ("When can I sign up for Medicare?", "medicare_initial_enrollment"),
        ("What if I claim Social Security at 62?", None),
        ("How many payments until PSLF forgives my loans?", "pslf_qualifying_payments"),
    ],
)
def test_search_ranks_the_relevant_fact_first(base: FactBase, question, expected) -> None:
    hits = [f.id for f in base.search(question)]
    assert hits, question
    if expected:
        assert hits[0] == expected, (question, hits)


def test_search_details(base: FactBase) -> None:
    irs = [f.id for f in base.search("I owe the IRS and can't pay, payment plan?", limit=3)]
    assert set(irs) & {"irs_short_term_payment_plan", "irs_long_term_payment_plan"}
    leftover = [f.id for f in base.search("leftover 529 money", limit=2)]
    assert "college_529_roth_rollover" in leftover
    early = [f.id for f in base.search("claim Social Security at 62", limit=3)]
    assert {"ss_earliest_claiming_age", "ss_reduction_at_62"} & set(early)
    # topic filter
    assert all(
        f.topic == "tax_planning" for f in base.search("penalty", topic="tax_planning", limit=None)
    )
    assert base.search("zebra xylophone") == []
    assert base.search("") == []
    assert len(base.search("tax", limit=None)) > 5
    assert len(base.search("tax", limit=2)) == 2


def test_tokens() -> None:
    assert tokens("My 401(k) and 401k limits") == ["401k", "401k", "limit"]
    assert "ira" in tokens("IRAs")


# --- checks and errors -----------------------------------------------------------------------


def test_validate_cli_checks_the_fact_file_and_folder(cli, root: Path) -> None:
    result = cli.invoke(app, ["validate", str(root / "facts" / "us-2026.yaml")])
    assert result.exit_code == 0, result.output
    result = cli.invoke(app, ["validate", str(root / "facts")])
    assert result.exit_code == 0, result.output


def test_schema_errors_name_file_line_field_and_value(tmp_path: Path, catalog) -> None:
    path = _write(
        tmp_path,
        [
            _fact_dict(),
            _fact_dict(id="bad_unit", values=[{"value": 5, "unit": "dollars", "label": "x"}]),
            _fact_dict(
                id="no_url", source={"publisher": "IRS", "title": "T", "url": "www.irs.gov"}
            ),
        ],
    )
    problems = validate_paths([path], catalog).problems
    assert any(
        p.startswith(f"{path}:") and "facts.1.values.0.unit" in p and '"dollars"' in p
        for p in problems
    ), problems
    assert any("facts.2.source.url" in p and "www.irs.gov" in p for p in problems), problems
    with pytest.raises(DataError) as err:
        load_fact_file(path)
    assert any("facts.1.values.0.unit" in p for p in err.value.problems)


def test_missing_source_is_an_error(tmp_path: Path, catalog) -> None:
    fact = _fact_dict()
    del fact["source"]
    path = _write(tmp_path, [fact])
    problems = validate_paths([path], catalog).problems
    assert any("facts.0.source" in p and "required" in p.lower() for p in problems), problems


def test_cross_checks_name_field_and_value(tmp_path: Path, catalog) -> None:
    future = dt.date.today() + dt.timedelta(days=30)
    path = _write(
        tmp_path,
        [
            _fact_dict(),
            _fact_dict(),  # duplicate id
            _fact_dict(id="bad_topic", topic="astrology"),
            _fact_dict(id="from_the_future", as_of=future, expires=future + dt.timedelta(1)),
            _fact_dict(id="expires_early", expires=dt.date(2026, 10, 1)),
        ],
    )
    problems = validate_paths([path], catalog).problems
    text = "\n".join(problems)
    assert f"{path}:" in text
    assert "facts.1.id: duplicate fact id 'sample_fact' (first at facts.0)" in text
    assert "facts.2.topic: unknown topic id 'astrology'" in text
    assert f"facts.3.as_of: date is in the future (got '{future.isoformat()}')" in text
    assert "facts.4.expires: must be after as_of 2026-11-01 (got '2026-10-01')" in text
    assert len(problems) == 4
    # every problem carries a line number
    assert all(p.split(": ")[0].rsplit(":", 1)[1].isdigit() for p in problems), problems
    with pytest.raises(DataError) as err:
        load_fact_base(path, catalog.topics)
    assert len(err.value.problems) == 4


def test_file_as_of_in_the_future(tmp_path: Path) -> None:
    path = _write(tmp_path, [_fact_dict()], as_of=dt.date(2030, 1, 1))
    file = load_fact_file(path)
    assert fact_file_problems(file, path, today=dt.date(2026, 12, 7)) == [
        f"{path}: as_of: date is in the future (got '2030-01-01')"
    ]


def test_numeric_keywords_are_words(tmp_path: Path) -> None:
    path = _write(tmp_path, [_fact_dict(keywords=[529, "plan", 62])])
    assert load_fact_file(path).facts[0].keywords == ["529", "plan", "62"]


# --- catalog ---------------------------------------------------------------------------------


def test_catalog_facts_is_the_newest_file(catalog: Catalog, root: Path) -> None:
    assert catalog.facts_path == root / "facts" / "us-2026.yaml"
    assert len(catalog.facts) >= 60
    assert catalog.facts is catalog.facts  # loaded once
    assert "facts/us-2026.yaml" in catalog.sources  # part of the data hash


def test_newest_fact_file_by_tax_year(tmp_path: Path) -> None:
    assert newest_fact_file(tmp_path / "missing") is None
    for name in ("us-2025.yaml", "us-2027.yaml", "us-2026.yaml", "notes.yaml"):
        (tmp_path / name).write_text("x: 1\n", encoding="utf-8")
    assert newest_fact_file(tmp_path) == tmp_path / "us-2027.yaml"


def test_catalog_fact_path_is_configurable(
    tmp_path: Path, root: Path, catalog: Catalog, monkeypatch
) -> None:
    import dataclasses

    from emosim.catalog import _facts_path

    path = _write(tmp_path, [_fact_dict()])
    assert _facts_path(root, path) == path
    assert _facts_path(root, None) == root / "facts" / "us-2026.yaml"
    monkeypatch.setenv("EMOSIM_FACTS", str(path))
    assert _facts_path(root, None) == path
    monkeypatch.setenv("EMOSIM_FACTS", str(tmp_path / "nope.yaml"))
    with pytest.raises(DataError, match="fact file not found"):
        _facts_path(root, None)
    other = dataclasses.replace(catalog, facts_path=path)
    assert [f.id for f in other.facts] == ["sample_fact"]
    assert len(dataclasses.replace(catalog, facts_path=None).facts) == 0


# --- generated artifacts ---------------------------------------------------------------------


def test_facts_document_matches_the_fact_file(root: Path, catalog: Catalog) -> None:
    from emosim.docs import fact_base, render_docs

    path = root / "docs" / "facts.md"
    assert path.is_file(), f"{path} missing: run `emosim docs`"
    text = fact_base(catalog)
    assert render_docs(catalog)["facts.md"] == text
    assert path.read_text(encoding="utf-8") == text, f"{path} drifted: run `emosim docs`"
    # a table per topic with every fact, its source link and as_of
    for fact in catalog.facts:
        assert f"| `{fact.id}` |" in text
        assert f"]({fact.source.url})" in text
    assert text.count("| Id | Statement | Values | Tax year | Source | As of |") == len(
        set(catalog.facts.topics)
    )


def test_fact_document_formats_values() -> None:
    from emosim.docs import _fact_value

    assert _fact_value(202.9, "usd_per_month") == "$202.90/month"
    assert _fact_value(24_500, "usd_per_year") == "$24,500/year"
    assert _fact_value(0.5, "percent_per_month") == "0.5%/month"
    assert _fact_value(67, "age") == "age 67"
    assert _fact_value(1960, "year") == "1960"
    assert _fact_value(120, "count") == "120"
    assert _fact_value(180, "days") == "180 days"


def test_published_fact_schema_matches_and_accepts_the_file(root: Path) -> None:
    import json

    import jsonschema

    from emosim.schema_export import render_schemas

    path = root / "schemas" / "fact_base.schema.json"
    text = render_schemas()["fact_base.schema.json"]
    assert path.read_text(encoding="utf-8") == text, f"{path} drifted: run `emosim schema`"
    data = yaml.safe_load((root / "facts" / "us-2026.yaml").read_text(encoding="utf-8"))
    doc = json.loads(json.dumps(data, default=str))  # YAML dates -> ISO strings
    jsonschema.validate(doc, json.loads(text))
