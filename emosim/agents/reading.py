"""What Elena's sent reply did, read from its words: did it take up the client's question,
use the client's own figures, bring a figure of its own, leave a term unexplained?

The arc controller moves the hidden state on this reading and on the strategies the strategy
observer found (never on what the advisor planned), and the scripted client reacts to it. A
model client reads the transcript itself; the reading is the simulator's account of why the
arc moved, recorded with the movement.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from emosim.grounding.figures import find_figures
from emosim.grounding.observer import is_check_back
from emosim.schemas.grounding import ReplyReading, StatedFact

from .bank_answers import holds
from .scripted.text import names_term, split_sentences, stems

# question words that carry no topic ("how", "should" are stop words already)
_VAGUE = frozenset(
    stems(
        "actually really know think mean tell explain question sure okay ok elena even still "
        "get got going want wonder wondering people someone anyone thing stuff kind sort work "
        "right good bad need make take look help"
    )
)
_FEELING_WORDS = frozenset(
    stems(
        "feel feeling feelings sense makes understandable anxious worried hard heavy okay "
        "natural normal common alone weighing completely"
    )
)
# questions a figure answers; "what would happen to my income if..." is not one of them
_NUMERIC_ASK = re.compile(
    r"\b(how much|how long|how many|when can|last|enough|"
    r"what would (it|that|this|they) (cost|come to|be worth|pay))\b",
    re.IGNORECASE,
)


# a "when" question is taken up by a reply that says when: an age, a stage of life, a time
_WHEN_ASK = re.compile(r"^(?:\W*\w+,\s+)?when\b", re.IGNORECASE)
_WHEN_ANSWER = re.compile(
    r"\b(?:\d+|fifties|forties|sixties|seventies|thirties|midlife|early|late|before|after|"
    r"weeks?|months?|years?|once|until|as soon as|age|retire\w*)\b",
    re.IGNORECASE,
)


def last_question(text: str | None, said_before: str | None = None) -> str | None:
    """The last sentence of `text` that asks something; a figure of Elena's said back
    (`said_before`: her earlier replies) is the client taking it in, not a question."""
    if not text:
        return None
    return next(
        (
            s
            for _, _, s in reversed(split_sentences(text))
            if s.endswith("?") and not is_check_back(s, said_before)
        ),
        None,
    )


def read_reply(
    client_text: str | None,
    reply: str,
    *,
    facts: Sequence[StatedFact] = (),
    key_terms: Mapping[str, str] | None = None,
    explained_before: str = "",
    answers: Sequence[str] = (),
    said_before: str | None = None,
) -> ReplyReading:
    """`answers`: the answer bank's answers to the client's last question (bank_answers.py):
    a reply that says one of them has answered it, in whatever words the question used.
    `said_before`: Elena's earlier replies (her figures said back are not questions)."""
    question = last_question(client_text, said_before)
    reply_stems = stems(reply)
    answered: bool | None = None
    found = find_figures(reply)
    client_values = {(f.value, f.unit in {"usd", "usd_per_month", "usd_per_year"}) for f in facts}
    used = [
        f.text
        for f in found
        if (f.value, f.unit in {"usd", "usd_per_month", "usd_per_year"}) in client_values
    ]
    new = [f.text for f in found if f.text not in used]
    if question is not None:
        wanted = stems(question) - _VAGUE
        shared = wanted & reply_stems
        # an explanatory statement (beyond feelings, not the client's own words said back)
        # takes a question up when it shares a content word with it, or when the question
        # is a general one ("Is there a downside nobody mentions?")
        client_stems = stems(client_text or "")
        explains = False
        for _, _, sentence in split_sentences(reply):
            if sentence.endswith("?"):
                continue
            content = stems(sentence) - _FEELING_WORDS
            if len(content) >= 6 and len(content & client_stems) < 0.6 * len(content):
                explains = True
                break
        numeric = _NUMERIC_ASK.search(question) is not None
        if holds(reply, answers):
            answered = True  # the bank's own answer to this question, in its own words
        elif _WHEN_ASK.search(question) and explains and _WHEN_ANSWER.search(reply):
            answered = True  # "When do people...?" "In their fifties or early sixties."
        elif numeric:
            answered = bool(new) or len(shared) >= 2
        else:
            answered = (explains and (len(shared) >= 1 or len(wanted) <= 3)) or len(shared) >= 2
    unexplained: list[str] = []
    explained: list[str] = []
    low = reply.lower()
    for term, gloss in (key_terms or {}).items():
        t = term.lower()
        if t in low and names_term(reply, term) and not names_term(explained_before, term):
            gloss_words = stems(gloss) - stems(term)
            if len(gloss_words & reply_stems) < 2:
                unexplained.append(term)
            else:
                explained.append(term)
    return ReplyReading(
        question=question,
        answered=answered,
        client_figures_used=used,
        new_figures=new,
        unexplained_terms=unexplained,
        explained_terms=explained,
        asks="?" in reply,
    )


# a client who signs off still unsure, unconvinced or worried: their goodbye is not a verdict
# on the plan, and Elena's close leaves the door open instead of praising the progress
_UNSETTLED = re.compile(
    r"\b(?:not (?:totally |really |quite |so |all that )?(?:sure|convinced|sold|persuaded|"
    r"there|settled)|unsure|(?:still|more) (?:worried|confused|stuck|uneasy|anxious|skeptical|"
    r"muddled|unsure|stressed|lost)|doubts?|second opinion|someone else|another set of eyes|"
    r"more questions than answers|(?:any|much) less (?:stressed|worried|anxious|confused)|"
    r"(?:don't|didn't|do not) (?:really |much )?feel (?:much |any )?(?:clearer|calmer|better|"
    r"settled)|hoping to feel|hoped I'd|thought I'd feel|expected to feel|"
    r"(?:doesn't|does not|isn't|not) (?:quite )?sit(?:ting)? right|"
    r"going in circles|(?<!talks )feel(?:ing)? worse|isn't working|not working for me|same page|"
    r"muddled|(?:doesn't|does not) (?:quite )?feel (?:right|settled)|in knots|need more time|"
    r"need a while|hasn't caught up|bad trade|don't like where|every option feels|headspace|"
    r"not more decisive|brain is full|step (?:back|away)|(?:isn't|not) (?:really )?helping|"
    r"not getting what I need|need a break|look into it myself|too much right now|"
    r"don't think you understand|isn't what I was looking for|isn't going where|"
    r"was a mistake|shouldn't have started|"
    r"on my own|by myself|don't love any|none of this feels|not the answer|jumble|"
    r"hasn't happened|didn't (?:really )?(?:land|get to the bottom)|not persuaded|"
    r"still have (?:a lot of )?(?:doubts|questions)|knot is still|still (?:feel )?pretty)\b",
    re.IGNORECASE,
)


def unsettled(text: str | None) -> bool:
    """Does the client's message say they are still unsure, unconvinced or worried?"""
    return bool(text) and _UNSETTLED.search(text) is not None
