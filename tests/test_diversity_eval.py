"""`emosim eval diversity`: sentence patterns, matched distinct-2, turn length, bare
acknowledgements, outcomes, sign-offs and the persona voice classifier, on handmade texts and
on the shared ESConv sample."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from emosim.cli import app
from emosim.diversity import (
    conversation_patterns,
    distinct_n,
    mask_sentence,
    split_sentences,
)
from emosim.evals.diversity import (
    ESCONV_SAMPLE_TURNS,
    Dialog,
    acknowledgements,
    dialog_of_record,
    dialog_patterns,
    dialogs_of_esconv,
    esconv_turns,
    evaluate_dialogs,
    is_bare_acknowledgement,
    is_esconv_file,
    is_sign_off,
    matched_distinct,
    matched_sample,
    outcomes,
    pattern_spread,
    reason_kind,
    record_outcome,
    sign_offs,
    voice_classifier,
    widespread_share,
)

ROOT = Path(__file__).resolve().parent.parent
ESCONV_SAMPLE = ROOT / "data" / "esconv_sample" / "train_sample.json"  # shipped with emosim


def _dialog(i: int, pairs: list[tuple[str, str]], **kwargs) -> Dialog:
    """Alternating client/advisor turns from (client, advisor) pairs."""
    turns = []
    for client, advisor in pairs:
        turns.append(("client", client))
        if advisor:
            turns.append(("advisor", advisor))
    return Dialog(id=f"d{i}", turns=tuple(turns), **kwargs)


# --- sentences and masks ---------------------------------------------------------------------


def test_split_sentences_keeps_abbreviations_and_decimals():
    text = 'I saved $2.5 million, e.g. in a Roth. Dr. Lee said "go!" Then what?\nNext line'
    assert split_sentences(text) == [
        "I saved $2.5 million, e.g. in a Roth.",
        'Dr. Lee said "go!"',
        "Then what?",
        "Next line",
    ]
    assert split_sentences("No. I don't think so.") == ["No.", "I don't think so."]
    assert split_sentences("   ") == []


def test_mask_numbers_amounts_and_percentages():
    a = mask_sentence("You have $2,400 saved and pay 3.5% on the loan.")
    b = mask_sentence("You have $180 saved and pay 15 percent on the loan!")
    assert a == b == "you have <num> saved and pay <num> on the loan"
    assert mask_sentence("Set aside twenty-five minutes, or two hours.") == (
        "set aside <num> minutes, or <num> hours"
    )
    # "one" is too often a pronoun to be a number
    assert mask_sentence("That one is fine.") == "that one is fine"


def test_mask_names_known_inner_and_common_proper_nouns():
    names = {"ruth", "goldberg", "elena"}
    assert mask_sentence("Ruth, this is hard.", names) == "<name>, this is hard"
    assert mask_sentence("Thanks, Elena.", names) == "thanks, <name>"
    # a capitalized word inside a sentence is a name unless it is a common proper noun
    assert mask_sentence("My son Karim's plan is fine.") == "my son <name>'s plan is fine"
    assert mask_sentence("Ask the IRS about Social Security and a Roth IRA in May.") == (
        "ask the irs about social security and a roth ira in may"
    )
    # the first word of a sentence is not a name unless known
    assert mask_sentence("Karim wants it.") == "karim wants it"
    assert mask_sentence("I think I’m “fine”.") == 'i think i\'m "fine"'
    assert mask_sentence("Okay!!") == mask_sentence("okay.") == "okay"
    assert mask_sentence("Okay?") == "okay?"


def test_conversation_patterns_mask_names_seen_inside_a_sentence_everywhere():
    turns = ["My brother Karim runs it.", "Karim wants out. How much is 10%?"]
    assert conversation_patterns(turns, ["Nadia"]) == [
        ["my brother <name> runs it"],
        ["<name> wants out", "how much is <num>?"],
    ]


# --- patterns across conversations ------------------------------------------------------------


def test_widespread_share_counts_distinct_conversations():
    template = "We could start with whatever feels most urgent, {name}."
    dialogs = [
        _dialog(
            i,
            [("Hi.", template.format(name=name) + f" Your rent is ${100 * i}. Unique line {w}.")],
            names=frozenset({name.lower()}),
        )
        for i, (name, w) in enumerate(
            [
                ("Ruth", "alpha"),
                ("Omar", "beta"),
                ("Priya", "gamma"),
                ("Dana", "delta"),
                ("Frank", "epsilon"),
                ("Gary", "zeta"),
            ]
        )
    ]
    patterns = [dialog_patterns(d)["advisor"] for d in dialogs]
    conversations, sentences = pattern_spread(patterns)
    assert conversations["we could start with whatever feels most urgent, <name>"] == 6
    assert conversations["your rent is <num>"] == 6
    # 12 of the 18 advisor sentences use a pattern found in 5+ conversations
    assert widespread_share(patterns) == pytest.approx(12 / 18)
    # with only four conversations nothing is widespread
    assert widespread_share(patterns[:4]) == 0.0
    # a pattern repeated inside one conversation counts that conversation once
    twice = [[["okay"], ["okay"]]] * 4
    assert pattern_spread(twice)[0]["okay"] == 4
    assert widespread_share(twice) == 0.0


# --- matched distinct-2 ----------------------------------------------------------------------


def test_matched_sample_has_exactly_the_target_turns_and_is_seeded():
    turns = [[f"t{i}{j}" for j in range(n)] for i, n in enumerate([3, 4, 0, 5, 2])]
    for seed in range(5):
        taken = matched_sample(turns, 7, seed)
        count = sum(len(turns[t]) if isinstance(t, int) else t[1] for t in taken)
        assert count == 7
        assert taken == matched_sample(turns, 7, seed)
    assert matched_sample(turns, 7, 0) != matched_sample(turns, 7, 3)
    everything = matched_sample(turns, 100, 0)
    assert sum(len(turns[t]) for t in everything) == 14  # fewer turns than asked: all of them


def test_matched_distinct_is_distinct_2_of_the_sample():
    repetitive = [["we can figure this out together"] * 3 for _ in range(10)]
    varied = [
        [f"turn {i} {j} says something new {i * 10 + j}" for j in range(3)] for i in range(10)
    ]
    patterns = [[[t] for t in turns] for turns in repetitive]
    low = matched_distinct(repetitive, patterns, 6)
    assert low.turns == 6 and low.draws == 5
    assert low.distinct_2 == pytest.approx(
        distinct_n(["we can figure this out together"] * 6, 2), abs=1e-4
    )
    high = matched_distinct(varied, [[[t] for t in d] for d in varied], 6)
    assert high.distinct_2 > 2 * low.distinct_2
    # the sample size, not the corpus size, decides: a bigger corpus gives the same figure
    assert matched_distinct(repetitive * 5, patterns * 5, 6).distinct_2 == low.distinct_2


# --- client turns ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Okay.",
        "ok",
        "Makes sense!",
        "Got it.",
        "Thanks.",
        "Yeah, I think I get it.",
        "Okay, that helps.",
        "Sure",
        "Alright, I'm with you.",
        "Okay. Thanks!",
        "That's useful, thanks.",
    ],
)
def test_bare_acknowledgements(text):
    assert is_bare_acknowledgement(text)


@pytest.mark.parametrize(
    "text",
    [
        "Okay, but what about taxes?",
        "Makes sense, my wife will hate it.",
        "Thanks for nothing.",
        "okay okay okay okay okay okay okay okay okay",
        "I'm scared.",
        "",
    ],
)
def test_not_bare_acknowledgements(text):
    assert not is_bare_acknowledgement(text)


def test_acknowledgement_shares():
    dialogs = [
        _dialog(0, [("Okay.", "a"), ("Okay, that helps. What about the car loan?", "b")]),
        _dialog(1, [("I lost my job last week and I'm scared.", "c"), ("Got it!", "d")]),
    ]
    found = acknowledgements(dialogs)
    assert (found.client_turns, found.bare, found.share) == (4, 2, 0.5)
    assert found.with_bare_sentence == 3 and found.with_bare_sentence_share == 0.75
    assert found.top == {"okay": 1, "okay that helps": 1, "got it": 1}


# --- endings and outcomes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks, talk soon.", True),
        ("This helped. I'll check in once I've made a start.", True),
        ("Okay, bye!", True),
        ("I'm going to start with that first step.", True),
        ("Thanks, but what about the mortgage?", False),
        ("I'm not sure this is working.", False),
    ],
)
def test_is_sign_off(text, expected):
    assert is_sign_off(text) is expected


def test_sign_offs_answered_with_a_question():
    dialogs = [
        _dialog(
            0, [("Hi.", "Hello?"), ("Thanks, talk soon.", "Before you go, what's your budget?")]
        ),
        _dialog(1, [("Hi.", "Hello?"), ("Thanks, bye.", "Take care, and well done today.")]),
        _dialog(2, [("Hi.", "Hello."), ("What about taxes?", "What do you pay now?")]),
        _dialog(3, [("Thank you, that's all.", "")]),  # no reply: not a question
    ]
    found = sign_offs(dialogs)
    assert (found.conversations, found.sign_offs, found.answered_with_question) == (4, 3, 1)
    assert found.examples == ["d0"]


def test_outcomes_mix_and_fallback():
    assert record_outcome(
        SimpleNamespace(outcome=SimpleNamespace(arc_completed=False))  # type: ignore[arg-type]
    ) == ("not_completed", None)
    new = SimpleNamespace(
        outcome=SimpleNamespace(arc_completed=False, arc_outcome="regressed", arc_reason="jargon")
    )
    assert record_outcome(new) == ("regressed", "jargon")  # type: ignore[arg-type]
    dialogs = [
        _dialog(i, [("a", "b")], outcome=o, reason=r)
        for i, (o, r) in enumerate(
            [("completed", None)] * 7
            + [("stalled", "no answer"), ("failed", "left"), ("stalled", "no answer")]
        )
    ]
    found = outcomes(dialogs)
    assert found.available and found.counts == {"completed": 7, "stalled": 2, "failed": 1}
    assert found.not_completed_share == 0.3
    assert found.reasons == {"stalled: no answer": 2, "failed: left": 1}
    assert (
        reason_kind(
            "the client left after 3 setback(s); last: exchange 4, asked again: 'What now?'"
        )
        == reason_kind("the client left after 4 setback(s); last: exchange 2")
        == ("the client left after N setback(s)")
    )
    assert reason_kind("the reply did not take up the question 'Is it safe?'") == (
        "the reply did not take up the question '…'"
    )
    assert reason_kind(None) == "(no reason given)"
    assert not outcomes([_dialog(0, [("a", "b")])]).available


# --- voice classifier ------------------------------------------------------------------------

VOICES = {
    "surfer": [
        "Dude, like, totally gnarly {x}, bro.",
        "Honestly dude the {x} thing is wild, man.",
        "Yo, so like, what's up with {x}, bro?",
    ],
    "professor": [
        "Indeed, one must consider the {x} carefully, furthermore.",
        "I should like to inquire, moreover, regarding the {x}.",
        "Accordingly, the {x} warrants considerable deliberation.",
    ],
    "worrier": [
        "I'm so scared about the {x}, I can't sleep.",
        "What if the {x} goes wrong, oh no.",
        "I keep panicking about the {x}, sorry, sorry.",
    ],
}
TOPICS = ["mortgage", "budget", "pension", "car loan", "savings", "taxes", "tuition", "rent"]


def _voiced(n_per_persona: int) -> list[Dialog]:
    dialogs = []
    for persona, lines in VOICES.items():
        for k in range(n_per_persona):
            pairs = [
                (line.format(x=TOPICS[(k + j) % len(TOPICS)]), "Tell me more.")
                for j, line in enumerate(lines)
            ]
            dialogs.append(_dialog(len(dialogs), pairs, persona=persona))
    return dialogs


def test_voice_classifier_tells_distinct_voices_apart():
    found = voice_classifier(_voiced(8))
    assert found.ran, found.message
    assert (found.personas, found.conversations, found.turns, found.folds) == (3, 24, 72, 5)
    assert found.chance == pytest.approx(1 / 3, abs=1e-3)
    assert found.accuracy is not None and found.accuracy >= 0.9
    assert found.conversation_accuracy == 1.0


def test_voice_classifier_is_near_chance_when_voices_are_one():
    same = [
        _dialog(
            i,
            [(f"Okay, what about the {TOPICS[(i + j) % 8]}?", "Sure.") for j in range(3)],
            persona=f"p{i % 3}",
        )
        for i in range(24)
    ]
    found = voice_classifier(same)
    assert found.ran and found.accuracy is not None and found.accuracy < 0.6


def test_voice_classifier_skips_with_a_reason():
    one = voice_classifier([_dialog(i, [("Hi.", "Hello.")], persona="a") for i in range(10)])
    assert not one.ran and "fewer than 2" in one.message
    few = voice_classifier(_voiced(1))
    assert not few.ran and "too few" in few.message
    none = voice_classifier([_dialog(i, [("Hi.", "Hello.")]) for i in range(10)])
    assert not none.ran and "ESConv" in none.message


# --- records and ESConv ----------------------------------------------------------------------


def test_dialog_of_record_knows_names_and_outcome(scripted_run):
    _, records = scripted_run
    record = records[0]
    dialog = dialog_of_record(record)
    assert dialog.persona == record.scenario.client_persona_id
    assert "elena" in dialog.names
    assert all(p.lower() in dialog.names for p in record.scenario.client_persona.name.split())
    assert dialog.outcome in {"completed", "not_completed", "stalled", "regressed", "failed"}
    assert [s for s, _ in dialog.turns] == [t.speaker for t in record.turns]


@pytest.fixture(scope="module")
def esconv_sample() -> Path:
    return ESCONV_SAMPLE


def test_esconv_sample_reads_as_dialogs(esconv_sample, scripted_run):
    run, _ = scripted_run
    assert is_esconv_file(esconv_sample)
    assert not is_esconv_file(run.records_path)
    dialogs = dialogs_of_esconv(esconv_sample)
    assert len(dialogs) == 25
    assert esconv_turns(esconv_sample) == ESCONV_SAMPLE_TURNS == {"advisor": 351, "client": 391}
    assert dialogs[0].turns[0] == ("client", "Hello good afternoon.")
    assert dialogs[0].turns[1] == ("advisor", "Hi, good afternoon.")


def test_esconv_sample_figures(esconv_sample):
    result = evaluate_dialogs(dialogs_of_esconv(esconv_sample), kind="esconv")
    advisor, client = result.speakers["advisor"], result.speakers["client"]
    # matched to its own size, the sample is its own matched sample
    assert advisor.matched is not None and advisor.matched.turns == 351
    assert advisor.matched.distinct_2 == pytest.approx(advisor.distinct_2, abs=1e-4)
    assert 0.6 < advisor.distinct_2 < 0.75 and 0.65 < client.distinct_2 < 0.8
    assert advisor.widespread_share < 0.05 and client.widespread_share < 0.1
    assert 10 <= advisor.words_median <= 20
    assert result.acknowledgements.share < 0.05
    assert not result.outcomes.available
    assert result.sign_offs.answered_with_question == 0
    assert not result.voice.ran


def test_cli_eval_diversity_records_and_esconv(cli, scripted_run, esconv_sample, tmp_path):
    run, _ = scripted_run
    out = tmp_path / "div.json"
    result = cli.invoke(
        app,
        [
            "eval",
            "diversity",
            str(run.records_path),
            "--esconv",
            str(esconv_sample),
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Diversity per speaker" in result.output and "voice classifier" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["corpus"]["kind"] == "records" and data["reference"]["kind"] == "esconv"
    assert data["corpus"]["speakers"]["advisor"]["matched"]["target_turns"] == 351
    assert "fewer than 2" in data["corpus"]["voice"]["message"]

    printed = cli.invoke(
        app, ["eval", "diversity", str(esconv_sample), "--json", "-", "--match", "50"]
    )
    assert printed.exit_code == 0, printed.output
    data = json.loads(printed.output)
    assert data["corpus"]["conversations"] == 25 and data["reference"] is None
    assert data["corpus"]["speakers"]["client"]["matched"]["turns"] == 50

    mixed = cli.invoke(app, ["eval", "diversity", str(run.records_path), str(esconv_sample)])
    assert mixed.exit_code != 0 and "not both" in mixed.output

    folder = cli.invoke(app, ["eval", "diversity", str(esconv_sample.parent)])
    assert folder.exit_code != 0 and "give the files themselves" in folder.output
    assert "train_sample.json" in folder.output


def test_slot_masking_joins_templates_with_different_fillers(catalog):
    from emosim.evals.diversity import catalog_slots, slot_masker

    mask = slot_masker({"topic": ["paying off debt", "debt"], "feeling": ["anxious"]})
    assert mask("you seem anxious whenever paying off debt comes up") == (
        "you seem <feeling> whenever <topic> comes up"
    )
    assert mask("debtor") == "debtor"  # whole words only
    slots = catalog_slots(catalog)
    assert slots["topic"] and slots["feeling"]
    template = "You seem {} whenever {} comes up, which tells me it matters."
    topics = [t.phrase for t in catalog.topics.values()][:6]
    feelings = [e.adjective for e in catalog.emotions.values() if e.adjective][:6]
    dialogs = [
        _dialog(i, [("Hi.", template.format(f, t))])
        for i, (f, t) in enumerate(zip(feelings, topics, strict=True))
    ]
    plain = evaluate_dialogs(dialogs, voice=False).speakers["advisor"]
    strict = evaluate_dialogs(dialogs, voice=False, slots=slots).speakers["advisor"]
    assert plain.widespread_share == 0.0 and plain.slot_widespread_share is None
    assert strict.slot_widespread_share == 1.0 and strict.slot_patterns == 1
