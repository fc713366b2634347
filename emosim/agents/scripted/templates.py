"""Models of the scripted backend's template files in `agents/scripted/`.

The scripted client and advisor compose text from these templates plus the persona, topic
and taxonomy; prompt engineers edit the YAML, not Python.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from emosim.errors import DataError
from emosim.files import load_yaml_model
from emosim.schemas.common import Identifier, StrictModel

if TYPE_CHECKING:
    from emosim.catalog import Catalog

ADVISOR_SLOTS = frozenset(
    {
        "name",
        "emotion_adj",
        "client_quote",
        "fact",
        "topic_phrase",
        "subtopic_phrase",
        "term",
        "term_gloss",
    }
)
CLIENT_SLOTS = frozenset({"topic_phrase", "subtopic_phrase", "term", "advisor_name"})
CLOSING_SLOTS = frozenset({"name", "next_step"})
_SLOT = re.compile(r"\{([a-z_]+)\}")


@functools.lru_cache(maxsize=4096)
def slots_in(text: str) -> frozenset[str]:
    return frozenset(_SLOT.findall(text))


def _check_slots(text: str, allowed: frozenset[str]) -> str:
    unknown = slots_in(text) - allowed
    if unknown:
        raise ValueError(
            f"unknown slot(s) {sorted(unknown)} in {text!r}; allowed {sorted(allowed)}"
        )
    return text


class AdvisorSentenceTemplate(StrictModel):
    function: Identifier = Field(description="Sentence-function id the sentence performs.")
    text: str = Field(description="One sentence with optional {slots}.")

    @field_validator("text")
    @classmethod
    def _slots(cls, v: str) -> str:
        return _check_slots(v, ADVISOR_SLOTS)


class AnswerTemplate(StrictModel):
    """Elena's answers to one of the client's follow-up questions, so that a reply takes up
    the question the client just asked instead of passing over it."""

    question: str = Field(
        description="The question as the client templates write it ({slots} match any words)."
    )
    strategy: Identifier = Field(description="Strategy id the answer realizes.")
    replies: list[AdvisorSentenceTemplate] = Field(
        min_length=2, description="Alternative one-sentence answers."
    )

    @field_validator("question")
    @classmethod
    def _slots(cls, v: str) -> str:
        return _check_slots(v, CLIENT_SLOTS)


class TopicAnswer(StrictModel):
    question: str = Field(
        description="A client question of the topic, exactly as in taxonomies/topics.yaml."
    )
    replies: list[str] = Field(
        min_length=2, description="Alternative one-sentence answers (plain text, no slots)."
    )

    @field_validator("replies")
    @classmethod
    def _plain(cls, v: list[str]) -> list[str]:
        for text in v:
            if "{" in text or "}" in text:
                raise ValueError(f"a reply is plain text, without braces: {text!r}")
        return v


class TopicAnswers(StrictModel):
    """Elena's answers to one topic's client questions (agents/scripted/answers/<topic>.yaml):
    a factual question gets a factual answer, as education."""

    topic: Identifier = Field(description="Topic id the questions belong to.")
    answers: list[TopicAnswer] = Field(description="One entry per question of the topic.")

    def as_templates(self) -> list[AnswerTemplate]:
        return [
            AnswerTemplate(
                question=a.question,
                strategy="education",
                replies=[
                    AdvisorSentenceTemplate(function="explain_concept", text=text)
                    for text in a.replies
                ],
            )
            for a in self.answers
        ]


class AdvisorTemplates(StrictModel):
    """Sentence templates of the scripted advisor."""

    version: str = Field(description="Template set version; part of the prompt hash.")
    strategies: dict[Identifier, list[AdvisorSentenceTemplate]] = Field(
        description="Strategy id -> sentences that realize it (at least 6 each)."
    )
    answers: list[AnswerTemplate] = Field(
        default_factory=list,
        description="Answers to the client's follow-up questions (client.yaml `follow_ups`).",
    )
    anti_patterns: dict[Identifier, list[str]] = Field(
        description="Anti-pattern id -> sentences that commit it (drafts the critic must reject)."
    )
    closings: list[str] = Field(
        default_factory=list,
        description="Elena's last message when the client signs off: one or two warm sentences, "
        "no question and no new agenda or homework. Slots {name} and {next_step} (a short noun "
        "phrase such as 'the enrollment form'); [a|b] groups are inline alternatives.",
    )
    closings_unresolved: list[str] = Field(
        default_factory=list,
        description="Elena's last message when the client leaves unconvinced: gracious, no "
        "pressure and no question. Same slots and alternatives as `closings`.",
    )

    @field_validator("strategies")
    @classmethod
    def _enough(cls, v: dict[str, list[AdvisorSentenceTemplate]]) -> dict:
        for sid, items in v.items():
            if len(items) < 6:
                raise ValueError(f"strategy {sid!r} has {len(items)} templates; at least 6 needed")
        return v

    @field_validator("closings", "closings_unresolved")
    @classmethod
    def _closing_lines(cls, v: list[str]) -> list[str]:
        for text in v:
            _check_slots(text, CLOSING_SLOTS)
            if "?" in text:
                raise ValueError(f"a closing asks nothing, so it has no '?': {text!r}")
        return v

    @field_validator("anti_patterns")
    @classmethod
    def _anti_slots(cls, v: dict[str, list[str]]) -> dict:
        for aid, items in v.items():
            if len(items) < 4:
                raise ValueError(f"anti-pattern {aid!r} has {len(items)} templates; 4 needed")
            for text in items:
                _check_slots(text, ADVISOR_SLOTS)
        return v


class ClientReactions(StrictModel):
    advanced: dict[str, list[str]] = Field(
        description="Advisor's primary strategy id (or 'default') -> opening lines when the "
        "client felt helped."
    )
    stalled: list[str] = Field(min_length=6, description="Lines when the reply did not land.")
    regressed: list[str] = Field(
        min_length=6, description="Lines when the reply hurt (judgment, pressure, dismissal)."
    )


class ClientTemplates(StrictModel):
    """Reusable parts of the scripted client's messages."""

    version: str = Field(description="Template set version; part of the prompt hash.")
    reactions: ClientReactions = Field(description="How the client reacts to the last reply.")
    follow_ups: dict[str, list[str]] = Field(
        description="Arc stage (early, middle, late) -> follow-up questions, fact-free."
    )
    fact_lead_ins: list[str] = Field(
        min_length=6,
        description="Short lead-ins before a personal fact, e.g. 'For context,'.",
    )
    closings: list[str] = Field(min_length=6, description="Lines for the client's last message.")

    @field_validator("follow_ups")
    @classmethod
    def _stages(cls, v: dict[str, list[str]]) -> dict:
        missing = {"early", "middle", "late"} - set(v)
        if missing:
            raise ValueError(f"follow_ups lacks stages {sorted(missing)}")
        for items in v.values():
            for text in items:
                _check_slots(text, CLIENT_SLOTS)
        return v


