"""The scripted client's own material (issue 19, items 1, 4 and 7): feeling lines written apart
from the emotion taxonomy, reactions to what Elena's reply did, and per-persona voices."""

from __future__ import annotations

import itertools
import re
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from emosim.agents.scripted.templates import (
    FEELING_LEVELS,
    REACTION_SLOTS,
    ClientFeelings,
    ClientReactionBank,
    feeling_problems,
    load_client_feelings,
    load_client_reactions,
    slots_in,
)
from emosim.agents.scripted.text import Lexicon

_GROUP = re.compile(r"\[([^\[\]]*)\]")
# what an expanded line must never look like: doubled or stray spaces and punctuation
_BROKEN = re.compile(r"  | [,.!?;:]|,,|[,;:][.!?]|(?<!\.)\.\.(?!\.)|^\s|\s$|^[a-z]|,[A-Za-z]")
SAMPLE_SLOTS = {
    "thing": "the $14,000 loan",
    "gist": "the match is basically part of my pay",
    "figure": "about 24 months",
    "what": "the savings",
    "question": "Should I pay the loan off first?",
    "term": "expense ratio",
}


def expansions(template: str) -> Iterator[str]:
    """Every text `expand` can make of a template (all choices of all groups)."""
    parts = _GROUP.split(template)  # text, group, text, group, ..., text
    texts, groups = parts[0::2], [g.split("|") for g in parts[1::2]]
    for combo in itertools.product(*groups):
        yield "".join(t + c for t, c in zip(texts, (*combo, ""), strict=True))


def fill(text: str) -> str:
    for slot, value in SAMPLE_SLOTS.items():
        text = text.replace("{" + slot + "}", value)
    return text


def normalize(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("’", "'")).split())


@pytest.fixture(scope="module")
def feelings(catalog) -> ClientFeelings:
    return load_client_feelings(catalog)


@pytest.fixture(scope="module")
def taxonomy(root: Path) -> dict:
    return yaml.safe_load((root / "taxonomies" / "emotions.yaml").read_text(encoding="utf-8"))


# --- feelings -----------------------------------------------------------------------------


def test_feelings_cover_every_emotion_and_level(feelings: ClientFeelings, catalog) -> None:
    assert feeling_problems(feelings, set(catalog.emotions)) == []
    for eid in catalog.emotions:
        for level in FEELING_LEVELS:
            lines = feelings.lines(eid, level)
            assert len(lines) >= 8, (eid, level)
            assert len(set(lines)) == len(lines), f"{eid}.{level} repeats a line"


def test_feeling_lines_vary_and_expand_cleanly(feelings: ClientFeelings) -> None:
    for eid, levels in feelings.emotions.items():
        for level in FEELING_LEVELS:
            for line in getattr(levels, level):
                assert slots_in(line) <= {"thing"}, line
                assert len(_GROUP.findall(line)) >= 2, f"{eid}.{level}: fewer than 2 groups: {line}"
                texts = list(expansions(line))
                assert len(set(texts)) >= 6, f"{eid}.{level}: too few variants: {line}"
                for text in texts:
                    filled = fill(text)
                    assert "{" not in filled and "[" not in filled, filled
                    assert not _BROKEN.search(filled), f"{eid}.{level}: {filled!r}"


def test_feelings_share_no_line_with_the_taxonomy(feelings: ClientFeelings, taxonomy) -> None:
    examples = {
        normalize(x)
        for e in taxonomy["emotions"]
        for level in e["intensities"].values()
        for x in level["examples"]
    }
    for eid, levels in feelings.emotions.items():
        for level in FEELING_LEVELS:
            for line in getattr(levels, level):
                for text in expansions(line):
                    mine = normalize(fill(text))
                    clash = [x for x in examples if x in mine or mine in x]
                    assert not clash, (
                        f"{eid}.{level}: {text!r} reuses taxonomy example {clash[0]!r}"
                    )


