"""The scripted sentence-function observer labels hand-written advisor sentences (not taken
from the generator's templates) the way a discourse analyst would."""

from __future__ import annotations

import pytest

from emosim.agents.scripted.observers import CueSentenceObserver

QUESTIONS = [
    ("What would a good month look like for you?", "ask_open_question"),
    ("How did the conversation with your sister go?", "ask_open_question"),
    ("I'm curious: what made you pick this week to call?", "ask_open_question"),
    ("Tell me more about how the business pays you.", "ask_open_question"),
    ("Do you have any savings set aside right now?", "ask_closed_question"),
    ("Is the loan in your name or your husband's?", "ask_closed_question"),
    ("Which account should we look at first, the IRA or the checking?", "ask_closed_question"),
    ("Have you received the statement from the plan yet?", "ask_closed_question"),
    ("Does that make sense so far?", "check_understanding"),
    ("How does that sound to you?", "check_understanding"),
    ("Correct me if I'm wrong, but the house is the bigger worry.", "check_understanding"),
    ("Would you like to start with the credit card statement?", "invite_next_step"),
    ("Shall we look at the budget together next time?", "invite_next_step"),
]

FEELINGS = [
    ("You sound exhausted by all the back and forth.", "acknowledge_emotion"),
    ("I can hear how much this has been weighing on you.", "acknowledge_emotion"),
    ("It makes sense that you'd be wary after what happened.", "validate"),
    ("Anyone would feel rattled getting a letter like that.", "validate"),
    ("A lot of people put this off for years.", "normalize"),
    ("You're not alone in finding these forms confusing.", "normalize"),
    ("It took courage to open that envelope.", "affirm_strength"),
    ("Give yourself credit for keeping the payments going.", "affirm_strength"),
    ("You've already gathered every document we need.", "affirm_strength"),
    ("Calling the lender yourself shows real persistence.", "affirm_strength"),
    ("I'm proud of how you handled the call with the bank.", "affirm_strength"),
    ("Look at it as a starting point rather than a verdict.", "reframe_perspective"),
]

INFORMATION = [
    ("A deductible means the part of the bill you pay before coverage starts.", "explain_concept"),
    ("Think of it as a savings account with a tax break attached.", "explain_concept"),
    ("One option is to pay the smallest card off first.", "offer_option"),
    ("You could also ask the hospital for a payment plan.", "offer_option"),
    ("Some people choose to keep the house until the kids finish school.", "offer_option"),
    ("Realistically, this will take a few months to settle.", "set_expectation"),
    ("We'll go through the paperwork one page at a time.", "set_expectation"),
    ("I can't tell you yet what the final tax bill will be.", "set_expectation"),
    ("Paying this down won't happen overnight.", "set_expectation"),
    ("You mentioned the car loan ends in March.", "reflect_content"),
    ("So you're covering rent and your mother's groceries each month.", "reflect_content"),
    ("What I'm hearing is that the pension is the piece you trust least.", "reflect_content"),
    ("To recap, the card comes first and the savings goal comes second.", "summarize"),
    ("That one is outside what I can advise on; a tax professional can help.", "state_boundary"),
]


@pytest.fixture(scope="module")
def observer(catalog) -> CueSentenceObserver:
    return CueSentenceObserver(catalog)


@pytest.mark.parametrize(("sentence", "expected"), QUESTIONS + FEELINGS + INFORMATION)
def test_labels_sentence(observer: CueSentenceObserver, sentence: str, expected: str) -> None:
    # Put the sentence mid-reply so the positional fallback cannot hand it the answer.
    reply = f"Thanks for sharing that. {sentence} I'm here for whatever you decide."
    labelled = observer.label(reply)
    assert [s.text for s in labelled][1] == sentence
    assert labelled[1].function == expected


def test_each_sentence_gets_a_span(observer: CueSentenceObserver) -> None:
    text = "That sounds stressful. Do you know the rate? One option is to call them."
    labelled = observer.label(text)
    assert [s.function for s in labelled] == [
        "acknowledge_emotion",
        "ask_closed_question",
        "offer_option",
    ]
    assert all(text[s.start : s.end] == s.text for s in labelled)