class ObserverMarkers(StrictModel):
    """Intensity markers the scripted observers read (agents/scripted/observers.yaml)."""

    version: str = Field(description="Marker set version.")
    intensifiers: list[str] = Field(min_length=5, description="Words that raise intensity.")
    hedges: list[str] = Field(min_length=5, description="Words that lower intensity.")


# --- realistic negatives (agents/scripted/negatives.yaml) -------------------------------------

NEGATIVES_FILE = "agents/scripted/negatives.yaml"
# Negatives may name up to three key terms of the topic: {term} (the reply's own term) and two
# more the writer picks, {other_term} and {third_term}.
NEGATIVE_SLOTS = ADVISOR_SLOTS | {"other_term", "third_term"}
_GROUP = re.compile(r"\[([^\[\]]*)\]")


class NegativeWhen(StrictModel):
    """The conversation states a negative type fits (all conditions must hold)."""

    valence: Literal["negative", "any"] = Field(
        default="any", description="negative: only when the observed emotion is unpleasant."
    )
    intensity: list[Literal["low", "medium", "high"]] = Field(
        default_factory=lambda: ["low", "medium", "high"],
        description="Observed intensity levels the type fits.",
    )
    asked: bool | None = Field(
        default=None,
        description="true: only when the client's last line asks a question; false: only when "
        "it does not; null: either.",
    )
    needs: list[Identifier] = Field(
        default_factory=list, description="Slots that must have a value (e.g. term, term_gloss)."
    )