def test_feelings_lean_little_on_the_observer_cues(feelings: ClientFeelings, taxonomy) -> None:
    """Share of feeling lines in which the emotion observer finds a cue of the line's own
    emotion (line: any expansion has one; text: over all expansions), and of lines with a cue
    of another emotion. The lines were written to avoid the cue lists; ordinary emotion words
    a person would use are allowed."""
    cues = {e["id"]: e["cues"] for e in taxonomy["emotions"]}
    lexicon = Lexicon(cues)
    lines = own_lines = other_lines = texts = own_texts = 0
    for eid, levels in feelings.emotions.items():
        for level in FEELING_LEVELS:
            for line in getattr(levels, level):
                lines += 1
                labels_any: set[str] = set()
                for text in expansions(line):
                    labels = {hit.label for hit in lexicon.find(fill(text))}
                    labels_any |= labels
                    texts += 1
                    own_texts += eid in labels
                own_lines += eid in labels_any
                other_lines += bool(labels_any - {eid})
    line_share, text_share = own_lines / lines, own_texts / texts
    print(
        f"\nfeeling lines with an own-emotion observer cue: {own_lines}/{lines} = "
        f"{line_share:.1%} of lines, {text_share:.1%} of {texts} expanded texts; "
        f"lines with another emotion's cue: {other_lines}/{lines}"
    )
    # the observer's cues are now a broad everyday vocabulary (written from human-labelled
    # data, without reading these lines), so ordinary words such as "stuck" or "finally" are
    # cues of some emotion: other-emotion cues are bounded, not absent
    assert line_share < 0.5
    assert other_lines / lines < 0.3


def test_feelings_are_not_light_edits_of_taxonomy_examples(
    feelings: ClientFeelings, taxonomy
) -> None:
    """No expanded line shares a run of 8 words with an example line (everyday phrases such
    as 'for the first time in a while' are shorter)."""

    def runs(text: str, n: int = 8) -> set[tuple[str, ...]]:
        words = text.split()
        return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}

    examples = set().union(
        *(
            runs(normalize(x))
            for e in taxonomy["emotions"]
            for level in e["intensities"].values()
            for x in level["examples"]
        )
    )
    for eid, levels in feelings.emotions.items():
        for level in FEELING_LEVELS:
            for line in getattr(levels, level):
                for text in expansions(line):
                    shared = runs(normalize(fill(text))) & examples
                    assert not shared, f"{eid}.{level}: {text!r} shares {sorted(shared)[0]}"


def test_validate_checks_the_feelings_against_the_taxonomy(root: Path, tmp_path: Path, catalog):
    from emosim.validate import validate_paths

    data = yaml.safe_load((root / "agents/scripted/client_feelings.yaml").read_text("utf-8"))
    assert validate_paths([root / "agents/scripted/client_feelings.yaml"], catalog).ok
    del data["emotions"]["calm"]
    data["emotions"]["glee"] = data["emotions"]["hope"]
    path = tmp_path / "client_feelings.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    problems = validate_paths([path], catalog).problems
    assert any("emotions.calm: missing" in p for p in problems), problems
    assert any("unknown emotion id 'glee'" in p for p in problems), problems
    data["emotions"]["glee"] = {"low": ["x {amount}"] * 8, "medium": [], "high": []}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    problems = validate_paths([path], catalog).problems
    assert any("unknown slot(s) ['amount']" in p for p in problems), problems


# --- reactions ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reactions(catalog) -> ClientReactionBank:
    return load_client_reactions(catalog)


def reaction_lines(bank: ClientReactionBank) -> Iterator[tuple[str, str]]:
    """(category or category.sub, line) for every line of the bank."""
    for category in ClientReactionBank.model_fields:
        value = getattr(bank, category)
        if category == "version" or category.startswith(("contrast_", "answer_")):
            continue  # lead-ins and answers to Elena's questions, not reactions
        if isinstance(value, list):
            yield from ((category, line) for line in value)
        else:
            for sub, lines in value.model_dump().items():
                yield from ((f"{category}.{sub}", line) for line in lines)


def test_every_reaction_category_is_there(reactions: ClientReactionBank) -> None:
    for category in REACTION_SLOTS:
        minimum = 15 if category == "sign_off" else 10
        assert len(reactions.lines(category)) >= minimum, category
    for tone in ("relief", "dread", "neutral"):
        assert len(reactions.lines("numbers_landed", tone)) >= 8
    from emosim.schemas.persona import MoneyScript

    for script in typing.get_args(MoneyScript):
        assert len(reactions.lines("disagree", script)) >= 8, script


