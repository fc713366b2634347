"""A client message keeps one stance toward what Elena said (or says "but"), and Elena's
goodbye fits how the client leaves: an unsure client gets an open door, not praise.

The stance reader (tests/client_stance.py) and the praise words below are written apart from
the client's material: they read the text the way a person would.
"""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter

import pytest

from emosim.agents.backends import load_advisor_templates, scripted_template_paths
from emosim.agents.messages import AdvisorInput, ClientInput, Line
from emosim.agents.reading import unsettled
from emosim.agents.scripted.advisor import ScriptedAdvisor
from emosim.agents.scripted.client import ScriptedClient
from emosim.agents.scripted.material import load_client_material
from emosim.agents.scripted.templates import ClientTemplates, expansions
from emosim.files import load_yaml_model
from emosim.schemas.grounding import ReplyReading
from emosim.schemas.record import EmotionalState

from .client_stance import contradiction

# what a goodbye says when it praises the progress made
PRAISE = re.compile(
    r"well in hand|solid handle|sound clear on|real work|real thought|proud|earned it|"
    r"great place to end|rooting for you|cheering you on|covered a lot|glad we got to|"
    r"leave a little lighter|feels a bit lighter|feel good about it|it shows|good step",
    re.IGNORECASE,
)
# a client's last message that says they are still unsure, in plain words
STILL_UNSURE = re.compile(
    r"not (?:totally |really |quite )?(?:sure|convinced|sold|persuaded)|unsure|"
    r"still (?:worried|confused|stuck|uneasy|pretty)|doubts|second opinion|not there",
    re.IGNORECASE,
)
ADVICE = (
    "One option could be to start investing a set amount each month in a simple fund, and "
    "keep tracking every purchase in the app so we can move money toward your savings."
)


@pytest.fixture(scope="module")
def client(catalog) -> ScriptedClient:
    return ScriptedClient(
        catalog,
        load_yaml_model(scripted_template_paths(catalog)["client"], ClientTemplates),
        load_client_material(catalog),
    )


@pytest.fixture(scope="module")
def advisor(catalog) -> ScriptedAdvisor:
    return ScriptedAdvisor(catalog, load_advisor_templates(catalog))


def _state(catalog, emotion: str, intensity: float) -> EmotionalState:
    return catalog.emotional_state(emotion, intensity)


def test_the_stance_reader_catches_opposite_stances() -> None:
    """The reader this file relies on can fail: it flags the contradiction seen in
    transcripts and lets a "but" turn through."""
    assert contradiction("That sounds risky to me. Honestly, what a relief.")
    assert contradiction("Okay, that helps a lot. Tracking every dollar sounds exhausting.")
    assert contradiction("That helps. Still, I'm not sure it fits me.") is None
    assert contradiction("That sounds risky to me. I'd rather keep it in cash.") is None


def test_client_messages_keep_one_stance(client: ScriptedClient, catalog) -> None:
    """Every way a reply can land, under every emotion the client can feel, at the last
    exchange and before it: no message takes the reply well and pushes back in one breath."""
    persona_ids = sorted(catalog.clients)
    topic = catalog.topics["investing_basics"]
    reading = ReplyReading(
        question="Should I pay the loan off first?",
        answered=False,
        new_figures=["about 24 months"],
        unexplained_terms=["expense ratio"],
        explained_terms=["index fund"],
    )
    whys = ["answered", "heard", "helped", "numbers", "unanswered", "jargon", "generic"]
    whys += ["harmful:minimizing", "harmful:toxic_positivity", "harmful:judgment_blame"]
    bad: list[tuple[str, str, str]] = []
    turns = contrasted = 0
    for i, (why, emotion, closing) in enumerate(
        itertools.product(whys, sorted(catalog.emotions), (False, True))
    ):
        persona = catalog.clients[persona_ids[i % len(persona_ids)]]
        for intensity in (0.3, 0.55, 0.85):
            request = ClientInput(
                persona=persona,
                topic=topic.id,
                subcategory=topic.subcategories[0].id,
                situation="test",
                hidden_state=_state(catalog, emotion, intensity),
                transcript=[
                    Line(speaker="client", text="Should I pay the loan off first?"),
                    Line(speaker="advisor", text=ADVICE),
                ],
                exchange=4,
                exchanges=4 if closing else 8,
                movement="advanced" if why in {"answered", "heard", "helped"} else "stalled",
                why=why,
                reading=reading,
            )
            for seed in range(2):
                text = client.speak(request, seed=seed).text
                turns += 1
                contrasted += bool(re.search(r"\b(?:Still|Even so|That said|[Bb]ut)\b", text))
                found = contradiction(text)
                if found:
                    bad.append((why, emotion, text))
    assert turns > 2500
    assert contrasted > 50  # "but" turns happen, so the stance rule is exercised
    assert not bad, "\n".join(map(str, bad[:8]))


