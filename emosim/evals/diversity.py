"""How much a corpus repeats itself, per speaker: `emosim eval diversity`.

Pure functions over `Dialog`s, a neutral view of one conversation that both emosim records
(`dialog_of_record`) and ESConv dialogs (`dialogs_of_esconv`: supporter = advisor, seeker =
client) turn into, so the same figures can be read on a simulated batch and on human text:

- sentence patterns: sentences with names and numbers masked (`emosim.diversity.mask_sentence`);
  the share of sentences whose pattern appears in 5 or more distinct conversations;
- distinct-2 on a sample of turns matched in size to a reference (distinct-n falls as a corpus
  grows, so two corpora are only comparable at the same size);
- words per turn; bare acknowledgements among client turns; the outcome mix; sign-offs
  answered with a new question;
- a persona voice classifier: TF-IDF + logistic regression predicting the client persona from
  client text alone, cross-validated with folds grouped by conversation.
"""

from __future__ import annotations

import json
import random
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field

from emosim.catalog import Catalog
from emosim.diversity import (
    conversation_patterns,
    distinct_n,
    mask_sentence,
    split_sentences,
    words,
)
from emosim.errors import EmosimError
from emosim.esconv import SEEKER, SUPPORTER, read_documents
from emosim.schemas import ConversationRecord
from emosim.schemas.common import StrictModel

SPEAKERS = ("advisor", "client")
WIDESPREAD_CONVERSATIONS = 5
"""A pattern is widespread when it appears in at least this many distinct conversations."""
TOP_PATTERNS = 10
MATCH_DRAWS = 5
"""Matched distinct-2 is the mean over this many seeded samples."""

# Turns of the 25 dialogs of the shared ESConv sample (esconv_sample/train_sample.json): the
# default size the matched distinct-2 samples to. `--esconv FILE` or `--match N` override it.
ESCONV_SAMPLE_TURNS = {"advisor": 351, "client": 391}

TARGETS = {
    "advisor_widespread_share": "<= 40%",
    "client_widespread_share": "<= 40%",
    "advisor_distinct_2": ">= 0.50",
    "client_distinct_2": ">= 0.60",
    "advisor_median_words": "30-55",
    "bare_acknowledgement_share": "<= 3%",
    "not_completed_share": ">= 10%",
    "sign_offs_answered_with_question": "0",
    "voice_accuracy": ">= 0.60",
}
"""What the default plan batch (scripted backend) should reach; shown beside each figure."""


# --- the neutral conversation ----------------------------------------------------------------


@dataclass(frozen=True)
class Dialog:
    """One conversation as the figures see it."""

    id: str
    turns: tuple[tuple[str, str], ...]
    """(speaker, text) in order; speaker is 'advisor' or 'client'."""
    persona: str | None = None
    names: frozenset[str] = field(default_factory=frozenset)
    """Lower-cased name parts to mask (client, advisor, family members)."""
    outcome: str | None = None
    reason: str | None = None

    def texts(self, speaker: str) -> list[str]:
        return [text for who, text in self.turns if who == speaker]


def _name_parts(*names: str | None) -> set[str]:
    return {
        part.lower()
        for name in names
        if name
        for part in re.split(r"[\s_\-]+", name)
        if len(part) > 1
    }


def record_outcome(record: ConversationRecord) -> tuple[str, str | None]:
    """(arc outcome, reason): `outcome.arc_outcome` / `arc_reason` when the record has them,
    else completed / not_completed from `arc_completed`."""
    outcome = record.outcome
    arc = getattr(outcome, "arc_outcome", None)
    reason = getattr(outcome, "arc_reason", None)
    if arc:
        return str(arc), reason
    return ("completed" if outcome.arc_completed else "not_completed"), reason


def dialog_of_record(record: ConversationRecord) -> Dialog:
    scenario = record.scenario
    persona_name = scenario.client_persona.name if scenario.client_persona else None
    arc, reason = record_outcome(record)
    return Dialog(
        id=record.id,
        turns=tuple((t.speaker, t.text) for t in record.turns),
        persona=scenario.client_persona_id,
        names=frozenset(
            _name_parts(
                persona_name, scenario.client_persona_id, scenario.advisor_persona_id, "Elena"
            )
        ),
        outcome=arc,
        reason=reason,
    )