def test_reactions_expand_to_clean_text_with_feeling(reactions: ClientReactionBank) -> None:
    bare = re.compile(r"^(okay|ok|got it|sure|right|yeah|yes|makes sense|thanks|cool)$")
    for where, line in reaction_lines(reactions):
        assert len(_GROUP.findall(line)) >= 2, f"{where}: fewer than 2 groups: {line}"
        texts = {fill(t) for t in expansions(line)}
        assert len(texts) >= 4, f"{where}: too few variants: {line}"
        for text in texts:
            assert "{" not in text and "[" not in text, f"{where}: {text}"
            assert not _BROKEN.search(text), f"{where}: {text!r}"
            words = normalize(text).split()
            assert len(words) >= 5 and not bare.match(" ".join(words)), f"{where}: {text!r}"
            if where.startswith("sign_off"):
                assert "?" not in text, f"{where}: a sign-off asks no question: {text!r}"


def test_reaction_slots_follow_their_category(reactions: ClientReactionBank) -> None:
    for where, line in reaction_lines(reactions):
        category = where.split(".")[0]
        if category == "numbers_landed":
            assert "figure" in slots_in(line) and slots_in(line) <= {"figure", "what"}, line
        elif category == "disagree":
            assert not slots_in(line), line
        else:
            allowed, required = REACTION_SLOTS[category]
            assert required <= slots_in(line) <= allowed, f"{where}: {line}"
    # the question is the client's own sentence: it ends with its "?" and needs no punctuation
    for line in reactions.unanswered:
        assert line.endswith("{question}") or "{question} " in line, line


def test_reactions_share_no_line_with_the_taxonomy(
    reactions: ClientReactionBank, taxonomy, root: Path, catalog
) -> None:
    from emosim.validate import validate_paths

    assert validate_paths([root / "agents/scripted/client_reactions.yaml"], catalog).ok
    examples = {
        normalize(x)
        for e in taxonomy["emotions"]
        for level in e["intensities"].values()
        for x in level["examples"]
    }
    for where, line in reaction_lines(reactions):
        for text in expansions(line):
            mine = normalize(fill(text))
            assert not any(x in mine or mine in x for x in examples), f"{where}: {text!r}"


# --- persona voices -----------------------------------------------------------------------


def test_every_persona_has_a_voice(catalog) -> None:
    assert len(catalog.clients) == 20
    for persona in catalog.clients.values():
        style = persona.speaking_style
        assert len(style.hedges) >= 6, persona.id
        assert len(style.acknowledgements) >= 6, persona.id
        assert len(style.asides) >= 6, persona.id
        assert len(style.sign_offs) >= 4, persona.id
        assert style.intensifiers and style.interjections, persona.id
        for field in ("hedges", "intensifiers", "acknowledgements", "interjections", "asides"):
            for item in getattr(style, field):
                for text in expansions(item):
                    assert text.strip() == text and "  " not in text, (persona.id, text)
        for aside in style.asides:
            assert len(_GROUP.findall(aside)) >= 2, (persona.id, aside)
        for sign_off in style.sign_offs:
            assert "?" not in sign_off, (persona.id, sign_off)


def test_persona_voices_are_distinct(catalog) -> None:
    """No two personas share more than one acknowledgement, any aside or sign-off, and each
    persona's voice vocabulary overlaps any other's by less than a fifth (Jaccard, function words left out)."""
    personas = list(catalog.clients.values())
    stop = set(
        "i i'm i'd i've i'll me my a an the and or but so to of in on at for with it it's that "
        "this is was be you your we our they them not no do don't just like what how if as all "
        "up out about can can't".split()
    )

    def items(persona, field: str) -> set[str]:
        return {normalize(x) for x in getattr(persona.speaking_style, field)}

    def vocabulary(persona) -> set[str]:
        style = persona.speaking_style
        texts = [*style.hedges, *style.intensifiers, *style.acknowledgements, *style.asides]
        return {w for t in texts for x in expansions(t) for w in normalize(x).split()} - stop

    worst = 0.0
    for a, b in itertools.combinations(personas, 2):
        assert len(items(a, "acknowledgements") & items(b, "acknowledgements")) <= 1, (a.id, b.id)
        for field in ("asides", "sign_offs"):
            assert not items(a, field) & items(b, field), (a.id, b.id, field)
        va, vb = vocabulary(a), vocabulary(b)
        worst = max(worst, len(va & vb) / len(va | vb))
    print(f"\nlargest voice-vocabulary overlap between two personas (Jaccard): {worst:.2f}")
    assert worst < 0.2
    flags = {
        (
            p.speaking_style.sentence_length,
            p.speaking_style.contractions,
            p.speaking_style.lowercase,
            p.speaking_style.swears_mild,
        )
        for p in personas
    }
    assert len(flags) >= 5


