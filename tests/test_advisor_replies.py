"""What Elena says in a reply reads true to the conversation: no term explained that nobody
asked about or used, no paraphrase of a want the client never voiced, and no vetted fact
about something other than the question opening the reply."""

from __future__ import annotations

import random

import pytest

from emosim.agents.backends import load_advisor_templates
from emosim.agents.messages import AdvisorInput
from emosim.agents.scripted.advisor import ScriptedAdvisor
from emosim.catalog import Catalog

SEEDS = range(30)


@pytest.fixture(scope="module")
def advisor(catalog: Catalog) -> ScriptedAdvisor:
    return ScriptedAdvisor(catalog, load_advisor_templates(catalog), anti_pattern_rate=0.0)


def _request(catalog: Catalog, topic_id: str, text: str, **extra: object) -> AdvisorInput:
    topic = catalog.topics[topic_id]
    return AdvisorInput.model_validate(
        {
            "client_name": "Dana Lee",
            "topic": topic_id,
            "subcategory": topic.subcategories[0].id,
            "transcript": [{"speaker": "client", "text": text}],
            "observed": {
                "primary": "curiosity",
                "family": "surprise",
                "intensity": 0.5,
                "intensity_level": "medium",
                "confidence": 0.5,
                "observer": "test",
            },
            "exchange": 2,
            "exchanges": 6,
            "attempt": 2,
            **extra,
        }
    )


MESSAGES = (
    ("divorce", "Greg had every password and I keep finding accounts. It's just a lot."),
    ("investing_basics", "I feel taken, and I have not told Linda what it is costing us."),
    ("retirement_planning", "We've got $40,000 saved and I'm 58. My husband says we'll be fine."),
    ("debt_management", "I owe $9,500 on two cards and the minimums eat my paycheck."),
)


@pytest.mark.parametrize(("topic", "text"), MESSAGES)
def test_no_term_is_explained_that_nobody_asked_about(
    advisor: ScriptedAdvisor, catalog: Catalog, topic: str, text: str
) -> None:
    """A key term's plain meaning is said only when the client asked about it or used it
    (3-4 of 40 replies explained a random term of the topic: 'separate property' to a client
    asking how to clear a card balance)."""
    glosses = {t: g.rstrip(".") for t, g in catalog.topics[topic].key_terms.items()}
    for seed in SEEDS:
        reply = advisor.draft(_request(catalog, topic, text), seed=seed).text
        explained = [t for t, g in glosses.items() if g in reply]
        assert not explained, (seed, reply)
    # asked about, the term is explained
    term, gloss = next(iter(glosses.items()))
    asked = _request(catalog, topic, f"What does {term} mean?")
    assert gloss in advisor.draft(asked, seed=1).text


def test_a_paraphrase_says_back_what_the_client_said(
    advisor: ScriptedAdvisor, catalog: Catalog
) -> None:
    """Asked to paraphrase (a candidate reply's given approach), Elena says back the client's
    own fact or words, or nothing of the kind: never a want nobody voiced ("What I'm hearing
    is that you'd like to understand your options")."""
    text = "Honestly I don't even know what to think about any of it anymore."
    told = "my brother stopped paying his half of mom's rent"
    said_back = 0
    for seed in SEEDS:
        for facts in ([], [told]):
            request = _request(
                catalog,
                "caring_for_parents",
                text,
                lead_strategy="paraphrase",
                shared_facts=facts,
            )
            for sentence in advisor.draft(request, seed=seed).sentences:
                if sentence.strategy == "paraphrase":
                    assert told in sentence.text, (seed, facts, sentence.text)
                    said_back += 1
    assert said_back >= len(SEEDS) // 2  # told a fact, it is said back


