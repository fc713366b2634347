"""The answer index: answers chosen by meaning (emosim/agents/scripted/retrieval.py) and its
paraphrase evaluation (emosim/evals/paraphrases.py, data/paraphrases/answer_bank.yaml)."""

from __future__ import annotations

import pytest

from emosim.agents.backends import load_advisor_templates
from emosim.agents.scripted.asked_as import ASKED_AS_DIR, load_asked_as
from emosim.agents.scripted.retrieval import (
    AnswerIndex,
    Params,
    _strip,
    concepts_path,
    content_words,
    index_for,
    intent,
    load_concepts,
    load_sayings,
    normalize,
)
from emosim.agents.scripted.text import split_sentences
from emosim.catalog import Catalog
from emosim.evals.paraphrases import (
    TARGET_ACCURACY,
    TARGET_FALSE_MATCH,
    ParaphraseEval,
    load_paraphrases,
    paraphrase_accuracy,
)
from emosim.files import DataError

# Measured with the shipped index and ranker (trained on phrasings and dev, its threshold
# cross-validated on dev; test measured, never tuned on). They guard against regressions; the
# targets are the issue's.
DEV_ACCURACY = 0.89  # 190 of 211, 11 of 174 off-bank matched (in sample; cross-validated:
# 88.6%, 7.5%)
TEST_ACCURACY = 0.745  # 588 of 782 with the sayings of concepts.yaml (586 before; test-7, 241
# paraphrases written after the fifth round: 167, 69.3%, 165 before); before test-7: 421 of
# 541 (the threshold rule before the ranker: 401, 74.1%); test-6: 131 of 157 (83.4%)
TEST_FALSE_MATCH = 0.095  # 15 of 167 (test-7: 3 of 40); before test-7: 12 of 127 (the rule: 18,
# 14.2%); test-6: 3 of 34 (6 before)


@pytest.fixture(scope="module")
def index(catalog: Catalog) -> AnswerIndex:
    return index_for(load_advisor_templates(catalog).answers, catalog)


@pytest.fixture(scope="module")
def evaluation(index: AnswerIndex) -> ParaphraseEval:
    return paraphrase_accuracy(index)


def test_every_bank_question_matches_its_own_answers(index: AnswerIndex) -> None:
    assert len(index.entries) >= 344 + 25
    for entry in index.entries:
        found = index.match(entry.question, entry.topic)
        assert found is not None and found.template is entry.template, entry.question
        assert found.method in {"exact", "pattern"} and found.score == 1.0


def test_bank_questions_find_themselves_by_meaning_too(index: AnswerIndex) -> None:
    """Without the exact path, the meaning path still ranks a bank question's own wording
    first: the index is a faithful picture of the bank."""
    found = 0
    for entry in index.entries:
        sentences = [s for _, _, s in split_sentences(entry.question)]
        questions = [s for s in sentences if s.endswith("?")]
        match = index._meaning(sentences, questions, entry.topic)
        found += match is not None and match.question == entry.question
    assert found / len(index.entries) >= 0.97


def test_slot_questions_still_match_by_pattern(index: AnswerIndex) -> None:
    found = index.match("Where do people usually start with paying down debt?", "debt_management")
    assert found is not None and found.method == "pattern"
    assert found.question == "Where do people usually start with {topic_phrase}?"
    found = index.match("When should I check back in with you, Elena?")
    assert found is not None and found.question.startswith("When should I check back in")


def test_a_question_inside_a_longer_message_is_found(index: AnswerIndex) -> None:
    message = "Okay. That helps. How do tax brackets actually work?"
    found = index.match(message, "tax_planning")
    assert found is not None and found.method == "exact"
    assert found.question == "How do tax brackets actually work?"


def test_a_paraphrase_gets_the_same_answer(index: AnswerIndex) -> None:
    found = index.match("Can someone explain tax brackets to me? I never got how they work.")
    assert found is not None and found.method == "meaning"
    assert found.question == "How do tax brackets actually work?"
    assert 0.0 < found.margin <= found.score


