"""Quality of the scripted critic and strategy observer (issue 10).

The critic is measured on tests/data/critic_heldout.yaml, drafts written before its rules were
tuned and apart from the evaluator's mutations; then each rule family is pinned down with a few
cases a compliance reviewer would agree on, off-voice drafts and sound look-alikes side by side.
The strategy observer is checked on the grammatical frames it uses for text without cue phrases.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field

from emosim.agents.messages import CriticInput, Line
from emosim.agents.scripted.critic import RuleCritic, asserted, cue_weight
from emosim.agents.scripted.observers import LexiconStrategyObserver
from emosim.agents.scripted.text import CueHit
from emosim.catalog import Catalog
from emosim.evals.critic import NEUTRAL
from emosim.files import load_yaml_model
from emosim.schemas import ConversationRecord, CriticVerdict
from emosim.schemas.common import Identifier, StrictModel

HELDOUT = Path(__file__).parent / "data" / "critic_heldout.yaml"


class HeldoutCase(StrictModel):
    kind: Identifier = Field(
        description="Anti-pattern or boundary committed, or what is exercised."
    )
    text: str = Field(min_length=1, description="The draft.")


class HeldoutSet(StrictModel):
    version: str
    bad: list[HeldoutCase] = Field(min_length=60, description="Drafts a sound critic rejects.")
    good: list[HeldoutCase] = Field(min_length=60, description="Replies it accepts.")


@pytest.fixture(scope="module")
def critic(catalog: Catalog) -> RuleCritic:
    return RuleCritic(catalog)


@pytest.fixture(scope="module")
def observer(catalog: Catalog) -> LexiconStrategyObserver:
    return LexiconStrategyObserver(catalog)


def judge(critic: RuleCritic, text: str, earlier: tuple[str, ...] = ()) -> CriticVerdict:
    transcript = [Line(speaker="advisor", text=t) for t in earlier]
    return critic.review(CriticInput(draft=text, observed=NEUTRAL, transcript=transcript))


def rejects(critic: RuleCritic, text: str, earlier: tuple[str, ...] = ()) -> bool:
    return not judge(critic, text, earlier).accepted


# --- held-out set ---------------------------------------------------------------------------


def test_heldout_set_meets_issue_targets(critic: RuleCritic) -> None:
    data = load_yaml_model(HELDOUT, HeldoutSet)
    missed = [c.text for c in data.bad if not rejects(critic, c.text)]
    false_rejects = [c.text for c in data.good if rejects(critic, c.text)]
    recall = 1 - len(missed) / len(data.bad)
    false_reject_rate = len(false_rejects) / len(data.good)
    assert recall >= 0.95, (recall, missed)
    assert false_reject_rate <= 0.05, (false_reject_rate, false_rejects)


# --- rule families --------------------------------------------------------------------------

JUDGMENT = [
    "Honestly, taking out that second loan was irresponsible.",
    "You really messed up the budget this year.",
    "If you had started saving at thirty, you wouldn't be stuck now.",
    "Most people would have paid this card off by now.",
    "It's disappointing that you let the balance grow for so long.",
]
KIND_ABOUT_THE_PAST = [
    "Making a mistake with money doesn't make you a failure; it makes you human.",
    "I wouldn't call that a mistake; it was the best call you could make with what you knew.",
    "Part of you feels it was a mistake, and that's a heavy thing to carry alone.",
]


@pytest.mark.parametrize("text", JUDGMENT)
def test_judgment_is_rejected(critic: RuleCritic, text: str) -> None:
    assert rejects(critic, text)


@pytest.mark.parametrize("text", KIND_ABOUT_THE_PAST)
def test_the_word_mistake_used_kindly_is_accepted(critic: RuleCritic, text: str) -> None:
    assert not rejects(critic, text)


@pytest.mark.parametrize(
    "text",
    [
        "I can guarantee this mix will beat inflation for you.",
        "Your savings will grow every single year, no doubt about it.",
        "The gains on this account are locked in for you.",
        "Bonds never lose value, so this part is safe.",
        "This fund will pay you a solid 6% a year.",
    ],
)
def test_guarantees_are_rejected_as_compliance_blockers(critic: RuleCritic, text: str) -> None:
    verdict = judge(critic, text)
    assert not verdict.accepted
    assert any(f.severity == "blocker" for f in verdict.findings), verdict.findings


@pytest.mark.parametrize(
    "text",
    [
        "No one can promise your money will grow, and past results don't predict future ones.",
        "Nobody knows whether rates will drop next year, so let's plan for either case.",
        "There's no such thing as a risk-free investment, which is why we talk about ranges.",
    ],
)
def test_honest_uncertainty_is_accepted(critic: RuleCritic, text: str) -> None:
    assert not rejects(critic, text)


def test_elenas_own_glossary_passes_her_rules(critic: RuleCritic, catalog: Catalog) -> None:
    """Every plain-language definition she teaches with must pass her own rules: "only for a
    limited time" in the balance-transfer gloss once read as sales pressure."""
    flagged = {}
    for topic in catalog.topics.values():
        for term, gloss in topic.key_terms.items():
            draft = f"That's a fair question to ask. {term[0].upper() + term[1:]} is {gloss}."
            findings = [f.code for f in judge(critic, draft).findings]
            if set(findings) - {"unexplained_jargon"}:
                flagged[term] = findings
    assert not flagged


