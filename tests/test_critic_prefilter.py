"""The critic's speed-ups must not change a single finding.

The literal index lets the critic skip persona patterns that cannot match; it is checked
against the patterns themselves on drafts, on sentence-sized pieces of them, and on random
texts generated from every pattern's own parse tree (with case changes, curly apostrophes
and the dotted and dotless i that `re` matches to "i"). The text helpers' fast paths are
compared with the straightforward versions they replace.
"""

from __future__ import annotations

import random
import re
import re._constants as sre
import re._parser as sre_parser
from typing import Any

import pytest

from emosim.agents.messages import CriticInput, Line
from emosim.agents.scripted.critic import RuleCritic
from emosim.agents.scripted.observers import _FRAMES, _QUESTION
from emosim.agents.scripted.prefilter import LiteralIndex, fold, required_literals
from emosim.agents.scripted.text import CueHit, Lexicon, lower_twin, split_sentences, tokens
from emosim.catalog import Catalog
from emosim.evals.critic import NEUTRAL
from emosim.files import load_yaml_model
from tests.test_critic_quality import HELDOUT, HeldoutSet


@pytest.fixture(scope="module")
def critic(catalog: Catalog) -> RuleCritic:
    return RuleCritic(catalog)


def _regexes(critic: RuleCritic) -> list[re.Pattern[str]]:
    return [rx for _, rx, _ in critic.patterns] + [rx for _, rx in critic._boundary_slots]


# --- random texts from a pattern's parse tree -------------------------------------------------

_POOL = "aZ5 .,'-%?é_\n"
_CATEGORY = {
    sre.CATEGORY_WORD: "aK7_",
    sre.CATEGORY_NOT_WORD: " .,'-",
    sre.CATEGORY_DIGIT: "0479",
    sre.CATEGORY_NOT_DIGIT: "a .Z",
    sre.CATEGORY_SPACE: " \n\t",
    sre.CATEGORY_NOT_SPACE: "aZ5.,",
}


def _char_in(items: Any, rng: random.Random) -> str:
    if items and items[0][0] is sre.NEGATE:
        return rng.choice(_POOL)  # a guess; texts that do not match are dropped
    op, arg = rng.choice(items)
    if op is sre.LITERAL:
        return chr(arg)
    if op is sre.RANGE:
        return chr(rng.randint(*arg))
    if op is sre.CATEGORY:
        return rng.choice(_CATEGORY[arg])
    return rng.choice(_POOL)


def _expand(items: Any, rng: random.Random, out: list[str]) -> None:
    """Append one random string the sequence `items` may match (zero-width items ignored)."""
    for op, arg in items:
        if op is sre.LITERAL:
            out.append(chr(arg))
        elif op in (sre.NOT_LITERAL, sre.ANY):
            out.append(rng.choice(_POOL))
        elif op is sre.IN:
            out.append(_char_in(arg, rng))
        elif op is sre.BRANCH:
            _expand(rng.choice(arg[1]), rng, out)
        elif op is sre.SUBPATTERN:
            _expand(arg[3], rng, out)
        elif op is sre.ATOMIC_GROUP:
            _expand(arg, rng, out)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            low, high, sub = arg
            for _ in range(rng.randint(low, min(high, low + 2))):
                _expand(sub, rng, out)


def _disguise(text: str, rng: random.Random) -> str:
    """The same words as a draft might spell them: any case, curly apostrophes, and the
    Turkish i's that IGNORECASE matching reads as "i"."""
    out = []
    for char in text:
        roll = rng.random()
        if char == "'" and roll < 0.5:
            out.append("’")
        elif char in "iI" and roll < 0.1:
            out.append(rng.choice("İı"))
        else:
            out.append(char.upper() if roll < 0.3 else char)
    return "".join(out)


def _generated(regex: re.Pattern[str], rng: random.Random, count: int) -> list[str]:
    parsed = sre_parser.parse(regex.pattern, regex.flags)
    texts = []
    for _ in range(count):
        out: list[str] = []
        _expand(parsed, rng, out)
        core = "".join(out)
        for text in (core, _disguise(core, rng)):
            texts.append(
                rng.choice(["", "Okay. ", "and so "]) + text + rng.choice(["", ".", " now"])
            )
    return texts