def is_esconv_file(path: Path) -> bool:
    """Whether a .json/.jsonl file holds ESConv dialogs: its first document has a 'dialog'
    list and no 'turns' (an emosim record has 'turns')."""
    if not path.is_file() or path.suffix not in {".json", ".jsonl"}:
        return False
    try:
        with path.open(encoding="utf-8") as handle:
            if path.suffix == ".jsonl":
                first = next((line for line in handle if line.strip()), "")
                doc = json.loads(first) if first else None
            else:
                doc = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False  # let the record loader report what is wrong with it
    if isinstance(doc, list):
        doc = doc[0] if doc else None
    return isinstance(doc, dict) and isinstance(doc.get("dialog"), list) and "turns" not in doc


def dialogs_of_esconv(path: Path) -> list[Dialog]:
    """ESConv dialogs (split files or the original release): supporter -> advisor, seeker ->
    client; no persona and no outcome."""
    out: list[Dialog] = []
    for where, doc in read_documents(path):
        if not isinstance(doc, dict) or not isinstance(doc.get("dialog"), list):
            raise EmosimError(f"{where}: expected an ESConv dialog with a 'dialog' list")
        turns: list[tuple[str, str]] = []
        for utterance in doc["dialog"]:
            if not isinstance(utterance, dict):
                continue
            speaker = utterance.get("speaker")
            text = utterance.get("text", utterance.get("content")) or ""
            text = str(text).strip()
            if not text:
                continue
            if speaker in SUPPORTER:
                turns.append(("advisor", text))
            elif speaker in SEEKER:
                turns.append(("client", text))
        out.append(Dialog(id=where, turns=tuple(turns)))
    if not out:
        raise EmosimError(f"{path}: no ESConv dialogs")
    return out


def esconv_turns(path: Path) -> dict[str, int]:
    """Turns per speaker of an ESConv file: the reference size of the matched distinct-2."""
    dialogs = dialogs_of_esconv(path)
    return {s: sum(len(d.texts(s)) for d in dialogs) for s in SPEAKERS}


# --- result models ---------------------------------------------------------------------------


class PatternCount(StrictModel):
    pattern: str = Field(description="Masked sentence pattern.")
    conversations: int = Field(description="Distinct conversations it appears in.")
    sentences: int = Field(description="Sentences with this pattern.")


class MatchedDistinct(StrictModel):
    target_turns: int = Field(description="Turns the sample is matched to (the reference).")
    turns: int = Field(description="Turns actually sampled (fewer when the corpus is smaller).")
    draws: int = Field(description="Seeded samples averaged.")
    distinct_2: float = Field(description="Mean distinct-2 over the samples.")
    widespread_share: float = Field(
        description="Mean share of sampled sentences whose pattern is in 5+ sampled conversations."
    )


class SpeakerFigures(StrictModel):
    speaker: str = Field(description="advisor or client.")
    turns: int
    sentences: int
    patterns: int = Field(description="Distinct masked sentence patterns.")
    widespread_share: float = Field(
        description="Share of sentences whose pattern appears in 5+ distinct conversations."
    )
    top_patterns: list[PatternCount] = Field(description="The most widespread patterns.")
    distinct_2: float = Field(description="Distinct-2 over all turns (depends on corpus size).")
    matched: MatchedDistinct | None = Field(
        default=None, description="Distinct-2 on a sample matched to the reference size."
    )
    slot_patterns: int | None = Field(
        default=None, description="Distinct patterns once topic and feeling phrases are masked too."
    )
    slot_widespread_share: float | None = Field(
        default=None,
        description="Share of sentences whose pattern, topic and feeling phrases masked too, "
        "appears in 5+ distinct conversations (a template with its slots filled differently).",
    )
    words_median: float = Field(description="Median words per turn.")
    words_mean: float = Field(description="Mean words per turn.")


class Acknowledgements(StrictModel):
    client_turns: int
    bare: int = Field(description="Client turns that are only an acknowledgement.")
    share: float = Field(description="bare / client turns.")
    with_bare_sentence: int = Field(
        description="Client turns with a sentence that is only an acknowledgement "
        '("Okay, that helps." before other content).'
    )
    with_bare_sentence_share: float
    top: dict[str, int] = Field(
        description="Most frequent acknowledgement-only sentences (normalized) -> turns."
    )