def test_generated_conversations_keep_one_stance_and_fitting_goodbyes(
    catalog, root, tmp_path
) -> None:
    """Whole conversations of every shipped scenario: no client turn with opposite stances,
    and no goodbye that praises progress right after the client said they are unsure."""
    from emosim.graphs.runner import load_job, run_jobs

    jobs = [
        load_job(catalog, path, seed)
        for path in sorted((root / "simulations").glob("*.yaml"))
        for seed in (3,)
    ]
    _, records = run_jobs(catalog, jobs, tmp_path, "scripted", label="t", command="pytest")
    client_turns = [t.text for r in records for t in r.turns if t.speaker == "client"]
    assert len(client_turns) > 60
    assert [t for t in client_turns if contradiction(t)] == []
    praised = [
        (r.turns[-2].text, r.turns[-1].text)
        for r in records
        if r.turns[-1].speaker == "advisor"
        and STILL_UNSURE.search(r.turns[-2].text)
        and PRAISE.search(r.turns[-1].text)
    ]
    assert praised == []


def test_unsettled_reads_how_a_client_leaves(client: ScriptedClient) -> None:
    """Every way the client signs off unconvinced or leaves reads as unsettled; every warm
    sign-off (shared and each persona's own) does not."""
    reactions = client.material.reactions
    unsure = [
        w for line in reactions.sign_off_unresolved + reactions.leave for w in expansions(line)
    ]
    warm = [w for line in reactions.sign_off for w in expansions(line)]
    warm += [
        w
        for persona in client.catalog.clients.values()
        for line in persona.speaking_style.sign_offs or []
        for w in expansions(line)
    ]
    assert len(unsure) > 500 and len(warm) > 1000
    missed = [w for w in unsure if not unsettled(w)]
    assert len(missed) <= 0.02 * len(unsure), Counter(missed).most_common(5)
    assert [w for w in warm if unsettled(w)] == []


def _closing_request(catalog, last: str, emotion: str = "hope") -> AdvisorInput:
    topic = catalog.topics["investing_basics"]
    return AdvisorInput.model_validate(
        {
            "client_name": "Dana Lee",
            "topic": topic.id,
            "subcategory": topic.subcategories[0].id,
            "transcript": [
                Line(speaker="client", text="Should I pay the loan off first?"),
                Line(speaker="advisor", text=ADVICE),
                Line(speaker="client", text=last),
            ],
            "observed": {
                "primary": emotion,
                "family": catalog.emotion(emotion).family,
                "intensity": 0.3,
                "intensity_level": "low",
                "confidence": 0.5,
                "observer": "test",
            },
            "exchange": 4,
            "exchanges": 4,
            "attempt": 1,
            "client_closing": True,
        }
    )


def test_goodbye_to_an_unsure_client_is_an_open_door(
    client: ScriptedClient, advisor: ScriptedAdvisor, catalog
) -> None:
    """A client who thanks Elena but is still unsure gets a close from the unresolved
    closings, never a praising one; a client who leaves glad gets a warm one."""
    reactions = client.material.reactions
    rng = random.Random(3)
    unresolved = {
        " ".join(w.split())
        for line in advisor.templates.closings_unresolved
        for w in expansions(line)
    }
    for i, line in enumerate(reactions.sign_off_unresolved * 3):
        last = client._pick(rng, [line], "")
        text = advisor.draft(_closing_request(catalog, last), seed=i).text
        assert PRAISE.search(text) is None, (last, text)
        assert "?" not in text
        assert any(u.split("{name}")[0][:25].lower() in text.lower() for u in unresolved), text
    warm = 0
    for i, line in enumerate(reactions.sign_off * 2):
        text = advisor.draft(_closing_request(catalog, client._pick(rng, [line], "")), seed=i).text
        warm += all(u.split("{name}")[0][:25].lower() not in text.lower() for u in unresolved)
    assert warm >= 0.9 * 2 * len(reactions.sign_off)


