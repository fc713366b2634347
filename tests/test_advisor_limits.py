"""The scripted advisor's answer parts: a term asked about is defined, whatever topic it
belongs to; a question asked again that the answers do not cover gets a plain statement of
what Elena cannot say yet, what she can, and the next step (agents/scripted/limits.yaml)."""

from __future__ import annotations

import re

import pytest

from emosim.agents.backends import load_advisor_templates
from emosim.agents.messages import AdvisorInput
from emosim.agents.scripted.advisor import ScriptedAdvisor
from emosim.agents.scripted.limits import LimitsFile, indirect
from emosim.catalog import Catalog
from emosim.files import DataError, load_yaml_model
from emosim.schemas.grounding import OpenQuestion


@pytest.fixture(scope="module")
def advisor(catalog: Catalog) -> ScriptedAdvisor:
    return ScriptedAdvisor(catalog, load_advisor_templates(catalog), anti_pattern_rate=0.0)


def _request(
    catalog: Catalog,
    topic_id: str,
    lines: list[tuple[str, str]],
    open_questions: list[OpenQuestion] = (),
    exchange: int = 2,
) -> AdvisorInput:
    topic = catalog.topics[topic_id]
    return AdvisorInput.model_validate(
        {
            "client_name": "Dana Lee",
            "topic": topic_id,
            "subcategory": topic.subcategories[0].id,
            "transcript": [{"speaker": s, "text": t} for s, t in lines],
            "observed": {
                "primary": "curiosity",
                "family": "surprise",
                "intensity": 0.5,
                "intensity_level": "medium",
                "confidence": 0.5,
                "observer": "test",
            },
            "open_questions": [q.model_dump() for q in open_questions],
            "exchange": exchange,
            "exchanges": 6,
            "attempt": 2,
        }
    )


WAYS = (
    "What's an {t}?",
    "what does {t} mean",
    "Sorry, what is {t} exactly?",
    "I keep hearing about {t}. What is that?",
    "Can you tell me what {t} means?",
)


def test_a_term_of_another_topic_asked_about_is_defined(
    advisor: ScriptedAdvisor, catalog: Catalog
) -> None:
    """ "What's an expense ratio?" in a retirement conversation: the reply holds the term's
    plain gloss (it was answered with a generic question before)."""
    topics = list(catalog.topics.values())
    asked = 0
    for k, topic in enumerate(topics):
        other = topics[(k + 3) % len(topics)]
        for term, gloss in list(other.key_terms.items())[:2]:
            if term in topic.key_terms:
                continue
            text = WAYS[asked % len(WAYS)].format(t=term)
            draft = advisor.draft(_request(catalog, topic.id, [("client", text)]), seed=asked)
            assert any(gloss.rstrip(".") in s.text for s in draft.sentences), (
                topic.id,
                text,
                draft.text,
            )
            asked += 1
    assert asked >= 25
    draft = advisor.draft(
        _request(catalog, "retirement_planning", [("client", "What's an expense ratio?")]), seed=1
    )
    assert "expense ratio" in draft.text and "fund" in draft.text, draft.text


def test_a_term_merely_mentioned_in_another_topic_is_not_explained(
    advisor: ScriptedAdvisor, catalog: Catalog
) -> None:
    """Only a question about what a term means brings another topic's term in."""
    text = "My sister keeps talking about her expense ratio. How do I catch up on retirement?"
    draft = advisor.draft(_request(catalog, "retirement_planning", [("client", text)]), seed=3)
    gloss = catalog.topics["investing_basics"].key_terms["expense ratio"].rstrip(".")
    assert gloss not in draft.text


def _asked_three_times(question: str) -> tuple[list[tuple[str, str]], list[OpenQuestion]]:
    again = f"Maybe I wasn't clear, so let me ask again: {question}"
    third = f"Sorry to push, but that's not quite what I asked, so here it is again: {question}"
    lines = [
        ("client", question),
        ("advisor", "That's a fair thing to wonder about. What matters most to you here?"),
        ("client", again),
        ("advisor", "It helps to take this one step at a time. How are you feeling about it?"),
        ("client", third),
    ]
    asked = [OpenQuestion(turn=0, text=question), OpenQuestion(turn=2, text=again)]
    return lines, [*asked, OpenQuestion(turn=4, text=third)]


