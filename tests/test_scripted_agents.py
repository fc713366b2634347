"""The scripted advisor's and client's shortcuts agree with the plain definitions they replace.

The agents skip work (a literal "probe" instead of filling every template, a substring test
before a regex, cached sentence splits); these tests compare each shortcut with the direct
computation on the real templates, including the inputs where a shortcut must step aside.
"""

from __future__ import annotations

import random
import re

import pytest

from emosim.agents.backends import load_advisor_templates, scripted_template_paths
from emosim.agents.messages import AdvisorInput, Line
from emosim.agents.scripted.advisor import ScriptedAdvisor, _last_question, whole_words
from emosim.agents.scripted.client import ScriptedClient
from emosim.agents.scripted.templates import AdvisorTemplates, ClientTemplates, slots_in
from emosim.agents.scripted.text import expand, fill, join_lead_ins, split_sentences
from emosim.catalog import Catalog
from emosim.files import load_yaml_model

from .conftest import BROKEN_TEXT


@pytest.fixture(scope="module")
def advisor(catalog: Catalog) -> ScriptedAdvisor:
    return ScriptedAdvisor(catalog, load_advisor_templates(catalog))


@pytest.fixture(scope="module")
def client(catalog: Catalog) -> ScriptedClient:
    return ScriptedClient(
        catalog, load_yaml_model(scripted_template_paths(catalog)["client"], ClientTemplates)
    )


def _slot_sets() -> list[dict[str, str]]:
    base = {
        "name": "Dana",
        "emotion_adj": "anxious",
        "topic_phrase": "debt management",
        "subtopic_phrase": "credit card debt",
        "term": "APR",
        "term_gloss": "the yearly cost of borrowing",
        "client_quote": "I can't sleep over it",
        "fact": "you owe about $18,000",
    }
    return [
        base,
        {**base, "client_quote": "", "term": "", "term_gloss": ""},  # empty slots are unusable
        {k: v for k, v in base.items() if k != "fact"},  # missing slot
        # braces in a value: fill() may then rewrite later slots, so no shortcut applies
        {**base, "client_quote": "I wrote {fact} on a sticky note", "name": "Dana {term}"},
    ]


def test_usable_templates_match_fill_and_search(advisor: ScriptedAdvisor) -> None:
    rng = random.Random(7)
    checked = repeats = 0
    for slots in _slot_sets():
        filled = frozenset(k for k, v in slots.items() if v)
        for sid, templates in advisor.templates.strategies.items():
            # a conversation that already holds some of this strategy's sentences, filled
            said_before = rng.sample(templates, k=3)
            said = " ".join(
                ["I keep going back and forth on this."]
                + [fill(t.text, slots).upper() for t in said_before]  # case must not matter
            ).lower()
            want = [
                t
                for t in templates
                if slots_in(t.text) <= filled and fill(t.text, slots).lower() not in said
            ]
            got = [t.source for t in advisor._usable(advisor._options[sid], slots, said)]
            assert got == want, (sid, slots)
            checked += len(templates)
            repeats += sum(
                slots_in(t.text) <= filled and fill(t.text, slots).lower() in said
                for t in templates
            )
    assert checked > 100 and repeats > 10  # both outcomes were exercised


def test_braces_in_slot_values_turn_the_probe_off(catalog: Catalog) -> None:
    """fill() replaces slots one after another, so braces in a value can consume a literal
    part of the template; the probe must then not be trusted."""
    consumed = "{client_quote}fact{name}."  # with these values the literal 'fact' vanishes
    templates = AdvisorTemplates.model_validate(
        {
            "version": "t",
            "strategies": {
                "open_question": [{"function": "ask_open_question", "text": consumed}]
                + [
                    {"function": "ask_open_question", "text": f"What matters most, {n}?"}
                    for n in ("{name}", "friend", "then", "now", "today")
                ]
            },
            "anti_patterns": {},
        }
    )
    advisor = ScriptedAdvisor(catalog, templates)
    slots = {"name": "} to me", "client_quote": "{", "fact": "the card"}
    said = "so, the card to me. what matters most, friend?"
    assert fill(consumed, slots) == "the card to me." and "fact" not in said
    got = [t.source.text for t in advisor._usable(advisor._options["open_question"], slots, said)]
    assert got == [
        "What matters most, {name}?",
        "What matters most, then?",
        "What matters most, now?",
        "What matters most, today?",
    ]


def test_whole_words_respect_terms_that_end_in_punctuation() -> None:
    assert whole_words("401(k)").search("the words 401(k) come up")
    assert whole_words("401(k)").search("two 401(k)s from old jobs")
    assert not whole_words("401(k)").search("a pre401(k) plan")
    assert whole_words("apr").search("what is apr?")
    assert not whole_words("apr").search("aprs and capr")