def _asked(catalog, persona_id: str, reply: str, why: str = "heard") -> ClientInput:
    topic = catalog.topics["debt_management"]
    return ClientInput(
        persona=catalog.clients[persona_id],
        topic=topic.id,
        subcategory=topic.subcategories[0].id,
        situation="test",
        hidden_state=_state(catalog, "worry", 0.5),
        transcript=[
            Line(speaker="client", text="I don't even know where to start."),
            Line(speaker="advisor", text=reply),
        ],
        exchange=4,
        exchanges=8,
        movement="advanced" if why == "heard" else "regressed",
        why=why,
        reading=ReplyReading(),
    )


def test_client_answers_the_question_elena_asked(client: ScriptedClient, catalog) -> None:
    """Elena's question is answered in the client's next message: an offer with a yes (a
    "not yet" after a reply that hurt), an open question with something of the client's own
    life or facts."""
    reactions = client.material.reactions
    said = lambda pool: [" ".join(w.lower().split()) for line in pool for w in expansions(line)]  # noqa: E731
    yes, not_yet = said(reactions.answer_offer), said(reactions.answer_decline)
    offer = "That's a lot to hold. Would it help if we compared a couple of options side by side?"
    open_q = "That makes sense. What matters most to you about getting this right?"
    for seed in range(30):
        persona = sorted(catalog.clients)[seed % 20]
        text = client.speak(_asked(catalog, persona, offer), seed=seed).text.lower()
        assert any(y.rstrip(".") in text for y in yes), text
        hurt = client.speak(_asked(catalog, persona, offer, "harmful:minimizing"), seed=seed)
        assert any(n.rstrip(".") in hurt.text.lower() for n in not_yet), hurt.text
    own = asks = 0
    for seed in range(60):
        pid = sorted(catalog.clients)[seed % 20]
        persona = catalog.clients[pid]
        out = client.speak(_asked(catalog, pid, open_q), seed=seed)
        life = client.material.lives.personas[pid]
        mine = said(life.hard + life.easier) + [
            " ".join(f.statement.lower().split()) for f in persona.facts
        ]
        low = " ".join(out.text.lower().split())
        own += any(m.rstrip(".") in low for m in mine) or bool(out.facts_used)
        asks += out.text.rstrip().endswith("?")
    assert own >= 50, own
    assert asks <= 45, asks


def test_a_when_question_is_taken_up_by_a_reply_that_says_when() -> None:
    """A client who asked "When do people...?" and was told "in their fifties" is not made
    to ask again; a reply that only meets the feeling still leaves it open."""
    from emosim.agents.reading import read_reply

    asked = (
        "Every night I worry. When do people usually start thinking about long-term care coverage?"
    )
    said_when = (
        "Many people look at it in their fifties or early sixties, when premiums are usually "
        "lower and they're more likely to be healthy enough to qualify."
    )
    assert read_reply(asked, said_when).answered is True
    assert read_reply(asked, "That sounds heavy, and it makes sense to feel it.").answered is False


def test_the_client_does_not_announce_the_same_figures_twice(client: ScriptedClient, catalog):
    """A fact whose figures the client has already said (in their situation) is not told
    again as news later in the conversation."""
    persona = catalog.clients["gloria_washington"]
    fact = next(f for f in persona.facts if "$285" in f.statement)
    topic = catalog.topics[fact.topics[0]] if fact.topics else catalog.topics["insurance_planning"]
    told = ["I just received a notice that my premium is going up from $190 to $285 a month."]
    for seed in range(40):
        request = ClientInput(
            persona=persona,
            topic=topic.id,
            subcategory=topic.subcategories[0].id,
            situation="test",
            hidden_state=_state(catalog, "worry", 0.5),
            transcript=[
                Line(speaker="client", text=told[0]),
                Line(speaker="advisor", text="That's a big jump, and it's fair to look at it."),
            ],
            exchange=3,
            exchanges=8,
            movement="advanced",
            why="heard",
            situation_told=told,
            told=1,
            reading=ReplyReading(),
        )
        out = client.speak(request, seed=seed)
        assert fact.id not in out.facts_used, out.text


def test_a_choice_is_answered_with_one_of_the_options_offered(
    client: ScriptedClient, catalog
) -> None:
    choice = "Which would you like to tackle first, the urgent piece or the long view?"
    for seed in range(20):
        pid = sorted(catalog.clients)[seed % 20]
        text = client.speak(_asked(catalog, pid, choice), seed=seed).text.lower()
        assert "the urgent piece" in text or "the long view" in text, text