class NegativeType(StrictModel):
    """One kind of plausible bad reply: its wording and how it is built."""

    description: str = Field(description="What the draft gets wrong, for a domain expert.")
    when: NegativeWhen = Field(default_factory=NegativeWhen)
    weight: float = Field(default=1.0, gt=0, description="Relative chance among fitting types.")
    hard_share: float = Field(
        ge=0,
        le=1,
        description="Share of drafts built from the good draft's own sentences (hard negatives).",
    )
    function: Identifier = Field(description="Sentence function of the `lines` (as intended).")
    lines: list[str] = Field(
        min_length=3,
        description="Subtle variants: one sentence each, with {slots} and [a|b] alternatives.",
    )
    extra_function: Identifier | None = Field(
        default=None, description="Sentence function of the `extra` sentences."
    )
    extra: list[str] = Field(
        default_factory=list,
        description="Supporting sentences some types add (a question stack's extra questions, "
        "a bare term sentence), same syntax.",
    )

    @field_validator("lines", "extra")
    @classmethod
    def _syntax(cls, v: list[str]) -> list[str]:
        for text in v:
            _check_slots(text, NEGATIVE_SLOTS)
            if text.count("[") != text.count("]") or any(
                "|" not in g for g in _GROUP.findall(text)
            ):
                raise ValueError(f"unbalanced or single-choice [..] group in {text!r}")
        return v


class NegativeTemplates(StrictModel):
    """Realistic negatives of the scripted advisor: drafts a weak assistant would send."""

    version: str = Field(description="Template set version; part of the prompt hash.")
    types: dict[Identifier, NegativeType] = Field(
        description="Anti-pattern id (taxonomies/strategies.yaml) -> how to write it."
    )


# --- the client's own material: feelings and reactions (issue 19, items 1 and 7) -------------

CLIENT_FEELINGS_FILE = "agents/scripted/client_feelings.yaml"
CLIENT_REACTIONS_FILE = "agents/scripted/client_reactions.yaml"
FEELING_LEVELS = ("low", "medium", "high")
FEELING_SLOTS = frozenset({"thing"})
_ALTERNATIVES = re.compile(r"\[([^\[\]]*)\]")


def _check_line(text: str, allowed: frozenset[str], required: frozenset[str] = frozenset()) -> str:
    """A client material line: known slots only, required slots present, and well-formed
    inline alternatives ("[a|b]": balanced, not nested, at least two options)."""
    _check_slots(text, allowed)
    missing = required - slots_in(text)
    if missing:
        raise ValueError(f"{text!r} lacks slot(s) {sorted(missing)}")
    depth = 0
    for ch in text:
        depth += (ch == "[") - (ch == "]")
        if depth not in (0, 1):
            raise ValueError(f"unbalanced or nested [ ] in {text!r}")
    if depth:
        raise ValueError(f"unbalanced [ ] in {text!r}")
    for group in _ALTERNATIVES.findall(text):
        if "|" not in group:
            raise ValueError(f"[{group}] in {text!r} has one option; write a|b")
    if "|" in _ALTERNATIVES.sub("", text):
        raise ValueError(f"'|' outside [ ] in {text!r}")
    if text.lstrip().startswith("{"):
        raise ValueError(f"{text!r} starts with a slot; slot values are lower case")
    return text


def _lines_field(minimum: int, description: str):
    return Field(min_length=minimum, description=description)


class FeelingLevels(StrictModel):
    """Feeling lines of one emotion at the three intensity levels."""

    low: list[str] = _lines_field(8, "Mild, hedged lines (at least 8).")
    medium: list[str] = _lines_field(8, "Clearly stated lines (at least 8).")
    high: list[str] = _lines_field(8, "Raw, intense lines (at least 8).")

    @field_validator("low", "medium", "high")
    @classmethod
    def _syntax(cls, v: list[str]) -> list[str]:
        for text in v:
            _check_line(text, FEELING_SLOTS)
        return v


class NamedLevels(StrictModel):
    """Lines that name one emotion in plain words, at the three intensity levels."""

    low: list[str] = _lines_field(3, "Hedged (at least 3).")
    medium: list[str] = _lines_field(3, "Plainly said (at least 3).")
    high: list[str] = _lines_field(3, "Strongly said (at least 3).")

    @field_validator("low", "medium", "high")
    @classmethod
    def _syntax(cls, v: list[str]) -> list[str]:
        for text in v:
            _check_line(text, FEELING_SLOTS)
            if "?" in text:
                raise ValueError(f"a feeling line asks nothing, so it has no '?': {text!r}")
        return v