def test_asked_term_matches_whole_word_search(advisor: ScriptedAdvisor, catalog: Catalog) -> None:
    found = 0
    for topic in catalog.topics.values():
        terms = list(topic.key_terms)
        for i, term in enumerate(terms):
            other = terms[(i + 1) % len(terms)]
            for said in (
                f"What does {term.upper()} mean, and is {other} related?",
                f"I read about {term}s and pre{term.lower()} online.",  # not whole words
                "Nothing technical here.",
            ):
                last = said.lower()
                named = [t for t in terms if whole_words(t.lower()).search(last)]
                want = max(named, key=len) if named else None
                asked = advisor._asked_term(topic.id, said, _last_question(said), "")
                assert asked == want, (topic.id, said)
                found += want is not None
    assert found > 20


@pytest.mark.parametrize(
    ("said", "question"),
    [
        (
            "I have $600 saved and want to know which bills should come first.",
            "Which bills should come first?",
        ),
        (
            "I keep wondering whether I should just drop the policy.",
            "Whether I should just drop the policy?",
        ),
        ("Okay. What about fees? I never look at them.", "What about fees?"),
        ("I want to understand my choices.", None),  # no question word: a wish, not a question
        ("Thanks, that helps.", None),
    ],
)
def test_a_question_asked_without_a_question_mark_is_a_question(
    said: str, question: str | None
) -> None:
    assert _last_question(said) == question


def test_a_wish_to_know_gets_the_bank_answer(advisor: ScriptedAdvisor) -> None:
    found = advisor._answer(
        _last_question("I have $600 saved and want to know which bills should come first."),
        "budgeting_cash_flow",
    )
    bank = advisor._answer("Which bills should come first when money runs short?")
    assert found is not None and found == bank


def test_pick_skips_lines_already_said(client: ScriptedClient) -> None:
    pool = list(client.templates.closings) + list(client.templates.follow_ups["middle"])
    slots = {
        "topic_phrase": "debt management",
        "subtopic_phrase": "credit card debt",
        "term": "APR",
        "advisor_name": "Elena",
    }
    for seed in range(20):
        rng = random.Random(seed)
        said = rng.sample(pool, k=seed % 6)
        history = " ".join(fill(line, slots) for line in said)
        # a line with alternatives is always a candidate: its expansion is checked by use
        fresh = [
            line
            for line in pool
            if "[" in line
            or not any(
                s.lower() in history.lower() for _, _, s in split_sentences(fill(line, slots))
            )
        ]
        rng = random.Random(seed)
        want = fill(expand(rng.choice(fresh or pool), rng), slots)
        assert client._pick(random.Random(seed), pool, history, slots) == want
        assert all(fill(line, slots) not in history for line in fresh if "[" not in line)


def test_pick_ignores_case_so_a_filler_does_not_hide_a_repeat(client: ScriptedClient) -> None:
    pool = ["This is a solid plan.", "I feel ready."]
    history = "Technically, this is a solid plan."
    assert {client._pick(random.Random(s), pool, history) for s in range(20)} == {"I feel ready."}


def test_lead_ins_run_on_into_the_next_sentence() -> None:
    assert (
        join_lead_ins(["Okay, don't judge me, but", "This feels like my fault", "What now?"])
        == "Okay, don't judge me, but this feels like my fault. What now?"
    )
    assert join_lead_ins(["Quick sanity check:", "Is this normal"]) == (
        "Quick sanity check: is this normal."
    )
    assert join_lead_ins(["Hello Elena,", "Saul said to ask"], frozenset({"Saul"})) == (
        "Hello Elena, Saul said to ask."
    )
    assert join_lead_ins(["Hey.", "I'm here", ""]) == "Hey. I'm here."
    assert join_lead_ins(["Elena, but"]) == "Elena, but."


@pytest.mark.parametrize("exchange", [1, 3])
def test_client_messages_of_every_persona_read_as_sentences(
    client: ScriptedClient, catalog: Catalog, exchange: int
) -> None:
    from emosim.agents.arc import ArcController
    from emosim.agents.messages import ClientInput

    checked = tagged = 0
    for persona in catalog.clients.values():
        topic = next(iter(catalog.topics.values()))
        arc = ArcController(catalog, persona.default_arc, 6)
        for seed in range(16):
            _, hidden = arc.initial((seed, persona.id))
            request = ClientInput(
                persona=persona,
                topic=topic.id,
                subcategory=topic.subcategories[0].id,
                situation="test",
                hidden_state=hidden,
                transcript=[],
                exchange=exchange,
                exchanges=6,
            )
            text = client.speak(request, seed=seed).text
            assert not BROKEN_TEXT.search(text), (persona.id, seed, text)
            assert text[-1] in ".?!", (persona.id, seed, text)
            for tag in persona.speaking_style.tags:  # tags close a sentence, never open one
                for found in re.finditer(re.escape(tag), text):
                    end = tag[-1] if tag[-1] in "?!." else text[found.end() : found.end() + 1]
                    assert end in {".", "?", "!"}, text
                    tagged += 1
            checked += 1
    assert checked == 16 * len(catalog.clients)
    assert tagged > 0