class Outcomes(StrictModel):
    available: bool = Field(description="False for sources without outcomes (ESConv).")
    counts: dict[str, int] = Field(default_factory=dict, description="Arc outcome -> count.")
    not_completed_share: float | None = Field(
        default=None, description="Share of conversations whose arc did not complete."
    )
    reasons: dict[str, int] = Field(
        default_factory=dict,
        description="Most frequent kinds of reason (outcome: reason without its particulars, "
        "see reason_kind) of arcs that did not complete.",
    )


class SignOffs(StrictModel):
    conversations: int = Field(description="Conversations with a client and an advisor turn.")
    sign_offs: int = Field(description="Conversations whose last client turn is a sign-off.")
    answered_with_question: int = Field(
        description="Of those, answered by an advisor turn that asks a question."
    )
    examples: list[str] = Field(
        default_factory=list, description="Ids of conversations answered with a question."
    )


class VoiceClassifier(StrictModel):
    ran: bool
    message: str = Field(default="", description="Why it was skipped, if it was.")
    personas: int = 0
    conversations: int = 0
    turns: int = 0
    folds: int = 0
    accuracy: float | None = Field(
        default=None, description="Per client turn, held-out folds grouped by conversation."
    )
    conversation_accuracy: float | None = Field(
        default=None, description="Per conversation: the held-out turn probabilities summed."
    )
    chance: float | None = Field(default=None, description="1 / number of personas.")
    seconds: float | None = None


class DiversityEvaluation(StrictModel):
    sources: list[str]
    kind: str = Field(description="records or esconv.")
    conversations: int
    widespread_min_conversations: int = WIDESPREAD_CONVERSATIONS
    speakers: dict[str, SpeakerFigures]
    acknowledgements: Acknowledgements
    outcomes: Outcomes
    sign_offs: SignOffs
    voice: VoiceClassifier
    targets: dict[str, str] = Field(default_factory=lambda: dict(TARGETS))


# --- patterns --------------------------------------------------------------------------------


def dialog_patterns(dialog: Dialog) -> dict[str, list[list[str]]]:
    """Per speaker, per turn, the masked patterns of its sentences."""
    texts = [text for _, text in dialog.turns]
    per_turn = conversation_patterns(texts, dialog.names)
    out: dict[str, list[list[str]]] = {s: [] for s in SPEAKERS}
    for (speaker, _), patterns in zip(dialog.turns, per_turn, strict=True):
        out.setdefault(speaker, []).append(patterns)
    return out


def pattern_spread(
    per_dialog: Sequence[Sequence[Sequence[str]]],
) -> tuple[Counter[str], Counter[str]]:
    """(conversations per pattern, sentences per pattern) from each dialog's turns' patterns."""
    conversations: Counter[str] = Counter()
    sentences: Counter[str] = Counter()
    for turns in per_dialog:
        seen: set[str] = set()
        for patterns in turns:
            sentences.update(patterns)
            seen.update(patterns)
        conversations.update(seen)
    return conversations, sentences


def widespread_share(
    per_dialog: Sequence[Sequence[Sequence[str]]], min_conversations: int = WIDESPREAD_CONVERSATIONS
) -> float:
    """Share of sentences whose pattern appears in `min_conversations`+ distinct conversations."""
    conversations, sentences = pattern_spread(per_dialog)
    total = sum(sentences.values())
    if not total:
        return 0.0
    wide = sum(n for p, n in sentences.items() if conversations[p] >= min_conversations)
    return wide / total


# --- matched distinct-2 ----------------------------------------------------------------------


def matched_sample(
    turns_per_dialog: Sequence[Sequence[str]], target: int, seed: int
) -> list[int | tuple[int, int]]:
    """Dialogs in a seeded random order, taken until `target` turns: the indexes of dialogs
    taken whole, and (index, turns) for the last one, cut so the sample has exactly `target`
    turns (or all turns when the corpus has fewer)."""
    order = list(range(len(turns_per_dialog)))
    random.Random(seed).shuffle(order)
    taken: list[int | tuple[int, int]] = []
    count = 0
    for i in order:
        if count >= target:
            break
        n = len(turns_per_dialog[i])
        if not n:
            continue
        if count + n > target:
            taken.append((i, target - count))
            count = target
        else:
            taken.append(i)
            count += n
    return taken