def test_the_question_counts_more_than_the_story_around_it(index: AnswerIndex) -> None:
    """A long message whose story is about other things is answered by what it asks."""
    message = (
        "We just refinanced the house, my daughter starts college next fall and my husband "
        "is thinking about retiring early. Separate thing: is it worth paying someone to "
        "file our taxes?"
    )
    unfocused = AnswerIndex(
        index.entries, Params(focus=0.0), index.glossary, index.topic_names, index.phrasings
    )
    assert unfocused.match(message, "tax_planning") is None
    found = index.match(message, "tax_planning")
    assert found is not None and found.question == "Is it worth paying someone to do my taxes?"


def test_the_clients_own_figures_are_not_what_is_asked(index: AnswerIndex) -> None:
    own = index.query_features(["I have $4,100 left on the 25th, 4% in a 529 plan."])[2]
    assert set(own) == {"left", "529", "plan"}  # 529 names a thing; the rest are figures
    plain = index.match("How much should my emergency fund be?", "emergency_fund")
    figured = index.match(
        "I have $9,000 saved and spend $3,100 a month. How much should my emergency fund be?",
        "emergency_fund",
    )
    assert plain is not None and figured is not None and figured.question == plain.question


def test_a_one_letter_slip_is_read_as_the_bank_word(index: AnswerIndex) -> None:
    assert index._spell("diffrence") == "difference"  # a letter dropped
    assert index._spell("deductable") == "deductible"  # a letter changed
    assert index._spell("abroad") == "abroad"  # a known word plus a letter: a real word
    assert index._spell("mortgage") == "mortgage"
    found = index.match("whats the diffrence between a revocable and an irrevokable trust")
    assert found is not None
    assert found.question == "What's the difference between a revocable and an irrevocable trust?"


def test_small_talk_and_unrelated_questions_get_no_answer(index: AnswerIndex) -> None:
    for text in (
        "What's the capital of Australia?",
        "Did you see the game last night?",
        "Thanks so much, this was really helpful!",
        "How do I reset my online banking password?",
    ):
        assert index.match(text, "budgeting_cash_flow") is None, text


def test_normalization() -> None:
    assert "workplace retirement plan" in normalize("Is my 401(k) ok?")
    assert "solo401k" in normalize("SEP or Solo 401k?")
    assert "social security" in normalize("When do I take SS?")
    assert "can not" in normalize("I can’t pay")
    assert intent("How much do I need?") == "amount"
    assert intent("Roth vs traditional?") == "difference"
    assert intent("When should I claim?") == "time"


def test_paraphrase_file_is_large_enough_and_valid(index: AnswerIndex) -> None:
    items = load_paraphrases().items
    bank = {e.question for e in index.entries}
    paraphrases = [i for i in items if i.expected]
    assert len(paraphrases) >= 120 and len([i for i in items if not i.expected]) >= 40
    assert {i.split for i in items} == {"dev", "test"}
    assert all(q in bank for i in items for q in i.accepted)
    covered = {e.topic for e in index.entries if e.question in {i.expected for i in paraphrases}}
    assert len(covered - {None}) == 17  # every topic has paraphrases


def test_dev_accuracy_and_false_matches(evaluation: ParaphraseEval) -> None:
    dev = evaluation.splits["dev"]
    assert dev.accuracy >= DEV_ACCURACY, dev
    assert dev.false_match_rate <= TARGET_FALSE_MATCH, dev


def test_held_out_accuracy_does_not_regress(evaluation: ParaphraseEval) -> None:
    test = evaluation.splits["test"]
    assert test.n >= 60 and test.off_bank >= 20
    assert test.accuracy >= TEST_ACCURACY, test
    assert test.false_match_rate <= TEST_FALSE_MATCH, test