@pytest.mark.parametrize(
    ("topic", "question", "fact_words"),
    [
        (
            "investing_basics",
            "Where would I find out what an investment account is charging in fees?",
            None,
        ),
        ("divorce", "Can a former spouse's debts show up on my credit report?", None),
        (
            "healthcare_costs",
            "How do I compare health plans beyond just the monthly premium?",
            None,
        ),
        ("social_security", "Is Social Security even going to be there for me?", None),
        ("emergency_fund", "How much should I actually have in an emergency fund?", "three to six"),
        ("tax_planning", "How does an IRS payment plan work?", "IRS"),
        ("career_transition", "What do I do about health insurance between jobs?", "COBRA"),
    ],
)
def test_a_vetted_fact_is_about_what_is_asked(
    advisor: ScriptedAdvisor, catalog: Catalog, topic: str, question: str, fact_words: str | None
) -> None:
    """A fact of the fact base opens a reply only when it is about what the question asks:
    an account's fees do not get the SIPC fact, a credit report question does not get the
    ex-spouse Social Security fact; a fact that answers the question still comes."""
    request = _request(catalog, topic, question)
    found = advisor._vetted(request, random.Random(0), question, "")
    if fact_words is None:
        assert found is None, found
    else:
        assert found is not None and fact_words in found["text"], found


def test_the_answer_follows_the_question_and_the_calculation_backs_it_up(
    advisor: ScriptedAdvisor, catalog: Catalog
) -> None:
    """A client's figures and a question in one turn: the answer comes before the
    calculation, so "It often comes up in midlife..." follows the question it answers, not
    "$1,140 more over a year"."""
    from emosim.grounding.numbers import numbers_block
    from emosim.grounding.observer import RuleFactObserver

    text = (
        "My long-term care premium is going up from $190 to $285 a month, and I am not sure "
        "I can keep paying it. When do people usually start thinking about long-term care "
        "coverage?"
    )
    facts = RuleFactObserver().observe(text, 0).facts
    numbers = numbers_block(facts)
    assert facts and any(n.summary for n in numbers)
    both = 0
    for seed in SEEDS:
        request = _request(
            catalog,
            "insurance_planning",
            text,
            facts=[f.model_dump() for f in facts],
            numbers=[n.model_dump() for n in numbers],
        )
        sentences = advisor.draft(request, seed=seed).sentences
        calc = [i for i, s in enumerate(sentences) if "$95" in s.text or "$1,140" in s.text]
        answer = [i for i, s in enumerate(sentences) if "midlife" in s.text]
        if calc and answer:
            both += 1
            assert answer[0] < calc[0], [s.text for s in sentences]
    assert both >= 5  # the answer has other wordings; enough replies hold both


def test_an_answer_after_the_clients_facts_points_back_to_the_question(
    advisor: ScriptedAdvisor, catalog: Catalog
) -> None:
    """ "He left you $62,000. Usually not, since..." read as if "usually not" answered the
    figure: after the client's facts are said back, an answer leaning on the question points
    back to it ("As for your question, usually not, ...")."""
    from emosim.grounding.observer import RuleFactObserver

    text = (
        "My estranged father died and left me $62,000. Do I need a lot of money before it "
        "makes sense to start investing?"
    )
    facts = RuleFactObserver().observe(text, 0).facts
    seen = 0
    for seed in SEEDS:
        request = _request(catalog, "investing_basics", text, facts=[f.model_dump() for f in facts])
        sentences = [s.text for s in advisor.draft(request, seed=seed).sentences]
        told = next((i for i, s in enumerate(sentences) if "$62,000" in s), None)
        if told is None or told + 1 >= len(sentences):
            continue
        answer = sentences[told + 1]
        if "minimums" in answer or "fractional" in answer:
            seen += 1
            assert answer.lower().startswith(("as for", "on your", "to your")), sentences
    assert seen >= 5