def test_question_picks_the_term_it_is_about(advisor: ScriptedAdvisor, catalog: Catalog) -> None:
    terms = advisor._topic_terms("caring_for_parents")
    about = terms.about
    assert (
        about("How do the costs of in-home care, assisted living and a nursing home compare?", "")
        == "assisted living facility"
    )
    # explained already: the next best term, or none
    assert about("How does assisted living work?", "an assisted living facility is") is None
    # only words every question in the topic shares: no term in particular
    assert about("What should people in my position do first with their parents?", "") is None
    assert about("Is this normal?", "") is None
    # across the shipped topics, most terms are found from a question that names their words
    found = sum(
        advisor._topic_terms(topic.id).about(f"How does {term} work for me?", "") == term
        for topic in catalog.topics.values()
        for term in topic.key_terms
    )
    total = sum(len(topic.key_terms) for topic in catalog.topics.values())
    assert found >= 0.8 * total, (found, total)


def _curious_question(topic, said: str) -> AdvisorInput:  # noqa: ANN001
    """A request after a calm, curious client message (a second attempt: no injected
    anti-pattern), so that the advisor's plan is free to answer."""
    return AdvisorInput.model_validate(
        {
            "client_name": "Dana Lee",
            "topic": topic.id,
            "subcategory": topic.subcategories[0].id,
            "transcript": [Line(speaker="client", text=said)],
            "observed": {
                "primary": "curiosity",
                "family": "surprise",
                "intensity": 0.5,
                "intensity_level": "medium",
                "confidence": 0.5,
                "observer": "test",
            },
            "exchange": 2,
            "exchanges": 4,
            "attempt": 2,
        }
    )


def _template_pattern(template: str) -> re.Pattern[str]:
    """A template with inline alternatives as a pattern matching any of its expansions
    (first letter in either case: a sentence is capitalized)."""
    parts = re.split(r"(\[[^\[\]]*\])", template)
    rx = "".join(
        "(?:" + "|".join(re.escape(a) for a in p[1:-1].split("|")) + ")"
        if p.startswith("[") and "|" in p
        else re.escape(p)
        for p in parts
    )
    return re.compile(rx, re.IGNORECASE)


def _expansions(template: str) -> list[str]:
    """Every text a template with [a|b] alternatives can become."""
    parts = re.split(r"\[([^\[\]]*)\]", template)
    out = [""]
    for i, part in enumerate(parts):
        out = [head + option for head in out for option in (part.split("|") if i % 2 else [part])]
    return out


def test_every_follow_up_question_gets_its_answer(
    advisor: ScriptedAdvisor, client: ScriptedClient, catalog: Catalog
) -> None:
    topic = catalog.topics["debt_management"]
    slots = {
        "topic_phrase": topic.phrase or topic.name,
        "subtopic_phrase": topic.subcategories[0].phrase or topic.subcategories[0].name,
        "term": "APR",
        "advisor_name": "Elena",
    }
    answered = 0
    for stage, questions in client.templates.follow_ups.items():
        for question in questions:
            if "{term}" in question:  # answered by explaining the term
                continue
            # every way the client asks it finds the same answer
            ways = [fill(way, slots) for way in _expansions(question)]
            answers = [advisor._answer(way) for way in ways]
            assert answers[0] is not None, ways[0]
            assert all(a == answers[0] for a in answers), [
                w for w, a in zip(ways, answers, strict=True) if a != answers[0]
            ]
            asked = fill(expand(question, random.Random(7)), slots)
            answer = advisor._answer(asked)
            assert answer is not None, asked
            request = _curious_question(topic, f"Okay. {asked}")
            draft = advisor.draft(request, seed=7)
            replies = [_template_pattern(fill(r.source.text, slots)) for r in answer.replies]
            assert any(p.fullmatch(s.text) for p in replies for s in draft.sentences), (
                stage,
                asked,
                draft.text,
            )
            assert answer.strategy in [draft.strategies.primary, *draft.strategies.combination]
            answered += 1
    assert answered >= 25