@pytest.mark.parametrize(
    ("topic", "question", "named"),
    [
        (
            "retirement_planning",
            "Can I retire in Portugal on a U.S. pension?",
            "whether you can retire in Portugal on a U.S. pension",
        ),
        (
            "debt_management",
            "Will the collector sue me if I stop paying for two months?",
            '"Will the collector sue me if I stop paying for two months?"',
        ),
    ],
)
def test_a_third_ask_of_an_unanswered_question_gets_a_plain_answer(
    advisor: ScriptedAdvisor, catalog: Catalog, topic: str, question: str, named: str
) -> None:
    """Asked a third time, a question the answers do not cover: Elena names it, says plainly
    she cannot answer it yet and what she can say, and offers the next step; no question."""
    lines, asked = _asked_three_times(question)
    for seed in range(4):
        draft = advisor.draft(_request(catalog, topic, lines, asked, exchange=3), seed=seed)
        text = draft.text
        assert "?" not in text.replace(named, ""), text
        assert named in text, text
        functions = [s.function for s in draft.sentences]
        assert functions == ["state_boundary", "explain_concept", "invite_next_step"], text
        assert any(w in text for w in ("don't know", "can't")), text
        assert draft.strategies.primary == "honest_reassurance"
    # asked once, the same question gets an ordinary reply (no limits statement)
    first = advisor.draft(_request(catalog, topic, lines[:1], asked[:1]), seed=0)
    assert named not in first.text


def test_a_question_the_answers_cover_is_answered_when_asked_again(
    advisor: ScriptedAdvisor, catalog: Catalog
) -> None:
    question = "How much should I actually have in an emergency fund?"
    lines, asked = _asked_three_times(question)
    draft = advisor.draft(_request(catalog, "emergency_fund", lines, asked, exchange=3), seed=2)
    assert "state_boundary" not in [s.function for s in draft.sentences], draft.text


def test_questions_are_named_indirectly_or_quoted() -> None:
    assert indirect("Should I sell the house?") == "whether you should sell the house"
    assert indirect("Is it too late?") == "whether it is too late"
    assert indirect("Am I too old for this?") == "whether you are too old for this"
    assert indirect("Can we afford my mom's care?") == "whether you can afford your mom's care"
    assert indirect("How much will it cost us?") == 'your question, "How much will it cost us?",'


def test_limit_lines_with_an_unknown_slot_are_an_error(tmp_path) -> None:
    path = tmp_path / "limits.yaml"
    path.write_text(
        'version: "1"\nadmit: ["I cannot say {asked} yet."]\ncan_say: ["It depends on {fund}."]\n'
        'next_step: ["Bring your papers."]\n'
    )
    with pytest.raises(DataError) as err:
        load_yaml_model(path, LimitsFile)
    assert "limits.yaml" in str(err.value) and "fund" in str(err.value)
    path.write_text(
        'version: "1"\nadmit: ["I cannot say yet."]\ncan_say: ["It depends."]\n'
        'next_step: ["Bring your papers."]\n'
    )
    with pytest.raises(DataError) as err:
        load_yaml_model(path, LimitsFile)
    assert "{asked}" in str(err.value)


def test_a_term_asked_with_another_question_is_still_defined(
    advisor: ScriptedAdvisor, catalog: Catalog
) -> None:
    """ "What's an expense ratio, and what counts as high?": whichever answer is drawn, the
    reply says what an expense ratio is."""
    gloss = catalog.topics["investing_basics"].key_terms["expense ratio"].rstrip(".")
    text = "The charges come to 2.9% a year. What's an expense ratio, and what counts as high?"
    for seed in range(6):
        draft = advisor.draft(_request(catalog, "investing_basics", [("client", text)]), seed=seed)
        assert gloss in draft.text or "yearly fee a fund charges" in draft.text, draft.text


def test_a_term_only_mentioned_does_not_take_the_questions_place(
    advisor: ScriptedAdvisor, catalog: Catalog
) -> None:
    text = "I'm seething over the compound growth thing, this is theft! What questions should I be asking?"
    answer = advisor._answer("What questions should I even be asking here?")
    assert answer is not None
    for seed in range(4):
        draft = advisor.draft(_request(catalog, "investing_basics", [("client", text)]), seed=seed)
        # the longest literal part of each answer (its [a|b] choices aside) is in the reply
        parts = [max(re.split(r"\[[^\]]*\]", r.source.text), key=len) for r in answer.replies]
        assert any(p.strip(" ,.") in draft.text for p in parts), draft.text
        assert "growth that builds on earlier growth" not in draft.text


def test_a_declined_question_is_not_answered_from_the_rest_of_its_message(
    advisor: ScriptedAdvisor,
) -> None:
    """A question with words of its own that the index declines does not take an answer
    matched on the whole message; a bare one ("Is that normal?") still reads its message."""
    own = "If I keep at it, how long until the $9,500 I owe is paid off?"
    message = "I keep thinking I should pull my money out when the market keeps dropping. " + own
    assert advisor._index.match(message, "investing_basics") is not None  # the trap is real
    assert advisor._answer(own, "investing_basics", message) is None
    bare = "Should I pull my money out when the market keeps dropping? Is that normal?"
    assert advisor._answer("Is that normal?", "investing_basics", bare) is not None