def test_index_never_skips_a_pattern_that_matches(critic: RuleCritic) -> None:
    """Every persona pattern against texts generated from every pattern, and drafts."""
    regexes = _regexes(critic)
    rng = random.Random(7)
    held = load_yaml_model(HELDOUT, HeldoutSet)
    drafts = [c.text for c in [*held.bad, *held.good]]
    texts = drafts + [t[i:] for t in drafts for i in range(0, len(t), 11)]
    for rx in regexes:
        texts += _generated(rx, rng, 40)
    matched_patterns, matches, skipped = set(), 0, 0
    for text in texts:
        candidates = set(critic.prefilter.candidates(text))
        for i, rx in enumerate(regexes):
            if rx.search(text):
                matched_patterns.add(i)
                matches += 1
                assert i in candidates, (rx.pattern, text)
            elif i not in candidates:
                skipped += 1
    assert len(matched_patterns) == len(regexes)  # every pattern was exercised
    assert matches > 2000
    assert skipped > 0.85 * (len(texts) * len(regexes) - matches)  # and most work is skipped


def test_skipping_changes_no_finding(critic: RuleCritic) -> None:
    """The checks on the index's candidates find what they find on every pattern."""
    held = load_yaml_model(HELDOUT, HeldoutSet)
    everything = range(len(critic._boundary_slots))
    for text in [c.text for c in [*held.bad, *held.good]]:
        slots = critic.prefilter.candidates(text)
        voice = [i for i in slots if i < len(critic.patterns)]
        compliance = [i - len(critic.patterns) for i in slots if i >= len(critic.patterns)]
        assert critic._voice(text, voice) == critic._voice(text, list(range(len(critic.patterns))))
        assert critic._compliance(text, compliance) == critic._compliance(text, list(everything))


def test_lower_twins_find_what_the_patterns_find(critic: RuleCritic) -> None:
    """A case-sensitive twin on the lower-cased ASCII text matches where the IGNORECASE
    pattern matches on the text itself: same spans, on generated texts in any case."""
    rng = random.Random(11)
    observer_frames = [rx for _, rx, _ in _FRAMES] + [_QUESTION]
    twins = [(rx, lower_twin(rx)) for rx in [*_regexes(critic), *observer_frames]]
    assert sum(twin is not None for _, twin in twins) > 50
    compared = 0
    for rx, twin in twins:
        if twin is None:
            continue
        for text in _generated(rx, rng, 20):
            if not text.isascii():
                continue
            spans = [m.span() for m in rx.finditer(text)]
            assert [m.span() for m in twin.finditer(text.lower())] == spans, (rx.pattern, text)
            compared += bool(spans)
    assert compared > 1000


@pytest.mark.parametrize(
    "pattern",
    [r"\bI was\b", r"(?i)you", r"caf\xe9", r"(a)\1", r"[A-Z]+ fee"],
)
def test_patterns_that_spell_case_or_codes_get_no_twin(pattern: str) -> None:
    assert lower_twin(re.compile(pattern, re.IGNORECASE)) is None


def test_case_sensitive_patterns_get_no_twin() -> None:
    assert lower_twin(re.compile("you")) is None


# --- literal groups ---------------------------------------------------------------------------


def _texts(condition: tuple[tuple[frozenset, ...], ...]) -> list[list[set[str]]]:
    return [[{lit.text for lit in group} for group in groups] for groups in condition]


def test_groups_take_in_small_sets_of_alternatives() -> None:
    choice = re.compile(r"\b(bad|poor) (call|move)\b", re.IGNORECASE)
    assert _texts(required_literals(choice)) == [
        [{"bad call", "bad move", "poor call", "poor move"}]
    ]
    optional = re.compile(r"\bif (only )?you(['’]d| had)", re.IGNORECASE)
    assert {"if you", "if only you"} in _texts(required_literals(optional))[0]
    index = LiteralIndex([choice, optional])
    assert index.candidates("That was a bad idea, and a poor start. Call me.") == []
    assert index.candidates("A POOR Move.") == [0]
    assert index.candidates("If only you’d said.") == [1]


def test_groups_use_rare_single_characters() -> None:
    percent = re.compile(r"\bwill earn \d+ ?(%|percent\b)", re.IGNORECASE)
    ticker = re.compile(r"(?-i:\b[A-Z]{4}X\b)", re.IGNORECASE)
    index = LiteralIndex([percent, ticker])
    assert index.candidates("It will earn 5 dollars; vtsax is lower-case.") == []
    assert index.candidates("It will earn 5% in VTSAX.") == [0, 1]
    assert index.candidates("It WILL EARN 5 PERCENT.") == [0]
    assert _texts(required_literals(ticker)) == [[{"X"}]]  # a capital matched exactly
    assert index.candidates("no tickers") == []
    assert index.candidates("VTSAX") == [1]