def test_term_questions_get_the_terms_plain_meaning(
    advisor: ScriptedAdvisor, client: ScriptedClient, catalog: Catalog
) -> None:
    """ "Can you explain the term X...?" gets X with its gloss, for every term question and
    every key term of every topic."""
    questions = [q for qs in client.templates.follow_ups.values() for q in qs if "{term}" in q]
    assert len(questions) >= 3
    asked = 0
    for topic in catalog.topics.values():
        for term, gloss in topic.key_terms.items():
            template = questions[asked % len(questions)]
            question = fill(expand(template, random.Random(asked)), {"term": term})
            draft = advisor.draft(_curious_question(topic, f"Okay. {question}"), seed=asked)
            explained = [s.text for s in draft.sentences if gloss in s.text]
            assert explained and term in explained[0], (topic.id, question, draft.text)
            asked += 1
    assert asked > 100


def test_a_reply_asks_one_question_and_last(advisor: ScriptedAdvisor, catalog: Catalog) -> None:
    """An offer put as a question ("Would it help if we...?") counts as the reply's question."""
    topic = catalog.topics["debt_management"]
    request = _curious_question(topic, "Okay. I think I follow.")
    offers_as_questions = 0
    for seed in range(150):
        rng = random.Random(seed)
        slots = advisor._slots(request, rng, None, "Okay. I think I follow.", "")
        planned = ["permission_based_suggestion", "collaborative_agenda", "open_question"]
        sentences = advisor._compose(request, rng, slots, planned, None, None)
        asks = [i for i, s in enumerate(sentences) if s["text"].endswith("?")]
        assert asks in ([], [len(sentences) - 1]), [s["text"] for s in sentences]
        offers_as_questions += any(
            s["text"].endswith("?") and s["function"] == "offer_option" for s in sentences
        )
    assert offers_as_questions > 0


def test_every_topic_question_gets_its_answer(advisor: ScriptedAdvisor, catalog: Catalog) -> None:
    answered = 0
    for topic in catalog.topics.values():
        questions = list(topic.client_questions)
        questions += [q for sub in topic.subcategories for q in sub.client_questions]
        for question in questions:
            answer = advisor._answer(question)
            assert answer is not None and answer.strategy == "education", (topic.id, question)
            request = _curious_question(topic, f"Thanks. {question}")
            draft = advisor.draft(request, seed=answered)
            replies = {r.source.text for r in answer.replies}
            assert any(s.text in replies for s in draft.sentences), (question, draft.text)
            answered += 1
    assert answered == 344


def test_a_question_asked_one_way_is_not_asked_again_another_way(
    client: ScriptedClient, catalog: Catalog
) -> None:
    from emosim.agents.arc import ArcController
    from emosim.agents.messages import ClientInput
    from emosim.agents.scripted.client import _ways

    line = next(q for q in client.templates.follow_ups["middle"] if "better fit" in q)
    ways = [w.lower() for w in _ways(line)]
    assert len(ways) >= 3
    persona = catalog.clients["marcus_johnson"]
    topic = catalog.topics["debt_management"]
    _, hidden = ArcController(catalog, persona.default_arc, 8).initial((1, persona.id))
    said = f"Okay. {_ways(line)[1]}"
    request = ClientInput(
        persona=persona,
        topic=topic.id,
        subcategory=topic.subcategories[0].id,
        situation="test",
        hidden_state=hidden,
        transcript=[Line(speaker="client", text=said)],
        exchange=5,
        exchanges=8,
    )
    asked = [client._question(request, random.Random(seed), said, False) for seed in range(80)]
    assert not [q for q in asked if q.lower() in ways]
    assert len(set(asked)) >= 10


def test_a_short_writer_stops_a_reaction_at_its_point() -> None:
    from emosim.agents.scripted.client import _first_clause

    assert (
        _first_clause("That helps more than you know, because I'd been going in circles.")
        == "That helps more than you know."
    )
    # the point alone would be too short: the line stays whole
    whole = "Oh, wow, and that's new to me."
    assert _first_clause(whole) == whole
    # a question after the cut is never dropped
    asked = "I hear you and I do, but my question was: Should I pay it off?"
    assert _first_clause(asked) == asked


def test_pick_draws_a_line_with_alternatives_again_when_it_came_out_as_said(
    client: ScriptedClient,
) -> None:
    line = "[Okay, but|Sure, but] I'm still stuck on what I asked: {question}"
    slots = {"question": "How big a cash reserve should I keep?"}
    said = "Okay, but I'm still stuck on what I asked: How big a cash reserve should I keep?"
    picked = [client._pick(random.Random(seed), [line], said, slots) for seed in range(40)]
    assert set(picked) <= {said, "Sure, but I'm still stuck on what I asked: " + slots["question"]}
    assert picked.count(said) <= 2  # drawn as said only when six draws in a row came out so