def matched_distinct(
    turns_per_dialog: Sequence[Sequence[str]],
    patterns_per_dialog: Sequence[Sequence[Sequence[str]]],
    target: int,
    draws: int = MATCH_DRAWS,
) -> MatchedDistinct:
    """Distinct-2 (and the widespread share) on samples of exactly `target` turns."""
    d2: list[float] = []
    wide: list[float] = []
    used = 0
    for seed in range(draws):
        texts: list[str] = []
        patterns: list[Sequence[Sequence[str]]] = []
        for item in matched_sample(turns_per_dialog, target, seed):
            i, n = (item, None) if isinstance(item, int) else item
            texts.extend(turns_per_dialog[i][:n])
            patterns.append(patterns_per_dialog[i][:n])
        used = len(texts)
        d2.append(distinct_n(texts, 2))
        wide.append(widespread_share(patterns))
    return MatchedDistinct(
        target_turns=target,
        turns=used,
        draws=draws,
        distinct_2=round(statistics.fmean(d2), 4) if d2 else 0.0,
        widespread_share=round(statistics.fmean(wide), 4) if wide else 0.0,
    )


# --- acknowledgements, sign-offs, outcomes ---------------------------------------------------

ACKNOWLEDGEMENTS = frozenset(
    " ".join(phrase.split())
    for phrase in """okay|ok|okey|k|kk|sure|alright|all right|right|yes|yeah|yep|yup|yea|mhm|mm|hm|hmm|uh huh|
    oh|ah|i see|got it|gotcha|understood|noted|cool|fine|great|good|perfect|nice|true|fair|
    fair enough|makes sense|that makes sense|it makes sense|that helps|it helps|that helps a lot|
    thanks|thank you|thanks so much|thank you so much|thanks a lot|i get it|i think i get it|
    i think i understand|i understand|sounds good|that sounds good|sounds right|will do|
    good to know|that's fair|that's true|that's good|i guess|i suppose|interesting|wow|
    okay then|so|well|i know|exactly|absolutely|definitely|of course|that's helpful|helpful|
    that's good to know|that's right|i see what you mean|fair point|good point|i'm with you|
    that's useful|useful|let me keep going|keep going|go on|then|that's clear|clear|
    i hear you|got you|that works|works for me|okay that works""".split("|")
)
"""Phrases a bare acknowledgement is made of (normalized: lower case, no punctuation)."""
ACK_MAX_WORDS = 8
_ACK_LONGEST = max(len(p.split()) for p in ACKNOWLEDGEMENTS)
_PUNCTUATION = re.compile(r"[^\w\s']+")


def normalize_ack(text: str) -> str:
    text = text.lower().replace("’", "'")
    return " ".join(_PUNCTUATION.sub(" ", text).split())


def is_bare_acknowledgement(text: str) -> bool:
    """Only acknowledgement phrases (ACKNOWLEDGEMENTS, any number in a row: "Okay, thanks.",
    "Yeah, I think I get it.") and at most ACK_MAX_WORDS words; anything else makes a turn
    more than an acknowledgement."""
    tokens = normalize_ack(text).split()
    if not tokens or len(tokens) > ACK_MAX_WORDS:
        return False
    reachable = [True] + [False] * len(tokens)
    for end in range(1, len(tokens) + 1):
        for size in range(1, min(_ACK_LONGEST, end) + 1):
            if reachable[end - size] and " ".join(tokens[end - size : end]) in ACKNOWLEDGEMENTS:
                reachable[end] = True
                break
    return reachable[-1]


SIGN_OFF = re.compile(
    r"\b(?:thanks|thank you|thx|bye|goodbye|good night|talk soon|talk to you|take care|"
    r"see you|have a (?:good|great|nice)|i'?ll (?:check in|let you know|get back|be in touch|"
    r"start|try|do that|think about|reach out|come back|follow up|keep you posted)|"
    r"i'?m going to (?:start|try|do|think|go)|i'?ll go|that'?s all|that'?s it for|"
    r"until next time|next time|catch you|signing off|gotta go|have to go|"
    r"appreciate (?:it|you|this|that|your)|(?:this|that|you|it) (?:really )?helped|"
    r"get back to you|writ(?:e|ing) (?:it |this |that |things |everything )?down|"
    r"(?:have|got) (?:a|an actual) plan|i'?m (?:done|off|leaving|out)|enough for (?:today|now))\b",
    re.IGNORECASE,
)