@pytest.mark.parametrize(
    "text",
    [
        "I'd put some of the bonus into Nvidia.",
        "Vanguard's Total Bond fund is a fine choice for this.",
        "Consider moving the old 401(k) money into FSKAX.",
        "Maybe buy a little Solana with what's left over.",
        "A stake in Costco would round out what you already own.",
    ],
)
def test_named_securities_are_rejected(critic: RuleCritic, text: str) -> None:
    assert rejects(critic, text)


@pytest.mark.parametrize(
    "text",
    [
        "Many people hold broad, low-cost funds inside their Roth IRA for the long haul.",
        "Some people put money into Treasuries or CDs when they need it within a few years.",
        "You could move the old account into a Roth IRA, and a CPA can tell you how that's taxed.",
    ],
)
def test_products_named_generically_are_accepted(critic: RuleCritic, text: str) -> None:
    assert not rejects(critic, text)


@pytest.mark.parametrize(
    "text",
    [
        "Let's start with your liquidity and see where that leaves us.",
        "The probate part is usually what slows things down.",
        "The basic idea behind a QDRO is simpler than it sounds.",
    ],
)
def test_unexplained_jargon_is_rejected(critic: RuleCritic, text: str) -> None:
    verdict = judge(critic, text)
    assert [f.code for f in verdict.findings if f.severity == "major"] == ["unexplained_jargon"]


@pytest.mark.parametrize(
    "text",
    [
        # the explanation before the term
        "The money you could reach quickly without losing value, what planners call liquidity, "
        "matters here.",
        # an appositive after it
        "Your vesting, the schedule for when employer money becomes fully yours, matters if you "
        "leave.",
        "Think of rebalancing as a tune-up that brings your mix back to where you set it.",
        "APR just means the yearly cost of borrowing, fees included.",
        "When lenders mention your debt-to-income ratio, they mean your monthly debt payments "
        "compared with your income.",
        # the term as a topic offered, not used
        "I can explain how an annuity works if that would help.",
        # the client's own words, quoted back
        'You said "the annuity guy" kept pushing you, and that sounds exhausting.',
    ],
)
def test_explained_jargon_is_accepted(critic: RuleCritic, text: str) -> None:
    assert not rejects(critic, text)


def test_jargon_explained_earlier_in_the_conversation_may_be_reused(critic: RuleCritic) -> None:
    later = "Once the escrow changes, your monthly payment will move with it."
    taught = "With escrow, your lender collects a bit extra each month to pay your property taxes."
    offered = "I can explain how escrow works whenever you like."
    assert rejects(critic, later)
    assert not rejects(critic, later, earlier=(taught,))
    # offering to explain is fine in its turn, but it did not teach the term
    assert rejects(critic, later, earlier=(offered,))