# --- tellings of the situation ------------------------------------------------------------


def _told_sentences(persona) -> set[str]:
    """Every sentence of a persona's situation the default plan can make them tell: their
    identity and household (as emosim.variations writes the brief) and their facts."""
    from emosim.graphs.context import _told

    def lower(text: str) -> str:
        return text[:1].lower() + text[1:]

    home = persona.household.strip().rstrip(".")
    brief = (
        f"{persona.name} ({persona.age}; {lower(persona.occupation)}) is coming to Elena about"
        f" money. At home: {lower(home)}."
    )
    said = set(_told(brief, persona.name, persona.pronouns or "", persona.household))
    return said | {f.statement for f in persona.facts}


def test_tellings_are_of_sentences_the_persona_tells(catalog) -> None:
    from emosim.agents.scripted.material import _plain
    from emosim.agents.scripted.templates import load_client_tellings

    tellings = load_client_tellings(catalog)
    assert tellings is not None
    listed = 0
    for persona_id, items in tellings.personas.items():
        told = {_plain(s) for s in _told_sentences(catalog.clients[persona_id])}
        for item in items:
            assert _plain(item.says) in told, (persona_id, item.says)
            listed += 1
    assert len(tellings.personas) == len(catalog.clients)
    assert listed >= 100


def test_tellings_keep_every_figure_and_read_cleanly(catalog) -> None:
    from emosim.agents.scripted.templates import digits, load_client_tellings

    tellings = load_client_tellings(catalog)
    for items in tellings.personas.values():
        for item in items:
            for telling in item.tellings:
                for told in expansions(telling):
                    assert sorted(digits(item.says)) == sorted(digits(told)), (item.says, told)
                    assert not _BROKEN.search(told[:1].upper() + told[1:]), told
                    assert told[-1] in ".!" and "?" not in told, told  # a story, not a question


def test_a_telling_that_drops_a_figure_is_an_error(root: Path, tmp_path: Path) -> None:
    from emosim.agents.scripted.templates import ClientTellings
    from emosim.errors import DataError
    from emosim.files import load_yaml_model

    path = tmp_path / "client_tellings.yaml"
    path.write_text(
        'version: "1"\npersonas:\n  cody_blevins:\n'
        '    - says: "My truck payment is $485 a month."\n'
        '      tellings: ["The truck costs [$485|a lot] a month."]\n',
        encoding="utf-8",
    )
    with pytest.raises(DataError) as err:
        load_yaml_model(path, ClientTellings)
    message = str(err.value)
    assert "client_tellings.yaml" in message and "tellings" in message and "485" in message