class ClientFeelings(StrictModel):
    """First-person feeling lines of the scripted client (agents/scripted/client_feelings.yaml),
    written apart from taxonomies/emotions.yaml so that the emotion observer's cues are not the
    generator's material."""

    version: str = Field(description="Material version; part of the prompt hash.")
    emotions: dict[Identifier, FeelingLevels] = Field(
        description="Emotion id (taxonomies/emotions.yaml; every one) -> lines by level. "
        "Optional slot {thing}: what the feeling is about."
    )

    named: dict[Identifier, NamedLevels] = Field(
        default_factory=dict,
        description="Emotion id -> short lines that call the feeling what a person would call "
        'it ("I\'m scared about {thing}"), by level; optional (a file without them uses '
        "`emotions` only).",
    )

    def lines(self, emotion: str, level: str) -> list[str]:
        return getattr(self.emotions[emotion], level)


def feeling_problems(feelings: ClientFeelings, emotion_ids: set[str] | list[str]) -> list[str]:
    """Emotion ids the feelings file lacks or does not know (against the taxonomy)."""
    known = set(emotion_ids)
    problems = [
        f"emotions.{eid}: missing (every emotion of taxonomies/emotions.yaml needs lines)"
        for eid in sorted(known - set(feelings.emotions))
    ]
    problems += [
        f"emotions.{eid}: unknown emotion id {eid!r}"
        for eid in sorted(set(feelings.emotions) - known)
    ]
    problems += [
        f"named.{eid}: unknown emotion id {eid!r}" for eid in sorted(set(feelings.named) - known)
    ]
    return problems


class NumbersLandedLines(StrictModel):
    """Reactions to a figure Elena worked out from the client's numbers, by how it lands."""

    relief: list[str] = _lines_field(8, "The figure is better than feared.")
    dread: list[str] = _lines_field(8, "The figure is worse than hoped.")
    neutral: list[str] = _lines_field(8, "The figure is taken in, neither good nor bad.")

    @field_validator("relief", "dread", "neutral")
    @classmethod
    def _syntax(cls, v: list[str]) -> list[str]:
        for text in v:
            _check_line(text, frozenset({"figure", "what"}), frozenset({"figure"}))
        return v


class DisagreeLines(StrictModel):
    """Push-back on a suggestion, rooted in the persona's money script (Klontz)."""

    money_avoidance: list[str] = _lines_field(8, "Money feels bad or dangerous to engage with.")
    money_worship: list[str] = _lines_field(8, "More money (or one big move) will fix it.")
    money_status: list[str] = _lines_field(8, "Money shows worth; appearances matter.")
    money_vigilance: list[str] = _lines_field(8, "Caution, secrecy, saving above all.")

    @field_validator("money_avoidance", "money_worship", "money_status", "money_vigilance")
    @classmethod
    def _syntax(cls, v: list[str]) -> list[str]:
        for text in v:
            _check_line(text, frozenset())
        return v


# category -> (allowed slots, required slots)
REACTION_SLOTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "answered": (frozenset({"gist"}), frozenset()),
    "heard": (frozenset(), frozenset()),
    "unanswered": (frozenset({"question"}), frozenset({"question"})),
    "jargon": (frozenset({"term"}), frozenset({"term"})),
    "minimized": (frozenset(), frozenset()),
    "rushed": (frozenset(), frozenset()),
    "judged": (frozenset(), frozenset()),
    "false_comfort": (frozenset(), frozenset()),
    "generic": (frozenset(), frozenset()),
    "hesitate": (frozenset(), frozenset()),
    "new_topic": (frozenset({"thing"}), frozenset({"thing"})),
    "leave": (frozenset(), frozenset()),
    "sign_off": (frozenset(), frozenset()),
    "sign_off_unresolved": (frozenset(), frozenset()),
}


