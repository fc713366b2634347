"""Models of the persona files in `personas/`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .common import Identifier, StrictModel, Unit
from .taxonomy import GolemanFamily

IncomeBand = Literal["low", "lower_middle", "middle", "upper_middle", "high"]
Literacy = Literal["none", "basic", "intermediate", "advanced", "conflicting"]
MoneyScript = Literal["money_avoidance", "money_worship", "money_status", "money_vigilance"]


class ArcStep(StrictModel):
    emotion: Identifier = Field(description="Emotion id from taxonomies/emotions.yaml.")
    intensity: Unit = Field(description="Intensity 0..1 of the emotion at this step.")


class PersonaFact(StrictModel):
    id: Identifier
    statement: str = Field(description="The fact in the client's own first-person words.")
    reflection: str = Field(
        description="The same fact as Elena would reflect it back, in the second person."
    )
    topics: list[Identifier] = Field(
        default_factory=list, description="Topic ids the fact is relevant to (empty: any)."
    )


class SpeakingStyle(StrictModel):
    tone: Literal["casual", "neutral", "formal"] = Field(description="Register of their writing.")
    verbosity: Literal["terse", "medium", "verbose"] = Field(
        description="How long their messages tend to be."
    )
    openers: list[str] = Field(
        min_length=2, description="How this person tends to start a message."
    )
    fillers: list[str] = Field(
        default_factory=list,
        description='Hedges and verbal habits that open a sentence ("honestly", "look").',
    )
    tags: list[str] = Field(
        default_factory=list,
        description='Phrases tacked on at the end of a sentence ("so to speak", "haha", '
        '"you know?").',
    )
    notes: str = Field(description="Anything else about how they write.")
    # Voice fields read by the scripted client (issue 19, item 4). Optional: a persona without
    # them speaks in the neutral client voice. List items may hold [a|b] inline alternatives.
    hedges: list[str] = Field(
        default_factory=list,
        description='Their own softeners for a mild or unsure statement ("I reckon", "idk", '
        '"perhaps").',
    )
    intensifiers: list[str] = Field(
        default_factory=list,
        description='How they turn a feeling up ("I\'m telling you", "grabe", "literally").',
    )
    acknowledgements: list[str] = Field(
        default_factory=list,
        description='How they say yes / okay / I follow, in their own words ("Understood.", '
        '"ok bet lol"); used instead of a bare "Okay.".',
    )
    interjections: list[str] = Field(
        default_factory=list,
        description='Exclamations that can open a reaction ("Oy,", "Hay naku,", "ugh").',
    )
    asides: list[str] = Field(
        default_factory=list,
        description="Short characteristic remarks dropped in now and then: a saying, a work "
        "metaphor, a reference to their world, consistent with the persona's facts.",
    )
    sign_offs: list[str] = Field(
        default_factory=list,
        description='How they close their last message ("Harold", "Mahalo nui, Elena."); no '
        "question.",
    )
    contrasts: list[str] = Field(
        default_factory=list,
        description='How they turn to a harder feeling after taking a reply well ("Still,", '
        '"Thing is,"); ends with a comma or "but". Used in place of the shared '
        "contrast_lead_ins of agents/scripted/client_reactions.yaml.",
    )
    sentence_length: Literal["short", "medium", "long"] = Field(
        default="medium", description="Typical sentence length."
    )
    contractions: bool = Field(
        default=True, description='Whether they use contractions ("I\'m", "don\'t").'
    )
    lowercase: bool = Field(
        default=False, description="Whether they type in lower case (texting style)."
    )
    swears_mild: bool = Field(
        default=False, description='Whether mild swearing ("damn", "hell") fits their voice.'
    )

    @field_validator(
        "hedges",
        "intensifiers",
        "acknowledgements",
        "interjections",
        "asides",
        "sign_offs",
        "contrasts",
    )
    @classmethod
    def _alternatives(cls, v: list[str]) -> list[str]:
        for text in v:
            depth = 0
            for ch in text:
                depth += (ch == "[") - (ch == "]")
                if depth not in (0, 1):
                    raise ValueError(f"unbalanced or nested [ ] in {text!r}")
            if depth or "{" in text:
                raise ValueError(f"unbalanced [ ] or a {{slot}} in {text!r}")
        return v

    @field_validator("contrasts")
    @classmethod
    def _turns(cls, v: list[str]) -> list[str]:
        for text in v:
            if not (text.endswith(",") or text.endswith(" but") or text == "But"):
                raise ValueError(f'a contrast ends with a comma or "but": {text!r}')
        return v

    @field_validator("sign_offs")
    @classmethod
    def _no_question(cls, v: list[str]) -> list[str]:
        for text in v:
            if "?" in text:
                raise ValueError(f"a sign-off asks no question: {text!r}")
        return v


class ClientPersona(StrictModel):
    id: Identifier
    name: str = Field(description="Display name (fictional).")
    age: int = Field(description="Age in years.", ge=18, le=100)
    pronouns: str = Field(description="Pronouns, e.g. she/her.")
    occupation: str = Field(description="Work or main activity.")
    income_band: IncomeBand = Field(description="Household income band.")
    household: str = Field(description="Who lives with them and depends on them.")
    life_situation: str = Field(description="Life stage and recent events.")
    financial_literacy: Literacy = Field(description="Self-taught knowledge of money matters.")
    cultural_background: str = Field(
        description="Cultural background and how it shapes money views."
    )
    money_script: MoneyScript = Field(description="Dominant Klontz money script.")
    facts: list[PersonaFact] = Field(
        description="Facts the client can share, kept consistent across turns.", min_length=4
    )
    unspoken_concern: str = Field(
        description="What worries them but they do not say at first. Only the client agent sees it."
    )
    speaking_style: SpeakingStyle = Field(description="How the client writes.")
    default_arc: list[ArcStep] = Field(
        description="Hidden emotional arc used when a scenario sets none.", min_length=2
    )
    topics: list[Identifier] = Field(min_length=1, description="Topics this persona fits.")
    grounds: dict[Identifier, str] = Field(
        default_factory=dict,
        description="For a feeling that needs a ground in the story (the emotion's "
        "`needs_ground` in taxonomies/emotions.yaml, e.g. grief needs a loss): emotion id -> "
        "what in this person's story it comes from. Arcs give such a feeling only to a "
        "persona that names its ground here.",
    )


class FamilyAdaptation(StrictModel):
    family: GolemanFamily = Field(description="Goleman family.")
    approach: str = Field(description="How Elena meets a client in this family.")
    lead_strategies: list[Identifier] = Field(
        description="Strategy ids to lead with.", min_length=1
    )
    avoid: list[Identifier] = Field(
        description="Strategy or anti-pattern ids to avoid.", default_factory=list
    )


class ComplianceBoundary(StrictModel):
    id: Identifier
    rule: str = Field(description="The boundary in one sentence.")
    patterns: list[str] = Field(
        min_length=1, description="Regular expressions (case-insensitive) that breach the rule."
    )
    safe_alternative: str = Field(description="What to say instead.")


class ForbiddenPattern(StrictModel):
    id: Identifier
    pattern: str = Field(description="Regular expression, case-insensitive.")
    reason: str = Field(description="Why the phrasing is off-voice.")


class AdvisorPersona(StrictModel):
    id: Identifier
    name: str = Field(description="Display name.")
    credentials: str = Field(description="Professional credentials shown with her name.")
    role: str = Field(
        default="a financial planner talking with a client",
        description="Who she is in the conversation, after her name and credentials in the "
        "exported system prompt ('a support agent talking with a customer'); the domain's.",
    )
    version: str = Field(description="Persona version; recorded in every record.")
    philosophy: str = Field(description="Her approach in a paragraph.")
    voice_principles: list[str] = Field(description="Rules of her voice.", min_length=4)
    signature_phrases: list[str] = Field(description="Phrases typical of her voice.", min_length=5)
    forbidden_phrases: list[str] = Field(
        min_length=5, description="Exact phrases (case-insensitive) Elena never says."
    )
    forbidden_patterns: list[ForbiddenPattern] = Field(
        description="Regular expressions for phrasings she never uses.", min_length=3
    )
    compliance_boundaries: list[ComplianceBoundary] = Field(
        description="Lines she never crosses, with detection patterns.", min_length=3
    )
    jargon: dict[str, str] = Field(
        description="Terms that must be explained in plain words when used, with a plain gloss."
    )
    adaptations: list[FamilyAdaptation] = Field(
        description="How she adapts to each Goleman family.", min_length=8
    )
    max_words: int = Field(ge=20, description="Longest acceptable reply, in words.")
    max_sentences: int = Field(ge=2, description="Most sentences in one reply.")