@pytest.mark.xfail(
    strict=True,
    reason="the accuracy target (>= 85% of held-out paraphrases) is not met by lexical "
    "retrieval with expert phrasings, sayings and a learned ranker: measured 75.2% (588 of 782) "
    "with 9.0% of off-bank questions matched (the <= 10% target is met); test-7, the newest "
    "split by an independent author: 69.3% and 7.5%; test-5 (rambling, indirect): 60.2%",
)
def test_held_out_accuracy_meets_the_target(evaluation: ParaphraseEval) -> None:
    assert evaluation.met
    assert evaluation.splits["test"].accuracy >= TARGET_ACCURACY


def test_phrasings_are_read_as_wordings_of_their_question(catalog: Catalog) -> None:
    """A planner's phrasing (agents/scripted/asked_as/) finds its bank question in words the
    question does not share; without the phrasings the same message finds nothing."""
    answers = load_advisor_templates(catalog).answers
    phrasings = load_asked_as(catalog.root, [a.question for a in answers])
    assert len(phrasings) >= 300 and all(phrasings.values())
    with_them = AnswerIndex.build(answers, catalog)
    without = AnswerIndex(with_them.entries, Params(), with_them.glossary, with_them.topic_names)
    message = "Be honest, how much trouble am I in?"
    expected = "How bad is this, honestly?"
    assert message in phrasings[expected]
    found = with_them.match(message)
    assert found is not None and found.question == expected and found.method == "meaning"
    missed = without.match(message)
    assert missed is None or missed.question != expected


def test_a_phrasing_of_no_bank_question_is_an_error(tmp_path, catalog: Catalog) -> None:
    folder = tmp_path / ASKED_AS_DIR
    folder.mkdir(parents=True)
    (folder / "debt.yaml").write_text(
        'topic: debt_management\nasked_as:\n  "How do I pay off debt?":\n    - "Debt help?"\n'
    )
    with pytest.raises(DataError) as err:
        load_asked_as(tmp_path, ["Where do I even start?"])
    assert "debt.yaml" in str(err.value) and "How do I pay off debt?" in str(err.value)
    (folder / "debt.yaml").write_text('asked_as:\n  "Where do I even start?": []\n')
    with pytest.raises(DataError) as err:
        load_asked_as(tmp_path, ["Where do I even start?"])
    assert "debt.yaml" in str(err.value) and "asked_as" in str(err.value)


def test_concepts_are_read_from_the_concept_file(tmp_path) -> None:
    """Words of one meaning come from agents/scripted/concepts.yaml; a word under two
    concepts is an error naming the file and the word."""
    shipped = load_concepts(concepts_path())
    assert shipped[_strip("attorney")] == _strip("lawyer")
    assert content_words("My attorney said so") == ["attorney", "said"]
    path = tmp_path / "concepts.yaml"
    path.write_text("concepts:\n  lawyer: [attorney]\n  advisor: [counsel, attorney]\n")
    with pytest.raises(DataError) as err:
        load_concepts(path)
    assert "concepts.yaml" in str(err.value) and "'attorney'" in str(err.value)


def test_a_word_the_bank_never_uses_makes_an_answer_less_likely(index: AnswerIndex) -> None:
    """A question about a thing the bank has no answer for (a kayak, a prepaid card) gets
    none, though its other words would fit a bank question."""
    lax = AnswerIndex(
        index.entries, Params(unknown=0.0), index.glossary, index.topic_names, index.phrasings
    )
    for text, topic in (
        ("Does my homeowners insurance cover my kayak?", "insurance_planning"),
        ("Should my teenager get a debit card or a prepaid card?", "budgeting_cash_flow"),
    ):
        assert index.match(text, topic) is None, text
        assert lax.match(text, topic) is not None, text  # without the penalty: a false match
    found = index.match("Should I get disability insurance?", "insurance_planning")
    assert found is not None and "disability" in found.question