def test_dotted_capital_i_is_read_as_i() -> None:
    """`re` matches "İ" to "i" under IGNORECASE; its case-folding adds a combining dot."""
    rx = re.compile(r"\bit was a mistake\b", re.IGNORECASE)
    text = "İT WAS A MİSTAKE."
    assert rx.search(text)
    assert "it was a mistake" in fold(text)
    assert LiteralIndex([rx]).candidates(text) == [0]


def test_sample_orders_the_work_not_the_answer() -> None:
    rx = re.compile(r"\byou (must|should) (sell|buy) (it|them) today\b", re.IGNORECASE)
    texts = ["You must sell it today.", "you should buy them today", "You must wait.", ""]
    plain = LiteralIndex([rx])
    tuned = LiteralIndex([rx], sample=["you must, you should, it, today"] * 5)
    for text in texts:
        assert plain.candidates(text) == tuned.candidates(text) == ([0] if rx.search(text) else [])


# --- the text helpers' fast paths -----------------------------------------------------------

TEXTS = [
    "I'm SO ashamed of it, and afraid.",
    "Don’t WORRY — it's fine; the APR is 24%.",
    "ΑΣ.Α and İstanbul, naïve café owners",
    "you need to you need",
    "",
    "   ",
    "Roth IRA? A Roth. roth ira",
]


def _reference_tokens(text: str) -> tuple[tuple[str, int, int], ...]:
    return tuple(
        (m.group(0).lower().replace("’", "'"), m.start(), m.end())
        for m in re.finditer(r"\w+(?:['’]\w+)*|[^\w\s]", text)
    )


def _reference_find(cues: dict[str, list[str]], text: str) -> list[CueHit]:
    """The token walk `Lexicon.find` replaced: longest cue first at every token."""
    owner: dict[tuple[str, ...], list[str]] = {}
    for label, items in cues.items():
        for cue in items:
            key = tuple(t for t, _, _ in _reference_tokens(cue))
            if key and label not in owner.setdefault(key, []):
                owner[key].append(label)
    toks = _reference_tokens(text)
    words = [t for t, _, _ in toks]
    hits, i = [], 0
    while i < len(toks):
        for key in sorted((k for k in owner if k[0] == words[i]), key=lambda k: -len(k)):
            if tuple(words[i : i + len(key)]) == key:
                start, end = toks[i][1], toks[i + len(key) - 1][2]
                hits += [CueHit(label, text[start:end], start, end) for label in owner[key]]
                i += len(key)
                break
        else:
            i += 1
    return hits


def test_tokens_and_lexicon_match_the_plain_versions(catalog: Catalog) -> None:
    cues = {
        "shame": ["ashamed", "so ashamed of", "naïve"],
        "fear": ["afraid", "worry"],
        "command": ["you need to", "you need", "you need to you need to"],
        "jargon": ["apr", "roth ira", "roth", "'s fine", "αςα"],
        "marks": ["%", "?"],
    }
    lexicon = Lexicon(cues)
    texts = TEXTS + [t.upper() for t in TEXTS]
    texts += [c.text for c in load_yaml_model(HELDOUT, HeldoutSet).bad]
    for text in texts:
        assert tokens(text) == _reference_tokens(text)
        assert lexicon.find(text) == _reference_find(cues, text)
    anti = {a.id: a.cues for a in catalog.strategies_file.anti_patterns}
    for text in texts:
        assert Lexicon(anti).find(text) == _reference_find(anti, text)


def test_split_sentences_returns_a_fresh_list() -> None:
    text = "One thing. Two things! Three?"
    first = split_sentences(text)
    first.clear()
    assert [s for _, _, s in split_sentences(text)] == ["One thing.", "Two things!", "Three?"]


def test_jargon_readings_are_remembered_per_line(critic: RuleCritic) -> None:
    """The earlier lines' readings come from a cache: same answer as a fresh critic."""
    earlier = ["Your APR, the yearly cost of borrowing, is 24%.", "Hello there, how are you?"]
    draft = "Lowering the APR would help; an escrow account too."
    transcript = [Line(speaker="advisor", text=t) for t in earlier]
    request = CriticInput(draft=draft, observed=NEUTRAL, transcript=transcript)
    first = critic.review(request)
    again = critic.review(request)
    fresh = RuleCritic(critic.catalog).review(request)
    assert first == again == fresh
    untaught = critic.review(CriticInput(draft=draft, observed=NEUTRAL, transcript=[]))
    assert [f.evidence for f in untaught.findings if f.code == "unexplained_jargon"] == ["APR"]
    assert not [f for f in first.findings if f.code == "unexplained_jargon"]