class ClientReactionBank(StrictModel):
    """How the scripted client reacts to what Elena's last reply did
    (agents/scripted/client_reactions.yaml). The client code reads the reply, picks the
    category and fills the slots."""

    version: str = Field(description="Material version; part of the prompt hash.")
    answered: list[str] = _lines_field(
        10,
        "She answered the question: a content-bearing acknowledgement with feeling; "
        "optional {gist} echoes her answer.",
    )
    numbers_landed: NumbersLandedLines = Field(
        description="She worked out a figure from the client's numbers: {figure} (required), "
        "{what} (optional), by tone."
    )
    heard: list[str] = _lines_field(10, "She reflected or validated the feeling accurately.")
    unanswered: list[str] = _lines_field(
        10, "She did not answer the question: ask again; {question} = the question (required)."
    )
    jargon: list[str] = _lines_field(10, "She used a term the client does not know: {term}.")
    minimized: list[str] = _lines_field(10, "She made light of it.")
    rushed: list[str] = _lines_field(10, "Premature advice or too fast: not ready.")
    judged: list[str] = _lines_field(10, "Felt lectured or blamed.")
    false_comfort: list[str] = _lines_field(10, "She promised it will be fine; not convinced.")
    generic: list[str] = _lines_field(10, "Her reply was vague or templated: mild push-back.")
    disagree: DisagreeLines = Field(
        description="Disagrees with a suggestion, with a reason from the money script."
    )
    hesitate: list[str] = _lines_field(10, "Unsure; needs time.")
    new_topic: list[str] = _lines_field(10, "Brings up something new: {thing} (required).")
    leave: list[str] = _lines_field(10, "Ends a conversation that failed, politely or abruptly.")
    sign_off: list[str] = _lines_field(15, "Final message when it went well: warm, no question.")
    sign_off_unresolved: list[str] = _lines_field(
        10, "Final message when it did not go well: polite, unconvinced, no question."
    )
    answer_offer: list[str] = Field(
        default_factory=list, description="Elena offered something ('Would it help if...?'): yes."
    )
    answer_decline: list[str] = Field(
        default_factory=list,
        description="Elena offered something right after a reply the client took badly: not yet.",
    )
    answer_choice: list[str] = Field(
        default_factory=list,
        description="Elena asked where to start: the client picks {thing} (required).",
    )
    answer_confirm: list[str] = Field(
        default_factory=list, description="Elena checked she got it right: yes, that's it."
    )
    answer_open: list[str] = Field(
        default_factory=list,
        description="Elena asked an open question: a lead-in ('Honestly?') before the client's "
        "answer, told through their own life or facts.",
    )
    contrast_lead_ins: list[str] = Field(
        default_factory=list,
        description="Go before a hard feeling after a reply taken well ('Still,'), so one "
        "message says 'but' instead of two opposite things; end with a comma or 'but'.",
    )

    @field_validator("answer_offer", "answer_decline", "answer_confirm", "answer_open")
    @classmethod
    def _answers(cls, v: list[str]) -> list[str]:
        for text in v:
            _check_line(text, frozenset())
        return v

    @field_validator("answer_choice")
    @classmethod
    def _choice(cls, v: list[str]) -> list[str]:
        for text in v:
            _check_line(text, frozenset({"thing"}), frozenset({"thing"}))
        return v

    @field_validator("contrast_lead_ins")
    @classmethod
    def _lead_in(cls, v: list[str]) -> list[str]:
        for text in v:
            _check_line(text, frozenset())
            for way in expansions(text):
                if not (way.endswith(",") or way.rsplit(" ", 1)[-1].lower() == "but"):
                    raise ValueError(f"{way!r} must end with a comma or 'but' (it leads in)")
        return v

    @field_validator(*REACTION_SLOTS)
    @classmethod
    def _syntax(cls, v: list[str], info) -> list[str]:
        allowed, required = REACTION_SLOTS[info.field_name]
        for text in v:
            _check_line(text, allowed, required)
            if info.field_name.startswith("sign_off") and "?" in text:
                raise ValueError(f"a sign-off asks no question: {text!r}")
        return v

    def lines(self, category: str, sub: str | None = None) -> list[str]:
        """Lines of a category; `sub` picks the tone of numbers_landed or the money script of
        disagree."""
        value = getattr(self, category)
        return getattr(value, sub) if sub else value


def load_client_feelings(catalog: Catalog) -> ClientFeelings:
    """agents/scripted/client_feelings.yaml, checked against the catalog's emotion ids."""
    path = catalog.file(CLIENT_FEELINGS_FILE)
    feelings = load_yaml_model(path, ClientFeelings)
    problems = feeling_problems(feelings, set(catalog.emotions))
    if problems:
        raise DataError([f"{path}: {p}" for p in problems])
    return feelings


def load_client_reactions(catalog: Catalog) -> ClientReactionBank:
    """agents/scripted/client_reactions.yaml."""
    return load_yaml_model(catalog.file(CLIENT_REACTIONS_FILE), ClientReactionBank)


CLIENT_TELLINGS_FILE = "agents/scripted/client_tellings.yaml"
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


def expansions(text: str) -> list[str]:
    """Every text a line with [a|b] alternatives can become."""
    parts = _ALTERNATIVES.split(text)  # text, group, text, ..., text
    out = [""]
    for i, part in enumerate(parts):
        options = part.split("|") if i % 2 else [part]
        out = [head + option for head in out for option in options]
    return out