def is_sign_off(text: str) -> bool:
    """A closing ("thanks", "bye", "talk soon", "I'll check in", "I'm going to start ...") that
    does not end on a question: the client is leaving, not asking."""
    text = text.replace("’", "'")
    sentences = split_sentences(text)
    if not sentences or sentences[-1].rstrip("\"') ").endswith("?"):
        return False
    return bool(SIGN_OFF.search(text))


def sign_off_answer(dialog: Dialog) -> tuple[bool, bool] | None:
    """(last client turn is a sign-off, the advisor's reply to it asks a question); None when
    the conversation has no client turn. The reply is the advisor turn after the last client
    turn (no reply: not answered with a question)."""
    last_client = max((i for i, (s, _) in enumerate(dialog.turns) if s == "client"), default=None)
    if last_client is None:
        return None
    signed = is_sign_off(dialog.turns[last_client][1])
    after = [t for s, t in dialog.turns[last_client + 1 :] if s == "advisor"]
    asks = any("?" in t for t in after)
    return signed, signed and asks


def sign_offs(dialogs: Sequence[Dialog]) -> SignOffs:
    signed = asked = seen = 0
    examples: list[str] = []
    for d in dialogs:
        found = sign_off_answer(d)
        if found is None:
            continue
        seen += 1
        signed += found[0]
        if found[1]:
            asked += 1
            examples.append(d.id)
    return SignOffs(
        conversations=seen, sign_offs=signed, answered_with_question=asked, examples=examples[:10]
    )


def acknowledgements(dialogs: Sequence[Dialog]) -> Acknowledgements:
    texts = [t for d in dialogs for t in d.texts("client")]
    bare = sum(1 for t in texts if is_bare_acknowledgement(t))
    sentences: Counter[str] = Counter()
    with_sentence = 0
    for text in texts:
        found = {normalize_ack(s) for s in split_sentences(text) if is_bare_acknowledgement(s)}
        with_sentence += bool(found)
        sentences.update(found)
    return Acknowledgements(
        client_turns=len(texts),
        bare=bare,
        share=round(bare / len(texts), 4) if texts else 0.0,
        with_bare_sentence=with_sentence,
        with_bare_sentence_share=round(with_sentence / len(texts), 4) if texts else 0.0,
        top=dict(sentences.most_common(TOP_PATTERNS)),
    )


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_DIGITS = re.compile(r"\d+")


def reason_kind(reason: str | None) -> str:
    """A reason with its particulars removed, so reasons of one kind count together: quoted
    text -> '…', numbers -> N, only the first clause (up to ';')."""
    if not reason:
        return "(no reason given)"
    kind = _DIGITS.sub("N", _QUOTED.sub("'…'", reason))
    return kind.split(";")[0].strip()


def outcomes(dialogs: Sequence[Dialog]) -> Outcomes:
    known = [d for d in dialogs if d.outcome is not None]
    if not known:
        return Outcomes(available=False)
    counts = Counter(d.outcome for d in known)
    missed = [d for d in known if d.outcome != "completed"]
    reasons = Counter(f"{d.outcome}: {reason_kind(d.reason)}" for d in missed)
    return Outcomes(
        available=True,
        counts=dict(counts.most_common()),
        not_completed_share=round(len(missed) / len(known), 4),
        reasons=dict(reasons.most_common(TOP_PATTERNS)),
    )


# --- persona voice classifier ----------------------------------------------------------------

VOICE_FOLDS = 5
VOICE_MIN_CONVERSATIONS_PER_PERSONA = 2