def test_the_evaluation_can_fail(index: AnswerIndex, catalog: Catalog) -> None:
    """An index that answers everything is caught by the off-bank questions, and one that
    answers nothing by the paraphrases."""
    answers = [e.template for e in index.entries]
    eager = AnswerIndex.build(answers, catalog, Params(threshold=-1.0, coverage=-1.0), ranker=False)
    result = paraphrase_accuracy(eager)
    assert result.false_match_rate == 1.0 and not result.met
    mute = AnswerIndex.build(answers, catalog, Params(threshold=99.0), ranker=False)
    result = paraphrase_accuracy(mute)
    assert result.accuracy == 0.0 and len(result.misses) == result.n
    assert all(m.got is None for m in result.misses)


def test_matching_is_deterministic(index: AnswerIndex, catalog: Catalog) -> None:
    again = AnswerIndex.build([e.template for e in index.entries], catalog)
    for item in load_paraphrases().items:
        a = index.match_uncached(item.text, item.topic)
        b = again.match(item.text, item.topic)
        assert (a and (a.question, round(a.score, 9))) == (b and (b.question, round(b.score, 9)))
        assert index.match(item.text, item.topic) == index.match(item.text, item.topic)


def test_index_is_built_once_per_process(catalog: Catalog) -> None:
    """Every advisor loads its templates anew; the index is built for the first only."""
    first = index_for(load_advisor_templates(catalog).answers, catalog)
    assert index_for(load_advisor_templates(catalog).answers, catalog) is first


def test_the_ranker_decides_with_the_shipped_weights(index: AnswerIndex) -> None:
    """The shipped index ranks its best candidates with the trained ranker; its confidence is
    the ranker's probability, and without the ranker the threshold rule decides."""
    from emosim.agents.scripted.ranker import FEATURES, candidate_features, load_ranker

    assert index.ranker is not None
    found = index.match("stocks vs bonds, explain it like I'm new to this", "investing_basics")
    assert found is not None and found.confidence is not None
    assert found.confidence >= index.ranker.threshold
    scored = index.scored("stocks vs bonds, explain it like I'm new to this", "investing_basics")
    assert scored is not None
    ids, rows = candidate_features(index, scored)
    assert rows.shape == (len(ids), len(FEATURES))
    assert (
        index.entries[int(ids[0])].question
        == "What's the difference between a stock and a bond, in plain English?"
    )
    assert load_ranker().threshold == index.ranker.threshold


def test_a_ranker_file_of_other_features_is_an_error(tmp_path) -> None:
    from emosim.agents.scripted.ranker import FEATURES, RankerFile, load_ranker, write_ranker

    n = len(FEATURES) - 1
    data = RankerFile(
        version="1",
        trained_on="a test",
        features=list(FEATURES[:-1]),
        mean=[0.0] * n,
        scale=[1.0] * n,
        weights=[0.0] * n,
        intercept=0.0,
        threshold=0.5,
    )
    path = tmp_path / "answer_ranker.yaml"
    write_ranker(path, data)
    with pytest.raises(DataError) as err:
        load_ranker(path)
    assert "answer_ranker.yaml" in str(err.value) and "retrain" in str(err.value)


def test_sayings_are_read_as_the_plain_words_of_the_bank(tmp_path, index: AnswerIndex) -> None:
    """agents/scripted/concepts.yaml `sayings`: a client's idiom is read as the bank's words,
    with a hyphen or a space between its words; the shipped sayings name words the bank has."""
    assert "emergency fund" in normalize("We never built a rainy-day fund")
    assert content_words("my nest egg") == ["retirement", "savings"]
    assert content_words("what does the taxman take") == ["tax", "take"]
    assert content_words("the nest was empty") == ["nest", "empty"]  # a word of it alone: kept
    found = load_sayings(concepts_path())
    assert found is not None
    for saying, plain in found[1].items():
        own = index.query_features([plain])[2]
        assert own and all(f in index._vocabulary for f in own), (saying, plain)
    path = tmp_path / "concepts.yaml"
    path.write_text("concepts: {}\nsayings:\n  Piggy-Bank: savings account\n")
    pattern, plain = load_sayings(path) or (None, None)
    assert pattern is not None and pattern.search("my piggy bank")
    assert plain == {"piggy bank": "savings account"}
    path.write_text("concepts: {}\n")
    assert load_sayings(path) is None