@pytest.mark.parametrize(
    ("topic", "question"),
    [
        ("tax_planning", "What's marginal tax rate, for someone who isn't a money person?"),
        (
            "retirement_planning",
            "Could you put required minimum distribution in everyday language for me?",
        ),
    ],
)
def test_a_term_asked_about_is_defined_before_a_fact_about_it(
    advisor: ScriptedAdvisor, catalog: Catalog, topic: str, question: str
) -> None:
    """ "What's marginal tax rate?" got "One fact that helps here: Federal income tax has
    seven brackets..." before the plain meaning of the term: the definition answers, so it
    comes first and the fact backs it up."""
    glosses = {t.lower(): g.rstrip(".")[:24] for t, g in catalog.topics[topic].key_terms.items()}
    both = 0
    for seed in SEEDS:
        sentences = [
            s.text for s in advisor.draft(_request(catalog, topic, question), seed=seed).sentences
        ]
        fact = [
            i
            for i, s in enumerate(sentences)
            if s[:1].isupper() and ": " in s and any(c.isdigit() for c in s)
        ]
        defined = [i for i, s in enumerate(sentences) if any(g in s for g in glosses.values())]
        if fact and defined:
            both += 1
            assert defined[0] < fact[0], sentences
    assert both >= 5


def test_a_term_half_named_is_not_the_term_asked_about(advisor: ScriptedAdvisor) -> None:
    """ "What are my options with inherited property?" is not a question about an inherited
    IRA (one word of its name): it got the IRA's plain meaning."""
    about = advisor._topic_terms("inheritance").about
    assert about("What are my options with inherited property for someone like me?", "") is None
    assert about("How does an inherited IRA work?", "") == "inherited IRA"
    # words of a gloss alone name no term: "...sometimes called alimony" is not "make this call"
    divorce = advisor._topic_terms("divorce").about
    assert divorce("How do other people in my position make this call?", "") is None


def test_a_term_explained_and_said_back_is_not_explained_again(
    advisor: ScriptedAdvisor, catalog: Catalog
) -> None:
    """ "So separate property? Simple enough." after Elena explained it is the client taking
    it in: not explained a second time. Asked what it means again, it is."""
    term, gloss = "separate property", catalog.topics["divorce"].key_terms["separate property"]
    before = f'In plain language, "{term}" means {gloss}'
    for text, again in (
        ("So separate property? Simple enough. I take home about $2,900 a month.", False),
        ("Sorry, what does separate property mean again?", True),
    ):
        for seed in range(10):
            request = AdvisorInput.model_validate(
                {
                    **_request(catalog, "divorce", text).model_dump(),
                    "transcript": [
                        {"speaker": "client", "text": "What is separate property?"},
                        {"speaker": "advisor", "text": before},
                        {"speaker": "client", "text": text},
                    ],
                }
            )
            reply = advisor.draft(request, seed=seed).text
            assert (gloss.rstrip(".")[:24] in reply) == again, (text, reply)


def test_a_told_fact_said_back_mid_sentence_is_not_capitalised(
    advisor: ScriptedAdvisor, catalog: Catalog
) -> None:
    """ "If I'm following, When you file your taxes you usually get back around $4,000."
    read as a broken sentence: a clause word at the start of what the client told is lower
    case when Elena says it back after her lead-in; a name keeps its capital."""
    from emosim.grounding.observer import RuleFactObserver

    for told, start in (
        ("When I file my taxes I usually get back around $4,000.", "when you file"),
        ("About $84,000 came in last year.", "about $84,000"),
        ("Saul left about $1.4 million in his IRA.", "Saul left"),
    ):
        facts = RuleFactObserver().observe(told, 0).facts
        said = 0
        for seed in range(12):
            request = _request(catalog, "tax_planning", told, facts=[f.model_dump() for f in facts])
            for sentence in advisor.draft(request, seed=seed).sentences:
                if (
                    sentence.function == "reflect_content"
                    and start.lower() in sentence.text.lower()
                ):
                    said += 1
                    assert start in sentence.text, sentence.text
        assert said, told