def voice_classifier(
    dialogs: Sequence[Dialog],
    folds: int = VOICE_FOLDS,
    patterns: Sequence[dict[str, list[list[str]]]] | None = None,
) -> VoiceClassifier:
    """Predict the persona from one client turn (names and numbers masked, so a name or an
    amount cannot give the persona away): TF-IDF word 1-2 grams + char 3-5 grams, logistic
    regression (log loss, SGD), GroupKFold by conversation; a conversation's prediction sums
    its held-out turns' probabilities. The persona's topics still show in the words: the
    accuracy measures voice and content together."""
    import time
    import warnings

    if patterns is None:
        patterns = [dialog_patterns(d) for d in dialogs]
    with_persona = [
        (d, p["client"])
        for d, p in zip(dialogs, patterns, strict=True)
        if d.persona and d.texts("client")
    ]
    personas = sorted({d.persona for d, _ in with_persona if d.persona})
    if len(personas) < 2:
        return VoiceClassifier(
            ran=False,
            message="skipped: fewer than 2 client personas"
            + (" (ESConv has no persona ids)" if not with_persona else ""),
            personas=len(personas),
            conversations=len(with_persona),
        )
    if len(with_persona) < max(folds, 2 * len(personas)):
        return VoiceClassifier(
            ran=False,
            message=f"skipped: {len(with_persona)} conversations are too few for {folds} folds "
            f"over {len(personas)} personas (need at least {max(folds, 2 * len(personas))})",
            personas=len(personas),
            conversations=len(with_persona),
        )
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import GroupKFold

    start = time.perf_counter()
    texts: list[str] = []
    labels: list[int] = []
    groups: list[int] = []
    index = {p: i for i, p in enumerate(personas)}
    for g, (d, client) in enumerate(with_persona):
        for turn in client:
            texts.append(" ".join(turn))
            labels.append(index[d.persona])  # type: ignore[index]
            groups.append(g)
    y = np.array(labels)
    group_ids = np.array(groups)
    # The vocabularies and IDF weights are fitted once on every turn: they see no labels, so
    # the held-out folds stay honest while the five fits cost one vectorization.
    word = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    char = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True, max_features=60000
    )
    x = hstack([word.fit_transform(texts), char.fit_transform(texts)]).tocsr()
    proba = np.zeros((len(texts), len(personas)))
    for train, test in GroupKFold(n_splits=folds).split(x, y, group_ids):
        # logistic regression (log loss) fitted by SGD: the lbfgs solver gives the same
        # accuracy here at four times the time
        model = SGDClassifier(
            loss="log_loss", alpha=1e-4, max_iter=30, tol=1e-3, random_state=0, n_jobs=-1
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x[train], y[train])
        proba[np.ix_(test, model.classes_)] = model.predict_proba(x[test])
    predicted = proba.argmax(axis=1)
    per_conversation = defaultdict(lambda: np.zeros(len(personas)))
    for i, g in enumerate(groups):
        per_conversation[g] += proba[i]
    truth = {g: index[with_persona[g][0].persona] for g in per_conversation}  # type: ignore[index]
    conversation_hits = sum(int(v.argmax() == truth[g]) for g, v in per_conversation.items())
    return VoiceClassifier(
        ran=True,
        personas=len(personas),
        conversations=len(with_persona),
        turns=len(texts),
        folds=folds,
        accuracy=round(float((predicted == y).mean()), 4),
        conversation_accuracy=round(conversation_hits / len(per_conversation), 4),
        chance=round(1 / len(personas), 4),
        seconds=round(time.perf_counter() - start, 2),
    )


# --- the whole evaluation --------------------------------------------------------------------


def words_per_turn(texts: Iterable[str]) -> list[int]:
    return [len(words(t)) for t in texts]


def slot_masker(phrases: dict[str, Iterable[str]]) -> Callable[[str], str]:
    """A function masking every phrase of each kind ({"topic": [...], "feeling": [...]}) in a
    pattern as <kind>, longest phrase first; patterns are lower case, so phrases are too."""
    rules = []
    for kind, items in phrases.items():
        words_ = sorted({" ".join(p.lower().split()) for p in items if p.strip()}, key=len)
        if words_:
            alternatives = "|".join(re.escape(w) for w in reversed(words_))
            rules.append((re.compile(rf"\b(?:{alternatives})\b"), f"<{kind}>"))

    def mask(pattern: str) -> str:
        for rule, token in rules:
            pattern = rule.sub(token, pattern)
        return pattern

    return mask


