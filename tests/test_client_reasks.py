"""A client asks again only when Elena did not answer: a reply holding the answer bank's
answer to the question takes it up (in whatever words), one that only meets the feeling or
answers another question does not, and the client's next message follows the reading."""

from __future__ import annotations

import random

import pytest

from emosim.agents.backends import scripted_template_paths
from emosim.agents.bank_answers import answer_bank, asked_part, holds
from emosim.agents.messages import ClientInput, Line
from emosim.agents.reading import read_reply
from emosim.agents.scripted.client import ScriptedClient
from emosim.agents.scripted.material import load_client_material
from emosim.agents.scripted.templates import ClientTemplates
from emosim.agents.scripted.text import expand
from emosim.files import load_yaml_model
from emosim.schemas.grounding import ReplyReading
from emosim.schemas.record import EmotionalState

# asked in other words than its answer: the word rule alone read the answer as a dodge
SAVINGS = "How do I make savings last until the next paycheck comes?"
DEBT = "How much student debt is reasonable to take on?"
FEELING_ONLY = "Thank you for saying how this feels; it makes sense with what you're facing."


@pytest.fixture(scope="module")
def bank(catalog):
    found = answer_bank(catalog)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def client(catalog) -> ScriptedClient:
    return ScriptedClient(
        catalog,
        load_yaml_model(scripted_template_paths(catalog)["client"], ClientTemplates),
        load_client_material(catalog),
    )


@pytest.mark.parametrize(
    ("question", "topic"), [(SAVINGS, "career_transition"), (DEBT, "college_savings")]
)
def test_a_reply_holding_the_bank_answer_has_answered(bank, catalog, question, topic) -> None:
    assert topic in catalog.topics
    answers = bank.answers_to(question, topic)
    assert len(answers) >= 2
    for seed, answer in enumerate(answers):
        said = expand(answer, random.Random(seed))
        reply = f"{FEELING_ONLY} {said} Would it help to look at your numbers?"
        assert read_reply(question, reply, answers=answers).answered is True, said
        # asked again behind a lead-in, the same answer is found
        again = f"Let me try again, because I'm still in the dark: {question}"
        assert read_reply(again, reply, answers=bank.answers_to(again, topic)).answered is True


def test_a_dodge_is_still_a_dodge(bank) -> None:
    """Meeting only the feeling, or giving the answer to another question, is not an answer."""
    answers = bank.answers_to(SAVINGS, "career_transition")
    assert read_reply(SAVINGS, FEELING_ONLY, answers=answers).answered is False
    other = bank.answers_to(DEBT, "college_savings")
    wrong = expand(other[0], random.Random(0))
    assert holds(f"{FEELING_ONLY} {wrong}", answers) is None
    assert read_reply(DEBT, FEELING_ONLY, answers=other).answered is False


def test_the_lead_in_of_a_repeated_question_is_not_asked() -> None:
    assert asked_part("Okay, but back to what I asked, please: Is renting wasteful?") == (
        "Is renting wasteful?"
    )
    assert asked_part(SAVINGS) == SAVINGS


def _state(catalog, emotion: str, intensity: float) -> EmotionalState:
    return catalog.emotional_state(emotion, intensity)


def _next_message(client: ScriptedClient, catalog, reply: str, reading, why: str, seed: int):
    persona = catalog.clients["daniel_nakamura"]
    topic = catalog.topics["career_transition"]
    request = ClientInput(
        persona=persona,
        topic=topic.id,
        subcategory=topic.subcategories[0].id,
        situation="test",
        hidden_state=_state(catalog, "worry", 0.5),
        transcript=[Line(speaker="client", text=SAVINGS), Line(speaker="advisor", text=reply)],
        exchange=3,
        exchanges=8,
        movement="advanced" if why == "answered" else "stalled",
        why=why,
        reading=reading,
        situation_told=[],
    )
    return client.speak(request, seed=seed).text


def test_the_client_follows_the_reading_both_ways(bank, client, catalog) -> None:
    """Answered: the question is not asked again. Dodged: it is, or the client pushes back."""
    answers = bank.answers_to(SAVINGS, "career_transition")
    answered = f"{FEELING_ONLY} {expand(answers[0], random.Random(1))}"
    dodged = FEELING_ONLY
    yes = read_reply(SAVINGS, answered, answers=answers)
    no = read_reply(SAVINGS, dodged, answers=answers)
    assert (yes.answered, no.answered) == (True, False)
    core = "make savings last until the next paycheck"
    for seed in range(30):
        after_answer = _next_message(client, catalog, answered, yes, "answered", seed)
        assert core not in after_answer.lower(), after_answer
        after_dodge = _next_message(client, catalog, dodged, no, "unanswered", seed)
        assert core in after_dodge.lower() or "?" in after_dodge, after_dodge


def test_generated_replies_with_the_bank_answer_are_not_asked_again(catalog, root, tmp_path):
    """In whole conversations: whenever Elena's reply holds the bank's answer to the question,
    the reading says answered and the client's next message does not ask it again."""
    from emosim.agents.reading import last_question
    from emosim.graphs.runner import load_job, run_jobs

    bank = answer_bank(catalog)
    paths = sorted((root / "simulations").glob("*.yaml"))[:6]
    jobs = [load_job(catalog, path, 5) for path in paths]
    _, records = run_jobs(catalog, jobs, tmp_path, "scripted", label="t", command="pytest")
    checked = 0
    for record in records:
        turns = record.turns
        for i, turn in enumerate(turns[1:-1], start=1):
            if turn.speaker != "advisor" or turns[i - 1].speaker != "client":
                continue
            question = last_question(turns[i - 1].text)
            if question is None:
                continue
            answers = bank.answers_to(question, record.scenario.topic)
            if not holds(turn.text, answers):
                continue
            checked += 1
            assert isinstance(turn.reading, ReplyReading)
            assert turn.reading.answered is True, (question, turn.text)
            asked = asked_part(question).lower()
            assert asked not in turns[i + 1].text.lower(), (question, turns[i + 1].text)
    assert checked >= 5
