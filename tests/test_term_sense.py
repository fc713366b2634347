"""A key term that is also an everyday word counts only in its term's sense: "will" the
document, not the modal ("when the money will be needed" had Elena define a will)."""

from __future__ import annotations

import pytest

from emosim.agents.reading import read_reply
from emosim.agents.scripted.text import in_term_sense, names_term

WILL = {"will": "a legal document that says who gets your belongings when you die"}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Do I need a will?", True),
        ("My dad's will left everything to my stepmother.", True),
        ("Wills and trusts confuse me.", True),
        ("what does will mean", True),
        ("What's will, in plain words?", True),
        ("What will happen to the house?", False),
        ("Can you explain the term will like I'm not a finance person?", True),
        ('When you see "will" on a form, it means the document.', True),
        ("Nothing I say will undo this.", False),
        ("It depends on when the money will be needed.", False),
        ("This will help, I think.", False),
    ],
)
def test_will_is_named_only_as_the_document(text: str, named: bool) -> None:
    assert names_term(text, "will") is named


def test_other_terms_are_whole_words() -> None:
    assert names_term("My APR is 24%.", "APR")
    assert not names_term("Let's approach it slowly.", "APR")
    assert names_term("two 401(k)s", "401(k)")


def test_a_modal_will_in_a_reply_is_not_an_unexplained_term() -> None:
    reply = "Usually it's getting clear on when the money will be needed."
    assert read_reply("What's the first step?", reply, key_terms=WILL).unexplained_terms == []
    reply = "Everyone with children should have a will."
    assert read_reply("What's the first step?", reply, key_terms=WILL).unexplained_terms == ["will"]


def test_the_critic_reads_a_mention_by_its_sense() -> None:
    text = "I will help. Your will is the document that says who gets what."
    first, second = (i for i in range(len(text)) if text.lower().startswith("will", i))
    assert not in_term_sense(text, "will", first)
    assert in_term_sense(text, "will", second)
    assert in_term_sense(text, "APR", 0)  # not an everyday word: every mention counts
