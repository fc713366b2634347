"""A reader can see the client's feeling: the client names it in plain words (written apart from
the observer's cues and the taxonomy's lines), a hard feeling is not drowned in thanks, a
message turns ("Still, ...") at most once, and what a feeling is about is not the same
sub-topic phrase over and over. The legibility evaluation's arithmetic is checked on turns
whose answers are known."""

from __future__ import annotations

import random
import re

import pytest
import yaml

from emosim.agents.backends import scripted_template_paths
from emosim.agents.messages import ClientInput, Line
from emosim.agents.scripted import client as client_module
from emosim.agents.scripted.client import ScriptedClient
from emosim.agents.scripted.material import load_client_material
from emosim.agents.scripted.templates import ClientTemplates, expansions
from emosim.agents.scripted.text import Lexicon, fill
from emosim.evals.diversity_legibility import Turn, legibility
from emosim.files import load_yaml_model
from emosim.schemas.grounding import ReplyReading
from emosim.schemas.record import EmotionalState

LEVELS = ("low", "medium", "high")
ANSWER = (
    "The match is money your employer adds when you save. If you put in 5%, they add 5%, "
    "so it is part of your pay. Would it help to look at what that means for you?"
)


@pytest.fixture(scope="module")
def client(catalog) -> ScriptedClient:
    return ScriptedClient(
        catalog,
        load_yaml_model(scripted_template_paths(catalog)["client"], ClientTemplates),
        load_client_material(catalog),
    )


@pytest.fixture(scope="module")
def taxonomy(root) -> dict:  # noqa: ANN001
    return yaml.safe_load((root / "taxonomies" / "emotions.yaml").read_text(encoding="utf-8"))


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^a-z' ]+", " ", text.lower()).split())


def _named_texts(client: ScriptedClient):  # noqa: ANN202
    for eid, levels in client.material.feelings.named.items():
        for level in LEVELS:
            for line in getattr(levels, level):
                for text in expansions(line):
                    yield eid, level, fill(text, {"thing": "the loan"})


def _state(catalog, emotion: str, intensity: float) -> EmotionalState:
    return catalog.emotional_state(emotion, intensity)


def _request(catalog, persona, emotion: str, intensity: float, **kw) -> ClientInput:  # noqa: ANN001, ANN003
    topic = catalog.topics["investing_basics"]
    return ClientInput(
        persona=persona,
        topic=topic.id,
        subcategory=topic.subcategories[0].id,
        situation="test",
        hidden_state=_state(catalog, emotion, intensity),
        transcript=[
            Line(speaker="client", text="What is the match, and should I take it?"),
            Line(speaker="advisor", text=ANSWER),
        ],
        exchange=4,
        exchanges=8,
        movement="advanced",
        why="answered",
        reading=ReplyReading(
            question="What is the match, and should I take it?",
            answered=True,
            explained_terms=["the match"],
        ),
        **kw,
    )


def test_every_emotion_is_named_at_every_level_apart_from_the_taxonomy(
    client: ScriptedClient, catalog, taxonomy
) -> None:
    """Named lines for all 23 emotions and 3 levels; none is a taxonomy example line or shares
    a run of 6 words with one; the share that holds one of the lexicon observer's cues for
    their own emotion is printed (plain emotion words are cues too) and bounded, so a file
    pasted from the cue lists fails."""
    assert set(client.material.feelings.named) == set(catalog.emotions)
    examples = [
        _normal(x)
        for e in taxonomy["emotions"]
        for level in e["intensities"].values()
        for x in level["examples"]
    ]

    def runs(text: str, n: int = 6) -> set[tuple[str, ...]]:
        words = text.split()
        return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}

    example_runs = set().union(*(runs(x) for x in examples))
    lexicon = Lexicon({e["id"]: e["cues"] for e in taxonomy["emotions"]})
    texts = own = 0
    for eid, level, text in _named_texts(client):
        mine = _normal(text)
        assert not any(x in mine or mine in x for x in examples), (eid, level, text)
        assert not runs(mine) & example_runs, (eid, level, text)
        texts += 1
        own += eid in {hit.label for hit in lexicon.find(text)}
    print(
        f"\nnamed feeling texts with an own-emotion observer cue: {own}/{texts} = {own / texts:.1%}"
    )
    assert texts > 2000
    assert own / texts < 0.8


