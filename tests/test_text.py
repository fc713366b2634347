"""Text helpers of the scripted backend."""

from __future__ import annotations

from emosim.agents.scripted.text import Lexicon, ensure_period, lower_first, split_sentences


def test_lower_first_keeps_names_pronoun_and_acronyms() -> None:
    keep = frozenset({"Saul", "Sana"})
    assert (
        lower_first("Saul's IRA is still in his name.", keep) == "Saul's IRA is still in his name."
    )
    assert lower_first("Sana and I earn about $165,000.", keep) == "Sana and I earn about $165,000."
    assert lower_first("I'm 52.", keep) == "I'm 52."
    assert lower_first("HR told me about the match.", keep) == "HR told me about the match."
    assert lower_first("My rent is due.", keep) == "my rent is due."
    assert lower_first("If I choose one path.", keep) == "if I choose one path."


def test_sentences_have_exact_offsets() -> None:
    text = 'It makes sense. You said "I feel lost." What would help? Okay'
    spans = split_sentences(text)
    assert [s for _, _, s in spans] == [
        "It makes sense.",
        'You said "I feel lost."',
        "What would help?",
        "Okay",
    ]
    assert all(text[a:b] == s for a, b, s in spans)


def test_lexicon_longest_match_and_case() -> None:
    lex = Lexicon({"shame": ["ashamed", "so ashamed of"], "fear": ["afraid"]})
    hits = lex.find("I'm SO ashamed of it, and afraid.")
    assert [(h.label, h.text) for h in hits] == [("shame", "SO ashamed of"), ("fear", "afraid")]


def test_ensure_period_drops_dangling_colon() -> None:
    assert ensure_period("Quick question, maybe a dumb one:") == "Quick question, maybe a dumb one."