def catalog_slots(catalog: Catalog) -> dict[str, list[str]]:
    """Topic and sub-category names and phrases, and emotion adjectives: the slots a template
    fills in ("... whenever <topic> comes up", "you seem <feeling> ...")."""
    topics: list[str] = []
    for topic in catalog.topics.values():
        topics += [topic.name, topic.phrase]
        for sub in topic.subcategories:
            topics += [sub.name, sub.phrase]
    # adjectives only: emotion names ("hope", "trust") are everyday verbs and nouns too
    feelings = [e.adjective for e in catalog.emotions.values() if e.adjective]
    return {"topic": [t for t in topics if t], "feeling": feelings}


def speaker_figures(
    dialogs: Sequence[Dialog],
    patterns: Sequence[dict[str, list[list[str]]]],
    speaker: str,
    match: int | None,
    min_conversations: int = WIDESPREAD_CONVERSATIONS,
    slots: Callable[[str], str] | None = None,
) -> SpeakerFigures:
    turns_per_dialog = [d.texts(speaker) for d in dialogs]
    patterns_per_dialog = [p.get(speaker, []) for p in patterns]
    conversations, sentences = pattern_spread(patterns_per_dialog)
    texts = [t for turns in turns_per_dialog for t in turns]
    counts = words_per_turn(texts)
    top = sorted(conversations, key=lambda p: (-conversations[p], -sentences[p], p))
    slot_patterns = slot_share = None
    if slots is not None:
        cache: dict[str, str] = {}
        masked = [
            [[cache.setdefault(p, slots(p)) for p in turn] for turn in turns]
            for turns in patterns_per_dialog
        ]
        slot_patterns = len(pattern_spread(masked)[1])
        slot_share = round(widespread_share(masked, min_conversations), 4)
    return SpeakerFigures(
        speaker=speaker,
        turns=len(texts),
        sentences=sum(sentences.values()),
        patterns=len(sentences),
        widespread_share=round(widespread_share(patterns_per_dialog, min_conversations), 4),
        top_patterns=[
            PatternCount(pattern=p, conversations=conversations[p], sentences=sentences[p])
            for p in top[:TOP_PATTERNS]
        ],
        distinct_2=round(distinct_n(texts, 2), 4),
        matched=matched_distinct(turns_per_dialog, patterns_per_dialog, match) if match else None,
        slot_patterns=slot_patterns,
        slot_widespread_share=slot_share,
        words_median=float(statistics.median(counts)) if counts else 0.0,
        words_mean=round(statistics.fmean(counts), 2) if counts else 0.0,
    )


def evaluate_dialogs(
    dialogs: Sequence[Dialog],
    *,
    sources: Sequence[str] = (),
    kind: str = "records",
    match: dict[str, int] | None = None,
    voice: bool = True,
    slots: dict[str, Iterable[str]] | None = None,
) -> DiversityEvaluation:
    """Every figure over `dialogs`; `match` is the reference turn count per speaker (default:
    the shared ESConv sample's); `slots` are phrases masked for the stricter template share
    (see catalog_slots)."""
    if not dialogs:
        raise EmosimError("no conversations to evaluate")
    match = dict(ESCONV_SAMPLE_TURNS if match is None else match)
    patterns = [dialog_patterns(d) for d in dialogs]
    masker = slot_masker(slots) if slots else None
    return DiversityEvaluation(
        sources=list(sources),
        kind=kind,
        conversations=len(dialogs),
        speakers={
            s: speaker_figures(dialogs, patterns, s, match.get(s), slots=masker) for s in SPEAKERS
        },
        acknowledgements=acknowledgements(dialogs),
        outcomes=outcomes(dialogs),
        sign_offs=sign_offs(dialogs),
        voice=voice_classifier(dialogs, patterns=patterns)
        if voice
        else VoiceClassifier(ran=False, message="skipped (--no-voice)"),
    )


def evaluate_records(
    records: Sequence[ConversationRecord], **kwargs: object
) -> DiversityEvaluation:
    return evaluate_dialogs([dialog_of_record(r) for r in records], **kwargs)  # type: ignore[arg-type]


__all__ = [
    "ACKNOWLEDGEMENTS",
    "Dialog",
    "DiversityEvaluation",
    "dialog_of_record",
    "dialogs_of_esconv",
    "evaluate_dialogs",
    "evaluate_records",
    "is_bare_acknowledgement",
    "is_sign_off",
    "mask_sentence",
]