def test_a_hard_feeling_is_not_drowned_in_thanks(client: ScriptedClient, catalog) -> None:
    """After a reply that answered, a client in a hard feeling (medium or high) takes it in
    plainly: no thanks or relief in the message, for every persona and negative emotion; a
    glad client still thanks."""
    glad = re.compile(r"\b(?:thank|thanks|appreciate|grateful|relie[fv]\w*)\b", re.IGNORECASE)
    hard = [e for e in sorted(catalog.emotions) if catalog.emotion(e).valence < 0]
    thanked_hard = thanked_glad = turns = 0
    for i, persona in enumerate(sorted(catalog.clients.values(), key=lambda p: p.id)):
        for emotion in hard:
            for seed in range(2):
                text = client.speak(
                    _request(catalog, persona, emotion, 0.7), seed=seed * 31 + i
                ).text
                turns += 1
                thanked_hard += bool(glad.search(text))
        for seed in range(8):
            text = client.speak(_request(catalog, persona, "gratitude", 0.7), seed=seed).text
            thanked_glad += bool(glad.search(text))
    assert turns > 500
    assert thanked_hard / turns < 0.02, thanked_hard
    assert thanked_glad > 40  # the rule is about hard feelings, not a ban on thanks


def test_a_message_turns_once_and_strong_feelings_are_not_hedged(
    client: ScriptedClient, catalog, monkeypatch
) -> None:
    """At most one "but" lead-in opens a sentence of a message, and a strong feeling said by
    name is not opened with the persona's hedge ("I reckon, I'm furious")."""
    leads = [lead.rstrip(",") for lead in client.material.reactions.contrast_lead_ins]
    opener = re.compile(
        r"(?:^|[.!?]\s+)(?:" + "|".join(map(re.escape, leads)) + r")\b", re.MULTILINE
    )
    twice = []
    for i, persona in enumerate(sorted(catalog.clients.values(), key=lambda p: p.id)):
        for emotion in ("worry", "shame", "grief", "resentment", "discouragement"):
            for seed in range(3):
                text = client.speak(
                    _request(catalog, persona, emotion, 0.7), seed=seed * 7 + i
                ).text
                if len(opener.findall(text)) > 1:
                    twice.append(text)
    assert not twice, twice[:3]

    monkeypatch.setattr(client_module, "NAMED_SHARE", 1.0)
    openings = {
        " ".join(_normal(t).split()[:2])
        for eid, level, t in _named_texts(client)
        if level == "high" and eid == "anger"
    }
    for persona in catalog.clients.values():
        style = persona.speaking_style
        hedges = [h.strip(" ,").lower() for h in [*(style.hedges or []), *style.fillers]]
        for seed in range(5):
            request = _request(catalog, persona, "anger", 0.9)
            line = client._feeling(request, random.Random(seed), "")
            assert " ".join(_normal(line).split()[:2]) in openings, line
            assert not line.lower().startswith(tuple(h + "," for h in hedges)), line


def test_what_a_feeling_is_about_is_not_the_same_phrase_again(
    client: ScriptedClient, catalog
) -> None:
    """Once the sub-topic and the topic have been said, a feeling is about "all this" or what
    this person calls it ("the money stuff"), not the sub-topic phrase a third time, nor a
    term of the topic nobody said."""
    request = _request(catalog, catalog.clients["cody_blevins"], "shame", 0.7)
    topic = catalog.topics[request.topic]
    sub = topic.subcategories[0]
    said = " ".join([sub.phrase or sub.name, topic.phrase or topic.name]).lower()
    things = {client._thing(request, random.Random(s), said) for s in range(30)}
    assert things <= set(client_module._IT) | set(client.material.calls_it("cody_blevins"))
    fresh = {client._thing(request, random.Random(s), "nothing said yet") for s in range(30)}
    assert not fresh & set(client_module._IT)
    assert not any(t.lower() in " ".join(fresh).lower() for t in topic.key_terms), fresh