def test_the_client_tells_its_situation_in_its_own_tellings_and_early(catalog) -> None:
    from emosim.agents.arc import ArcController
    from emosim.agents.backends import scripted_template_paths
    from emosim.agents.messages import ClientInput, Line
    from emosim.agents.scripted.client import STORY_BY, ScriptedClient
    from emosim.agents.scripted.material import _plain, load_client_material
    from emosim.agents.scripted.templates import ClientTemplates
    from emosim.files import load_yaml_model

    material = load_client_material(catalog)
    client = ScriptedClient(
        catalog,
        load_yaml_model(scripted_template_paths(catalog)["client"], ClientTemplates),
        material,
    )
    persona = catalog.clients["frank_russo"]
    story = [
        "I'm a retired union electrician, 38 years in the trade.",
        "I'm married to Linda (65), a retired school secretary.",
        "Two adult daughters and four grandchildren live within a half hour.",
        "When I added up the fees on my statement with all the riders, it comes to about 2.9% a year.",
        "I just found out there's a 6% charge if I pull the money out this year.",
    ]
    topic = catalog.topics["retirement_planning"]
    arc = ArcController(catalog, persona.default_arc, 8)
    openings = set()
    raw = retold = 0
    for exchanges in (2, 3, 8):
        for seed in range(12):
            _, hidden = arc.initial((seed, persona.id))
            transcript: list[Line] = []
            told = 0
            for exchange in range(1, min(exchanges, STORY_BY) + 1):
                request = ClientInput(
                    persona=persona,
                    topic=topic.id,
                    subcategory=topic.subcategories[0].id,
                    situation="test",
                    hidden_state=hidden,
                    transcript=transcript,
                    exchange=exchange,
                    exchanges=exchanges,
                    situation_told=story,
                    told=told,
                    why="answered",
                )
                out = client.speak(request, seed=seed)
                told = out.told
                transcript += [Line(speaker="client", text=out.text)]
                transcript += [Line(speaker="advisor", text="That makes sense, Frank.")]
                if exchange == 1:
                    openings.add(out.text.split(".")[1] if "." in out.text else out.text)
            said = " ".join(line.text for line in transcript if line.speaker == "client")
            # every figure of the situation is said before the client could leave or sign off
            for figure in ("38", "65", "2.9%", "6%"):
                assert figure in said, (exchanges, seed, said)
            assert told == len(story)
            # in the persona's tellings, not the rewrite's words
            raw += sum(_plain(s) in _plain(said) for s in story)
            retold += sum(_plain(s) not in _plain(said) for s in story)
    assert retold > 3 * raw
    assert len(openings) >= 6  # the same persona opens in many ways


# --- feelings told through the persona's own life ------------------------------------------


def test_every_persona_tells_feelings_through_their_own_life(catalog, taxonomy) -> None:
    """client_lives.yaml: each persona has hard and easier lines naming only people and places
    of their own persona file, with no taxonomy example line in them and few observer cues
    (the lines are written about a life, not from the cue lists)."""
    from emosim.agents.scripted.templates import load_client_lives

    lives = load_client_lives(catalog)
    assert lives is not None and set(lives.personas) == set(catalog.clients)
    examples = {
        normalize(x)
        for e in taxonomy["emotions"]
        for level in e["intensities"].values()
        for x in level["examples"]
    }
    lexicon = Lexicon({e["id"]: e["cues"] for e in taxonomy["emotions"]})
    lines = cued = 0
    for pid, own in lives.personas.items():
        assert len(own.hard) >= 3 and len(own.easier) >= 3, pid
        # how they take being heard or answered, in their own words
        assert len(own.heard) >= 4 and len(own.answered) >= 4, pid
        persona = catalog.clients[pid]
        known = persona.model_dump_json(exclude={"id"}).lower()
        for line in own.hard + own.easier + own.heard + own.answered:
            feeling = line in own.hard or line in own.easier  # heard/answered are reactions
            lines += feeling
            labels: set[str] = set()
            for text in expansions(line):
                assert not _BROKEN.search(text[:1].upper() + text[1:]), text
                mine = normalize(text)
                assert not any(x in mine or mine in x for x in examples), (pid, text)
                # a capitalised word mid-sentence is a name: the persona file holds it
                for name in re.findall(r"(?<=[a-z,] )[A-Z][^\W\d_]+", text):
                    assert name.lower() in known, (pid, name, text)
                labels |= {hit.label for hit in lexicon.find(text)}
            cued += feeling and bool(labels)
    print(f"\nlife lines with any observer cue: {cued}/{lines} = {cued / lines:.1%}")
    assert lines >= 100
    assert cued / lines < 0.4


def test_a_life_line_with_a_figure_is_an_error(root: Path, tmp_path: Path) -> None:
    from emosim.agents.scripted.templates import ClientLives
    from emosim.errors import DataError
    from emosim.files import load_yaml_model

    bad = tmp_path / "client_lives.yaml"
    bad.write_text(
        'version: "1"\npersonas:\n  cody_blevins:\n    hard:\n'
        '      - "[The truck|My truck] costs me $485 a month."\n',
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=r"personas\.cody_blevins\.hard.*figure"):
        load_yaml_model(bad, ClientLives)
