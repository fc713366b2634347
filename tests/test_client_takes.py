"""A client takes a reply in their own life's words (client_lives.yaml `heard`, `answered`)
more often than in a line any client could say, never when the reply missed; and a question
about their own figures asks how long their savings last, not a price they quoted."""

from __future__ import annotations

import random

import pytest

from emosim.agents.backends import scripted_template_paths
from emosim.agents.messages import ClientInput, Line
from emosim.agents.scripted.client import ScriptedClient
from emosim.agents.scripted.material import load_client_material
from emosim.agents.scripted.templates import ClientTemplates, expansions
from emosim.files import load_yaml_model
from emosim.schemas.grounding import ReplyReading
from emosim.schemas.record import EmotionalState


@pytest.fixture(scope="module")
def client(catalog) -> ScriptedClient:
    return ScriptedClient(
        catalog,
        load_yaml_model(scripted_template_paths(catalog)["client"], ClientTemplates),
        load_client_material(catalog),
    )


def _state(catalog, emotion: str, intensity: float) -> EmotionalState:
    return catalog.emotional_state(emotion, intensity)


def _request(catalog, persona_id: str, why: str, transcript: list[Line], **kw) -> ClientInput:
    persona = catalog.clients[persona_id]
    topic = catalog.topics[persona.topics[0]]
    return ClientInput(
        persona=persona,
        topic=topic.id,
        subcategory=topic.subcategories[0].id,
        situation="test",
        hidden_state=kw.pop("state", _state(catalog, "hope", 0.5)),
        transcript=transcript,
        exchange=4,
        exchanges=8,
        movement="advanced" if why in {"heard", "answered"} else "stalled",
        why=why,
        situation_told=kw.pop("told", []),
        **kw,
    )


def _takes(client: ScriptedClient, persona_id: str, category: str) -> set[str]:
    return {
        w.lower() for line in client.material.takes(persona_id, category) for w in expansions(line)
    }


@pytest.mark.parametrize("category", ["heard", "answered"])
def test_a_reply_that_landed_is_often_taken_in_the_persona_s_own_words(
    client, catalog, category
) -> None:
    transcript = [
        Line(speaker="client", text="I keep putting it off."),
        Line(speaker="advisor", text="It makes sense that this feels heavy right now."),
    ]
    for persona_id in ("cody_blevins", "nadia_haddad", "leilani_kahale"):
        own = _takes(client, persona_id, category)
        assert len(own) >= 8, persona_id
        hits = 0
        for seed in range(40):
            text = client.speak(_request(catalog, persona_id, category, transcript), seed=seed).text
            hits += any(text.lower().startswith(o) for o in own)
        assert 12 <= hits <= 36, (persona_id, category, hits)  # often, not always


def test_a_missed_question_is_never_taken_as_heard(client, catalog) -> None:
    question = "How do I make savings last until the next paycheck comes?"
    transcript = [
        Line(speaker="client", text=question),
        Line(speaker="advisor", text="It makes sense that this feels heavy right now."),
    ]
    reading = ReplyReading(question=question, answered=False)
    own = _takes(client, "cody_blevins", "heard") | _takes(client, "cody_blevins", "answered")
    for seed in range(30):
        request = _request(catalog, "cody_blevins", "unanswered", transcript, reading=reading)
        text = client.speak(request, seed=seed).text.lower()
        assert not any(o in text for o in own), text


def _figure_questions(client, catalog, told: list[str]) -> list[str]:
    asked = []
    for seed in range(60):
        request = _request(
            catalog,
            "gloria_washington",
            "generic",
            [Line(speaker="client", text=" ".join(told)), Line(speaker="advisor", text="I see.")],
            told=told,
            state=_state(catalog, "worry", 0.5),
        )
        question = client._figure_question(request, random.Random(seed), "")
        if question:
            asked.append(question)
    return asked


def test_the_runway_question_asks_about_savings_not_a_quoted_price(client, catalog) -> None:
    """Gloria's premium "from $190 to $285 a month" is no savings to last ("how long would
    $190 last if $285 a month goes out?"); told her savings, she asks how long they last."""
    premium = "My premium is going up from $190 to $285 a month."
    assert _figure_questions(client, catalog, [premium]) == []
    savings = "My house is paid off, and I have about $64,000 in savings and CDs."
    asked = _figure_questions(client, catalog, [premium, savings])
    assert asked
    for question in asked:
        assert "$190" not in question and "$64,000" in question, question