def test_legibility_counts_each_reader_against_the_hidden_family() -> None:
    """Agreement per reader on turns whose readings are set by hand (shame reads as sadness at
    the Ekman level, as GoEmotions groups embarrassment and remorse)."""
    turns = [
        Turn(emotion="shame", family="shame", run_emotion="shame", run_family="shame",
             family_read="shame", ekman_read="sadness"),
        Turn(emotion="shame", family="shame", run_emotion="guilt", run_family="shame",
             family_read="surprise", ekman_read="surprise"),
        Turn(emotion="hope", family="enjoyment", run_emotion="curiosity", run_family="surprise",
             family_read="love", ekman_read="joy"),
        Turn(emotion="worry", family="fear", run_emotion="worry", run_family="fear",
             family_read="neutral", ekman_read="neutral"),
    ]  # fmt: skip
    turns[1] = turns[1].model_copy(update={"in_a_sentence": True})
    result = legibility(turns, ["lexicon"], "reader")
    assert result.reader_sentence == 0.25
    assert (result.run_emotion, result.run_family) == (0.5, 0.75)
    assert (result.reader_family, result.reader_ekman) == (0.25, 0.5)
    assert result.reader_neutral == 0.25
    shame = next(r for r in result.per_emotion if r.emotion == "shame")
    assert (shame.turns, shame.run_emotion, shame.reader_ekman) == (2, 0.5, 0.5)
    assert result.reader_confusion["shame"] == {"shame": 1, "surprise": 1}
    assert result.run_confusion["enjoyment"] == {"surprise": 1}


def test_a_named_feeling_is_not_said_twice_about_another_thing(
    client: ScriptedClient, catalog, monkeypatch
) -> None:
    """ "I keep worrying that the loan gets worse" is not followed, later in the conversation,
    by "I keep worrying that retirement gets worse"."""
    monkeypatch.setattr(client_module, "NAMED_SHARE", 1.0)
    request = _request(catalog, catalog.clients["gloria_washington"], "worry", 0.55)
    lines = client.material.feelings.named["worry"].medium
    for line in lines:
        history = fill(expansions(line)[0], {"thing": "the loan"})
        heads = client_module._openings(line)
        again = [
            said
            for seed in range(15)
            if any(
                h in (said := client._feeling(request, random.Random(seed), history)).lower()
                for h in heads
            )
        ]
        assert not again, (line, again[:2])


def test_an_open_question_is_not_answered_with_a_pick(client: ScriptedClient, catalog) -> None:
    """ "How would you like things to be different ...?" asks for the client's life, not for a
    pick among topics ("Let's go with planning a career change.")."""
    pick = re.compile(
        r"^(?:let's start with|i'd start with|can we start with|the piece i'd pick|"
        r"if i have to pick|let's go with|start me on|put me down for|my vote's for|i'd go with)",
        re.IGNORECASE,
    )
    asked = "How would you like things to be different once we've sorted out retirement, Gloria?"
    answers = []
    for persona in list(catalog.clients.values())[:10]:
        request = _request(catalog, persona, "hope", 0.5)
        request = request.model_copy(
            update={"transcript": [*request.transcript[:1], Line(speaker="advisor", text=asked)]}
        )
        for seed in range(4):
            answers.append(client._answer_her(request, random.Random(seed), 1, asked, []))
    assert all(answers)
    assert not [a for a in answers if pick.search(a)], answers[:3]


def test_a_first_message_does_not_answer_back(client: ScriptedClient, catalog) -> None:
    """Nothing has been said before a client's first message, so its feeling does not open
    with "That gives me hope" or "That part's a bit fuzzy to me"."""
    back = re.compile(r"^(?:that|you|okay, that|now that|phew|oh|interesting|wow)\b", re.I)
    opened = []
    for persona in list(catalog.clients.values())[:8]:
        for emotion in ("relief", "hope", "curiosity", "confusion", "trust"):
            request = _request(catalog, persona, emotion, 0.5).model_copy(
                update={"exchange": 1, "transcript": []}
            )
            for seed in range(4):
                line = client._feeling(request, random.Random(seed), "")
                if back.match(line):
                    opened.append(line)
    assert not opened, opened[:3]


def test_life_lines_about_another_topics_business_stay_out(client: ScriptedClient, catalog) -> None:
    """Gloria's premium notice belongs to her insurance talk, not to a talk about investing;
    a plain word that is also a term ("I will not be a burden") is not taken for one."""
    investing = client._other_topics_terms("investing_basics")
    assert investing.search("The letter about the premium is on my kitchen table")
    assert investing.search("my 401(k) statement came")
    assert not investing.search("I will not be a burden on them, we have a bond")
    assert not client._other_topics_terms("insurance_planning").search("That premium notice")