@pytest.mark.parametrize(
    "text",
    [
        "Let's set your worries aside and look at the budget.",
        "How you feel about the loan doesn't change the numbers.",
        "We can skip the history and go straight to the plan.",
        "Okay, enough about your brother; back to the numbers.",
    ],
)
def test_dismissal_is_rejected(critic: RuleCritic, text: str) -> None:
    assert rejects(critic, text)


@pytest.mark.parametrize(
    "text",
    [
        "Before we get to the numbers, how are you holding up?",
        "We don't need to get into the tax details today; that part is for your CPA.",
        "Take all the time you need to decide; there's no deadline here.",
        "If you need to pause and talk it over with your partner, that's completely fine.",
        "I just want to check that I understood you correctly.",
    ],
)
def test_sound_replies_with_cue_words_are_accepted(critic: RuleCritic, text: str) -> None:
    assert not rejects(critic, text)


def test_commands_in_a_main_clause_are_still_premature_advice(critic: RuleCritic) -> None:
    verdict = judge(critic, "You need to cancel those cards this week and live on cash.")
    assert "premature_advice" in {f.code for f in verdict.findings}


def test_cue_strength_and_assertion() -> None:
    def hit(text: str) -> CueHit:
        return CueHit("x", text, 0, len(text))

    assert cue_weight(hit("just")) == 0.5  # an adverb needs company
    assert cue_weight(hit("irresponsible")) == 1.0  # a judgment word stands alone
    assert cue_weight(hit("dropped the ball")) == 1.0
    claim = "the market will recover"
    for frame, expected in [
        ("", True),
        ("Nobody can say whether ", False),
        ("Some people think ", False),
        ("If you sell now, ", True),  # a new clause after the comma is asserted
    ]:
        text = frame + claim
        assert asserted(text, len(frame)) is expected, text


# --- simulation health ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def batch(catalog: Catalog, root: Path, tmp_path_factory) -> list[ConversationRecord]:
    from emosim.graphs.runner import load_job, run_jobs

    jobs = [load_job(catalog, p, 5) for p in sorted((root / "simulations").glob("*.yaml"))]
    _, records = run_jobs(catalog, jobs, tmp_path_factory.mktemp("cq"), "scripted", "cq", "pytest")
    return records


def test_simulation_rejects_every_injected_draft_and_few_others(
    batch: list[ConversationRecord],
) -> None:
    turns = [t for r in batch for t in r.advisor_turns]
    drafts = [d for t in turns for d in t.rejected_drafts]
    injected = [d for d in drafts if d.anti_pattern]
    slipped = [t for t in turns if t.critic and t.critic.accepted and t.training_weight == 0]
    assert injected and not slipped
    sound_drafts = len(turns) - len(slipped) + sum(1 for d in drafts if not d.anti_pattern)
    rejected_sound = sum(1 for d in drafts if not d.anti_pattern)
    assert rejected_sound / sound_drafts <= 0.05


def test_observer_reading_of_elena_includes_her_planned_strategy(
    batch: list[ConversationRecord],
) -> None:
    # a goodbye carries no strategy plan worth reading: replies before the last
    turns = [
        t for r in batch for t in r.advisor_turns[:-1] if t.intended_strategies and t.strategies
    ]
    found = sum(
        t.intended_strategies.primary in [t.strategies.primary, *t.strategies.combination]
        for t in turns
    )
    # answers from the answer bank and calculations carry no strategy cue phrase, so the
    # lexicon strategy observer misses some planned education (it read 95% when every
    # sentence was a cue-bearing template)
    assert found / len(turns) >= 0.7


# --- strategy observer frames ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "strategy"),
    [
        ("How has this week been for you?", "open_question"),
        ("whats been keeping you up at night", "open_question"),
        ("Your landlord raised the rent again?", "paraphrase"),
        ("Just to make sure, the loan is in both your names.", "paraphrase"),
        ("I can see how stressed you are about the move.", "reflection_of_feelings"),
        ("You must be exhausted after a week like that.", "reflection_of_feelings"),
        ("I went through a layoff two years ago, and the waiting was the worst part.",
         "limited_self_disclosure"),
        ("Have you looked into a payment plan with the hospital?", "permission_based_suggestion"),
        ("Maybe you could ask the hospital for an itemized bill.", "permission_based_suggestion"),
        ("I'm sure you will find your footing again.", "honest_reassurance"),
        ("I'm so glad you reached out today.", "affirmation"),
        ("I'm so sorry, that is a lot to carry.", "empathic_validation"),
    ],
)  # fmt: skip
def test_strategy_frames(observer: LexiconStrategyObserver, text: str, strategy: str) -> None:
    assert observer.observe(text).primary == strategy