def digits(text: str) -> list[str]:
    """The numbers written in digits in a text, as written ("3,800", "2.9", "12")."""
    return [m.group(0).rstrip(".,") for m in _DIGITS.finditer(text)]


class Telling(StrictModel):
    """Ways one persona tells one sentence of their situation."""

    says: str = Field(
        description="The sentence as the situation's first-person rewrite gives it (or a "
        "persona fact's statement)."
    )
    tellings: list[str] = Field(
        min_length=1,
        description="The same sentence in the persona's voice, every figure of `says` as "
        "written; [a|b] inline alternatives, no slots.",
    )

    @field_validator("tellings")
    @classmethod
    def _keeps_figures(cls, v: list[str], info) -> list[str]:  # noqa: ANN001
        says = info.data.get("says", "")
        for text in v:
            _check_line(text, frozenset())
            for told in expansions(text):  # whichever options are drawn
                missing = [d for d in digits(says) if d not in digits(told)]
                if missing:
                    raise ValueError(f"{told!r} drops figure(s) {missing} of {says!r}")
        return v


class ClientTellings(StrictModel):
    """How each scripted client tells their own situation (agents/scripted/client_tellings.yaml):
    several tellings of the sentences a persona tells in every conversation they are in."""

    version: str = Field(description="Material version; part of the prompt hash.")
    personas: dict[Identifier, list[Telling]] = Field(
        description="Persona id -> the sentences they tell, each with its tellings."
    )


def load_client_tellings(catalog: Catalog) -> ClientTellings | None:
    """agents/scripted/client_tellings.yaml, its persona ids checked against the catalog;
    None when the file is not there (the situation is told as written)."""
    path = catalog.file(CLIENT_TELLINGS_FILE)
    if not path.is_file():
        return None
    tellings = load_yaml_model(path, ClientTellings)
    unknown = sorted(set(tellings.personas) - set(catalog.clients))
    if unknown:
        raise DataError([f"{path}: personas: unknown persona id {pid!r}" for pid in unknown])
    return tellings


CLIENT_LIVES_FILE = "agents/scripted/client_lives.yaml"


class LifeLines(StrictModel):
    """One persona's feelings told through their own life."""

    hard: list[str] = Field(
        default_factory=list, description="Said when the feeling is unpleasant (valence < 0)."
    )
    easier: list[str] = Field(
        default_factory=list, description="Said when the feeling is pleasant (valence > 0)."
    )
    heard: list[str] = Field(
        default_factory=list,
        description="How this person takes a reply that understood them: what lies under it "
        "in their own life (said in place of a shared 'heard' reaction now and then).",
    )
    answered: list[str] = Field(
        default_factory=list,
        description="How this person takes a plain answer, in their own words and life; true "
        "of any answer (no topic of its own).",
    )

    it: list[str] = Field(
        default_factory=list,
        description="What this person calls the business they came about once it has been "
        'named ("this annuity business", "Mom\'s things"): noun phrases that fit '
        "every topic of the persona; said in place of 'all this'.",
    )

    @field_validator("it")
    @classmethod
    def _phrases(cls, v: list[str]) -> list[str]:
        for text in v:
            if not text or digits(text) or text[-1:] in ".?!,":
                raise ValueError(f"a noun phrase, no figures or end punctuation: {text!r}")
        return v

    @field_validator("hard", "easier", "heard", "answered")
    @classmethod
    def _syntax(cls, v: list[str]) -> list[str]:
        for text in v:
            _check_line(text, frozenset())
            for way in expansions(text):
                if digits(way):  # a client's figures come from their facts only
                    raise ValueError(f"{way!r} states a figure; life lines hold none")
        return v


class ClientLives(StrictModel):
    """What each scripted client says about their own life (agents/scripted/client_lives.yaml)."""

    version: str = Field(description="Material version; part of the prompt hash.")
    personas: dict[Identifier, LifeLines] = Field(description="Persona id -> their life lines.")


def load_client_lives(catalog: Catalog) -> ClientLives | None:
    """agents/scripted/client_lives.yaml, its persona ids checked against the catalog; None
    when the file is not there (feelings come from client_feelings.yaml only)."""
    path = catalog.file(CLIENT_LIVES_FILE)
    if not path.is_file():
        return None
    lives = load_yaml_model(path, ClientLives)
    unknown = sorted(set(lives.personas) - set(catalog.clients))
    if unknown:
        raise DataError([f"{path}: personas: unknown persona id {pid!r}" for pid in unknown])
    return lives
