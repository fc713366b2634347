"""Analytics of label corrections: phrase x context findings, proposed rules, phrase matching.

The planted-pattern stores come from `tests/planted_labels.py`: random sub-category,
emotions and phrase per seed, with noise corrections and reviewer disagreement.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scipy.stats import fisher_exact

from emosim.cli import app
from emosim.labels.analytics import AnalyticsOptions, analyze
from emosim.labels.phrases import contains, extend, tokens
from emosim.labels.resolve import resolve_events
from emosim.labels.rules import Rule, load_rules
from emosim.labels.stats import bh_cutoff, fisher_greater, wilson_lower
from emosim.labels.store import LabelStore
from emosim.labels.targets import ConversationInfo, TargetKey, TurnInfo
from emosim.schemas import LabelEvent

from .planted_labels import Planted, build, write_store

# --- phrases and statistics -----------------------------------------------------------------


def test_phrases_ignore_case_punctuation_and_sentence_breaks() -> None:
    text = "Honestly... I GET. I didn’t sleep; the Tangled, maze again!"
    words = tokens(text)
    assert words == (
        "honestly",
        "i",
        "get",
        "i",
        "didn't",
        "sleep",
        "the",
        "tangled",
        "maze",
        "again",
    )
    assert contains(words, tokens("i get, I didn't"))
    assert contains(words, tokens("tangled maze"))
    assert not contains(words, tokens("get i get"))
    assert not contains(words, tokens("angled maze"))  # whole words only
    # growing a phrase keeps exactly the texts it occurs in
    texts = [tokens("a red tangled maze x"), tokens("b red tangled maze y")]
    assert extend(tokens("tangled"), texts) == ("red", "tangled", "maze")
    assert extend(tokens("tangled"), [*texts, tokens("tangled c")]) == ("tangled",)


def test_a_phrase_rule_matches_across_a_sentence_break() -> None:
    rule = Rule(id="r1", phrase="I get. I didn't", field="emotion", label="overwhelm",
                when={"model_label": "confusion", "subcategory": ["s1"]})  # fmt: skip
    info = ConversationInfo("c", "t1", "s1", "x", [TurnInfo("client", "That's all I get! i didnt")])
    key = TargetKey("c", 0, None, "emotion")
    match = rule.matcher()
    assert not match(info, key, "confusion")  # "didnt" is not "didn't"
    info.turns[0].text = "That's all I get!\nI DIDN'T sleep"
    assert match(info, key, "confusion")
    assert not match(info, key, "anxiety")  # the model said something else
    info.subcategory = "s2"
    assert not match(info, key, "confusion")  # another sub-category
    with pytest.raises(ValueError, match="has no words"):
        Rule(id="r1", phrase=" ... ", field="emotion", label="overwhelm")


@pytest.mark.parametrize(
    ("a", "b", "c", "d"), [(28, 12, 1, 11), (3, 0, 2, 40), (10, 1, 18, 11), (0, 5, 3, 7)]
)
def test_fisher_greater_is_scipys_one_sided_test(a, b, c, d) -> None:
    expected = fisher_exact([[a, b], [c, d]], alternative="greater").pvalue
    assert fisher_greater(a, a + b, a + c, a + b + c + d) == pytest.approx(expected, abs=1e-12)


def test_wilson_and_benjamini_hochberg() -> None:
    assert wilson_lower(3, 3) == pytest.approx(0.4385, abs=1e-4)
    assert wilson_lower(28, 40) > wilson_lower(3, 3)  # broad and consistent beats tiny perfect
    assert wilson_lower(0, 0) == 0.0
    # BH: p_(k) <= q k / m; with m = 4: 0.01 <= 0.0125, 0.02 <= 0.025, 0.04 > 0.0375
    assert bh_cutoff([0.01, 0.02, 0.04, 0.5], 0.05, 4) == 0.02
    assert bh_cutoff([0.01, 0.02, 0.04, 0.5], 0.05, 100) == -1.0  # untested count as p = 1


# --- planted patterns -----------------------------------------------------------------------

SEEDS = [1, 2, 3]


@pytest.fixture(scope="module")
def planted_stores(scripted_run, catalog, tmp_path_factory):
    _, records = scripted_run
    folder = tmp_path_factory.mktemp("planted")
    out: dict[int, tuple[Planted, Path]] = {}
    for seed in SEEDS:
        planted = build(records[0], catalog, seed)
        out[seed] = (planted, write_store(planted, folder / f"s{seed}.sqlite", catalog))
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_the_planted_pattern_is_the_top_rule_with_its_rate_and_noise_gives_none(
    planted_stores, seed
) -> None:
    planted, path = planted_stores[seed]
    options = AnalyticsOptions(top=100_000)
    with LabelStore.open(path) as db:
        report = analyze(db, options=options)
    corrections = sum(c.count for c in report.corrections if c.by == "live_operator")
    assert corrections > planted.corrected + 50  # noise and disagreement are there
    if planted.rate < options.min_rate:
        # the pattern is there but wrong as often as right: no rule, and the reason
        assert report.proposed_rules == []
        (why,) = [
            n
            for n in report.not_proposed
            if (n.from_label, n.to_label) == (planted.from_label, planted.to_label)
        ]
        assert f"{planted.corrected}/{planted.reviewed} corrected; rate below" in why.reason
        return
    top, *others = report.proposed_rules
    assert others == []  # nothing from noise
    rule = top.rule
    assert rule.when.subcategory == [planted.subcategory] and rule.when.topic == [planted.topic]
    assert rule.when.model_label == planted.from_label and rule.label == planted.to_label
    assert contains(tokens(rule.phrase), tokens(planted.phrase))
    assert (top.evidence.corrections, top.evidence.reviewed) == (
        planted.corrected,
        planted.reviewed,
    )
    assert top.evidence.precision == round(planted.rate, 3)
    assert report.phrases[0].status == "proposed"


def test_a_correction_across_a_whole_sub_category_is_not_pinned_on_its_wording(
    scripted_run, catalog, tmp_path
) -> None:
    """People correct E1 in S whatever the words: the sub-category's template sentence (in
    80% of its turns) and the phrase (in 45%) go with the correction only as much as the
    turns without them do, so neither makes a rule."""
    _, records = scripted_run
    planted = build(records[0], catalog, 4, conversations=240, rate=0.8, whole_context=True)
    options = AnalyticsOptions(top=100_000)
    with LabelStore.open(write_store(planted, tmp_path / "whole.sqlite", catalog)) as db:
        report = analyze(db, options=options)
    assert report.proposed_rules == []
    mine = [
        p
        for p in report.phrases
        if (p.from_label, p.to_label, p.subcategory) == (planted.from_label, planted.to_label,
                                                          planted.subcategory)
    ]  # fmt: skip
    template = [p for p in mine if p.status == "template wording"]
    assert template and all(p.context_share >= 0.5 for p in template)
    assert all(p.rate >= 0.5 and p.context_p >= 0.05 for p in template)
    phrase = [p for p in mine if contains(tokens(p.phrase), tokens(planted.phrase))]
    assert phrase and "proposed" not in {p.status for p in phrase}
    assert {p.status for p in phrase} & {"not specific to the phrase", "template wording"}
    (why,) = [
        n
        for n in report.not_proposed
        if (n.from_label, n.to_label) == (planted.from_label, planted.to_label)
    ]
    assert why.reason.startswith("best phrase") and "p = " in why.reason


def test_noise_alone_proposes_nothing_and_says_why(scripted_run, catalog, tmp_path) -> None:
    _, records = scripted_run
    planted = build(records[0], catalog, 7, conversations=200, plant=False)
    with LabelStore.open(write_store(planted, tmp_path / "noise.sqlite", catalog)) as db:
        report = analyze(db)
    assert report.proposed_rules == []
    assert report.not_proposed and report.summary.startswith("No rule:")
    assert all(n.reason for n in report.not_proposed)
    assert any("fewer than --min-support 3" in n.reason for n in report.not_proposed)


# --- eight identical corrections ------------------------------------------------------------


def _relieved_store(scripted_run, catalog, path: Path, confirm_others: bool) -> Path:
    """Forty conversations the model reads as gratitude; in one sub-category eight turns say
    'relieved' and operators correct all eight to relief."""
    _, records = scripted_run
    planted = build(records[0], catalog, 11, conversations=40, contexts=4, plant=False, noise=0)
    planted.events = []
    start = datetime(2026, 5, 1, tzinfo=UTC)
    sub = planted.records[0].scenario.subcategory
    n = 0
    family = catalog.emotion("gratitude").family
    for r in planted.records:
        for turn in r.client_turns:
            turn.annotation.primary, turn.annotation.family = "gratitude", family
        r.label_events = [
            e.model_copy(update={"value": "gratitude"}) if e.target.field == "emotion" else e
            for e in r.label_events
        ]
    for r in planted.records:
        for turn in r.client_turns:
            model = f"{r.id}:t{turn.index}:emotion:model"
            relieved = r.scenario.subcategory == sub and n < 8 and turn is r.client_turns[0]
            if relieved:
                turn.text = "Thank you, I'm so relieved. " + turn.text
                n += 1
            elif not confirm_others:
                continue
            planted.events.append(
                LabelEvent.model_validate(
                    {
                        "event_id": f"op:{r.id}:{turn.index}",
                        "created_at": start + timedelta(minutes=len(planted.events)),
                        "target": {"conversation_id": r.id, "turn_index": turn.index,
                                   "field": "emotion"},
                        "value": "relief" if relieved else None,
                        "source": {"kind": "live_operator", "name": "op_eve"},
                        "action": "correct" if relieved else "accept",
                        "supersedes": model,
                    }
                )
            )  # fmt: skip
    assert n == 8
    return write_store(planted, path, catalog)


def test_eight_identical_corrections_give_a_rule_when_there_is_a_contrast(
    scripted_run, catalog, tmp_path
) -> None:
    path = _relieved_store(scripted_run, catalog, tmp_path / "a.sqlite", confirm_others=True)
    with LabelStore.open(path) as db:
        report = analyze(db)
    (top,) = report.proposed_rules
    assert (top.rule.label, top.rule.when.model_label) == ("relief", "gratitude")
    assert "relieved" in tokens(top.rule.phrase)
    assert (top.evidence.corrections, top.evidence.reviewed, top.evidence.precision) == (8, 8, 1.0)


def test_eight_identical_corrections_without_a_contrast_say_why(
    scripted_run, catalog, tmp_path
) -> None:
    path = _relieved_store(scripted_run, catalog, tmp_path / "b.sqlite", confirm_others=False)
    with LabelStore.open(path) as db:
        report = analyze(db)
    assert report.proposed_rules == []
    (why,) = report.not_proposed
    assert (why.from_label, why.to_label, why.corrections) == ("gratitude", "relief", 8)
    # only the eight were reviewed: nothing shows the phrase (or the sub-category) matters
    assert "relieved" in why.reason and "8/8 corrected" in why.reason
    assert "(8/8)" in why.reason and "never proposed" in why.reason
    assert "all 8 reviewed 'gratitude' labels were corrected to 'relief'" in why.reason


# --- end to end through the CLI -------------------------------------------------------------


def test_accepted_rule_matches_at_least_the_turns_it_was_learned_from(
    planted_stores, tmp_path, cli, root, catalog
) -> None:
    seed = next(s for s in SEEDS if planted_stores[s][0].rate >= 0.55)
    planted, built = planted_stores[seed]
    store = tmp_path / "labels.sqlite"
    store.write_bytes(built.read_bytes())
    rules = tmp_path / "rules.yaml"
    rules.write_text((root / "rules.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    args = ["--store", str(store), "--rules", str(rules)]

    table = cli.invoke(app, ["labels", "analytics", *args, "--top", "3"], env={"COLUMNS": "300"})
    assert table.exit_code == 0, table.output
    assert "Phrase x context findings" in table.output and "Not proposed" in table.output
    assert "1 rule(s) proposed" in table.output and "rate below --min-rate" in table.output

    report = json.loads(cli.invoke(app, ["labels", "analytics", *args, "--json"]).output)
    top = report["proposed_rules"][0]
    result = cli.invoke(app, ["labels", "accept-rule", top["id"], *args])
    assert result.exit_code == 0, result.output
    accepted = load_rules(rules, catalog).rules[-1]
    assert accepted.phrase == top["rule"]["phrase"] and accepted.pattern is None

    before = LabelStore.open(store).count_events()
    dry = cli.invoke(app, ["labels", "apply-rules", *args, "--dry-run"], env={"COLUMNS": "300"})
    assert dry.exit_code == 0, dry.output
    row = next(line for line in dry.output.splitlines() if accepted.id in line)
    cells = [c.strip() for c in re.split(r"[│┃|]", row) if c.strip()]
    matched = int(cells[3])  # rule, field, label, matched, ...
    assert matched >= top["evidence"]["reviewed"] == planted.reviewed
    with LabelStore.open(store) as db:
        assert db.count_events() == before  # a dry run stores nothing
    result = cli.invoke(app, ["labels", "apply-rules", *args])
    assert result.exit_code == 0, result.output
    with LabelStore.open(store) as db:
        rule_events = [e for e in db.events() if e.source.kind == "rule"]
        resolved = resolve_events(db.events())
    assert len(rule_events) >= planted.corrected
    # people still win where they decided; the rule's own turns now carry the label
    wins = [r for r in resolved.values() if r.winner and r.winner.kind == "rule"]
    assert wins and all(r.winner.value == planted.to_label for r in wins)


def test_analytics_options_are_checked(labelled_empty_store, cli) -> None:
    bad = cli.invoke(
        app, ["labels", "analytics", "--store", str(labelled_empty_store), "--min-rate", "2"]
    )
    assert bad.exit_code == 1 and "--min-rate" in bad.output


@pytest.fixture()
def labelled_empty_store(tmp_path, scripted_run, catalog) -> Path:
    _, records = scripted_run
    planted = build(records[0], catalog, 5, conversations=6, contexts=2, plant=False)
    planted.events = []
    return write_store(planted, tmp_path / "empty.sqlite", catalog)


def test_resolving_a_store_conversation_by_conversation_gives_the_same_rows(
    planted_stores,
) -> None:
    from emosim.labels.resolve import resolve_store, resolved_rows

    _, path = planted_stores[SEEDS[0]]
    with LabelStore.open(path) as db:
        whole = resolved_rows(db.events())
        streamed = list(resolve_store(db))
    assert len(streamed) == len(whole) > 7000
    assert [r.model_dump() for r in streamed] == [r.model_dump() for r in whole]