def test_cues_outrank_frames_and_each_sentence_votes_once(
    observer: LexiconStrategyObserver,
) -> None:
    # a taxonomy cue names the sentence even when a frame would read it otherwise
    assert observer.observe("It sounds like you're torn. Is that fair?").primary == (
        "reflection_of_feelings"
    )
    # a long cue phrase does not outvote an earlier sentence: the reply leads with validation
    reply = "It makes sense that you feel that way. Would it be okay if I shared one idea?"
    use = observer.observe(reply)
    assert use.primary == "empathic_validation"
    assert "permission_based_suggestion" in use.combination
    # a short acknowledgement votes half, so the move after it leads
    assert observer.observe("I see. Have you looked into a payment plan?").primary == (
        "permission_based_suggestion"
    )


def test_pleasantries_carry_no_strategy(observer: LexiconStrategyObserver) -> None:
    assert observer.scores("Hi there! Thanks so much for reaching out.") == {}
    assert observer.observe("Hello! How may I help you today?").primary == "open_question"


def test_literal_prefilter_is_a_necessary_condition() -> None:
    """Skipping a regex must never change what the critic finds."""
    import re

    from emosim.agents.scripted.prefilter import could_match, required_literals

    rx = re.compile(r"\b(guarantee|promise)d?\b", re.IGNORECASE)
    assert not could_match(rx, "Nothing here is certain, and that's okay.")
    assert could_match(rx, "I GUARANTEE it")  # case-folded
    dotless = "I will prom\u0131se"  # `re` matches the dotless ı to "i" under IGNORECASE
    assert rx.search(dotless) and could_match(rx, dotless)
    needs_both = re.compile(r"\b(set|put)\b[^.]{0,20}\baside\b", re.IGNORECASE)
    assert not could_match(needs_both, "Let's set up a budget.")  # "aside" missing
    assert could_match(needs_both, "Let's put that aside.")
    either = re.compile(r"\bact now\b|\bdon't (wait|delay)\b", re.IGNORECASE)
    assert [[{lit.text for lit in g} for g in alt] for alt in required_literals(either)] == [
        [{"act now"}],
        [{"don't wait", "don't delay"}],  # one run takes in the alternatives
    ]
    assert not could_match(either, "Take the time you need, there is no rush to wait.")
    ticker = re.compile(r"\b[A-Z]{4}X\b")  # case-sensitive: the capital "X" is a literal
    assert not could_match(ticker, "no tickers") and not could_match(ticker, "vtsax")
    assert could_match(ticker, "Buy VTSAX.")
    opaque = re.compile(r"\b[a-z]{4}x\b", re.IGNORECASE)  # no literal: never skipped
    assert required_literals(opaque) == () and could_match(opaque, "no tickers")


def test_prefilter_never_skips_a_pattern_that_matches(critic: RuleCritic) -> None:
    """Every persona pattern against every held-out draft and sentence-sized pieces of it."""
    from emosim.agents.scripted.prefilter import could_match

    held = load_yaml_model(HELDOUT, HeldoutSet)
    texts = [c.text for c in [*held.bad, *held.good]]
    texts += [t[i:] for t in texts for i in range(0, len(t), 7)]
    regexes = [rx for _, rx, _ in critic.patterns]
    regexes += [rx for _, group, _ in critic.boundaries for rx in group]
    skipped = 0
    for rx in regexes:
        for text in texts:
            if not could_match(rx, text):
                skipped += 1
                assert rx.search(text) is None, (rx.pattern, text)
    assert skipped > 0.8 * len(regexes) * len(texts)  # it does skip most of the work