def test_a_hard_feeling_after_a_reply_taken_well_turns_in_the_persona_s_words(
    client, catalog
) -> None:
    """ "Still, ..." in this person's words (personas/clients/*.yaml `contrasts`), never the
    shared lead-ins when the persona has their own."""
    shared = [c.lower() for c in client.material.reactions.contrast_lead_ins]
    own = [c.lower() for c in catalog.clients["cody_blevins"].speaking_style.contrasts]
    transcript = [
        Line(speaker="client", text="I keep putting it off."),
        Line(speaker="advisor", text="Many people start by listing what comes in and goes out."),
    ]
    shared_only = [c for c in shared if not any(o.startswith(c.rstrip(",")) for o in own)]
    turned = 0
    for seed in range(60):
        request = _request(
            catalog, "cody_blevins", "heard", transcript, state=_state(catalog, "shame", 0.6)
        )
        text = client.speak(request, seed=seed).text.lower()
        turned += any(f" {c}" in text or text.startswith(c) for c in own)
        assert not any(f". {c}" in text for c in shared_only), text
    assert turned >= 5


def test_what_a_persona_calls_it_once_it_has_been_named(client, catalog) -> None:
    """Once the topic has been named, "it" is what this person calls it ("this annuity
    business") more often than "all this"."""
    persona = catalog.clients["frank_russo"]
    topic = catalog.topics[persona.topics[0]]
    sub = topic.subcategories[0]
    said = f"{sub.phrase or sub.name} and {topic.phrase or topic.name}".lower()
    request = _request(catalog, "frank_russo", "heard", [])
    things = [client._thing(request, random.Random(seed), said) for seed in range(50)]
    own = set(client.material.calls_it("frank_russo"))
    assert own and sum(t in own for t in things) >= 25
    assert set(things) <= own | {"all this", "this whole thing", "all of it"}


def test_a_contrast_must_turn(catalog) -> None:
    from pydantic import ValidationError

    from emosim.schemas.persona import SpeakingStyle

    style = catalog.clients["cody_blevins"].speaking_style.model_dump()
    with pytest.raises(ValidationError, match="ends with a comma"):
        SpeakingStyle.model_validate({**style, "contrasts": ["Still"]})


def test_a_content_goodbye_is_often_the_persona_s_own(client, catalog) -> None:
    """A client who leaves content says goodbye in their own words about half the time (their
    sign_offs); one who leaves unconvinced never uses those warm ones."""
    persona = catalog.clients["leilani_kahale"]
    own = {s.lower() for s in persona.speaking_style.sign_offs}
    transcript = [
        Line(speaker="client", text="Okay."),
        Line(speaker="advisor", text="Many people start by listing what comes in and goes out."),
    ]
    content = unsure = 0
    for seed in range(40):
        request = _request(catalog, "leilani_kahale", "answered", transcript)
        request = request.model_copy(update={"exchange": 8})
        content += any(o in client.speak(request, seed=seed).text.lower() for o in own)
        stalled = request.model_copy(update={"movement": "stalled", "why": "generic"})
        unsure += any(o in client.speak(stalled, seed=seed).text.lower() for o in own)
    assert 10 <= content <= 34, content
    assert unsure == 0


def test_a_suggestion_that_helped_is_not_taken_as_being_understood(client, catalog) -> None:
    """ "You have put your finger right on it" answers a reply that understood them, not a
    suggestion that merely helped (why "helped")."""
    own = _takes(client, "gloria_washington", "heard")
    transcript = [
        Line(speaker="client", text="I keep putting it off."),
        Line(speaker="advisor", text="One idea is to sketch two versions of the plan."),
    ]
    for seed in range(30):
        text = client.speak(
            _request(catalog, "gloria_washington", "helped", transcript), seed=seed
        ).text.lower()
        assert not any(text.startswith(o) for o in own), text


def test_a_worked_figure_is_reacted_to_not_the_term_put_into_it(client, catalog) -> None:
    reply = (
        "Running the numbers you gave me, clearing $9,500 at 24% APR over 36 months would "
        "take about $373 a month, with about $3,918 of interest."
    )
    reading = ReplyReading(new_figures=["36 months", "$373 a month", "$3,918"])
    transcript = [Line(speaker="client", text="I owe $9,500."), Line(speaker="advisor", text=reply)]
    for seed in range(20):
        request = _request(catalog, "gloria_washington", "numbers", transcript, reading=reading)
        text = client.speak(request, seed=seed).text
        assert "36 months" not in text, text


def test_a_life_line_is_not_told_twice_in_other_words(client, catalog, monkeypatch) -> None:
    """ "All those years in the trade, and a salesman takes a cut" said once is not said again as
    "Thirty-eight years pulling wire, and a salesman eats the fees"."""
    from emosim.agents.scripted import client as client_module
    from emosim.agents.scripted.client import _openings

    monkeypatch.setattr(client_module, "NAMED_SHARE", 0.0)  # the feeling told through life
    for line in client.material.life_lines("frank_russo", -0.5):
        monkeypatch.setattr(type(client.material), "life_lines", lambda *_, line=line: [line])
        history = f"I'm Frank. {expansions(line)[-1]}"
        request = _request(
            catalog,
            "frank_russo",
            "heard",
            [Line(speaker="client", text=history)],
            state=_state(catalog, "anger", 0.5),
        )
        for seed in range(20):
            text = client._feeling(request, random.Random(seed), history).lower()
            assert not any(h in text for h in _openings(line)), (line, text)
