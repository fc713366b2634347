"""The `trained` strategy observer: the ESConv strategy model read through the taxonomy.

The model names one of ESConv's eight strategies with a calibrated probability. The taxonomy
maps each of our strategies to its closest ESConv strategy (taxonomies/strategies.yaml,
`esconv`), so one ESConv strategy stands for several of ours ("Affirmation and Reassurance":
empathic_validation, normalizing, affirmation, ...). Within the model's ESConv strategy the
lexicon's cue phrases pick the member; with no cue the first member in taxonomy order is named
(`open_question` for "Question", `reframing` for "Others", ...).

A reply is read whole (its strategy and confidence) and sentence by sentence (each sentence's
own strategy, confidence and evidence); the other strategies its sentences use are the
reply's `combination`. Evidence is the n-grams that pushed the named strategy up the most.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from emosim.catalog import Catalog
from emosim.schemas import StrategyUse
from emosim.schemas.common import StrictModel

from ..scripted.observers import LexiconStrategyObserver
from ..scripted.text import split_sentences
from .esconv_train import StrategyExample
from .provenance import label_source
from .strategy_model import StrategyModel


class StrategyEvidence(StrictModel):
    term: str = Field(description="The n-gram (or shape feature) as the model knows it.")
    source: str = Field(description="reply, opening (first words), context (seeker) or shape.")
    weight: float = Field(description="Its contribution to the named strategy's score.")


class StrategyReading(StrictModel):
    """One reply or sentence read by the trained observer."""

    text: str
    start: int = Field(default=0, ge=0, description="Offset in the reply (sentences).")
    end: int = Field(default=0, ge=0, description="Offset just past the text in the reply.")
    esconv: str = Field(description="ESConv strategy the model named.")
    strategy: str = Field(description="Taxonomy strategy id it is read as.")
    confidence: float = Field(ge=0, le=1, description="Calibrated probability of `esconv`.")
    distribution: dict[str, float] = Field(description="Probability of each ESConv strategy.")
    evidence: list[StrategyEvidence] = Field(default_factory=list)


class ReplyReading(StrategyReading):
    sentences: list[StrategyReading] = Field(default_factory=list)
    observer: str
    license: str = Field(description="License the labels inherit from the model's data.")


class TrainedStrategyObserver:
    """Names the strategies of an advisor reply with the trained ESConv model."""

    reads_context = True  # `observe` takes the client's turn before the reply

    def __init__(
        self,
        catalog: Catalog,
        model: StrategyModel,
        *,
        lexicon: LexiconStrategyObserver | None = None,
        evidence: int = 3,
    ):
        self.catalog = catalog
        self.model = model
        self.lexicon = lexicon
        self.evidence_terms = evidence
        self.name = f"trained-strategy/{model.meta.name}:{model.version}"
        name, _, version = self.name.partition("/")
        # provenance of every label this observer makes (graphs/finalize.py reads it)
        self.label_source = label_source(
            name,
            version,
            model_sha256=model.file_sha256,
            data_sha256=model.meta.data_sha256,
            license=model.meta.license,
        )
        self.members: dict[str, list[str]] = {label: [] for label in model.labels}
        for s in catalog.strategies_file.strategies:
            self.members.setdefault(s.esconv, []).append(s.id)
        empty = [label for label, ids in self.members.items() if not ids]
        if empty:
            from emosim.errors import DataError

            raise DataError(
                [f"taxonomies/strategies.yaml: no strategy has esconv {label!r}" for label in empty]
            )

    # --- the protocol ---------------------------------------------------------------------

    def observe(self, text: str, context: str | None = None) -> StrategyUse:
        """The reply's strategies; `context` is the client's turn before it, when known."""
        reading = self.read(text, context or "")
        others = [s.strategy for s in reading.sentences if s.strategy != reading.strategy]
        return StrategyUse(
            primary=reading.strategy,
            combination=list(dict.fromkeys(others))[:3],
            confidence=round(reading.confidence, 2),
            source=self.name,
        )

    # --- readings -------------------------------------------------------------------------

    def read(
        self,
        text: str,
        context: str = "",
        *,
        index: int | None = None,
        count: int | None = None,
        sentences: bool = True,
    ) -> ReplyReading:
        """The reply read whole and (with `sentences`) sentence by sentence."""
        spans = split_sentences(text) if sentences else []
        examples = [
            StrategyExample(text=piece, context=context, index=index, count=count)
            for piece in [text, *(s for _, _, s in spans)]
        ]
        readings = self._readings(examples)
        whole = readings[0]
        parts = [
            r.model_copy(update={"start": start, "end": end})
            for r, (start, end, _) in zip(readings[1:], spans, strict=True)
        ]
        return ReplyReading(
            **whole.model_dump(exclude={"end"}),
            end=len(text),
            sentences=parts,
            observer=self.name,
            license=self.model.meta.license,
        )

    def label(self, examples: Sequence[StrategyExample]) -> list[str]:
        """ESConv strategy names only (fast path for evaluations and benchmarks)."""
        return self.model.predict(examples)[0]

    def _readings(self, examples: Sequence[StrategyExample]) -> list[StrategyReading]:
        features = self.model.features(examples)
        named, probabilities = self.model.predict(examples, features)
        out = []
        for i, (example, label, probs) in enumerate(
            zip(examples, named, probabilities, strict=True)
        ):
            evidence = self.model.evidence(example, label, self.evidence_terms, features[i])
            out.append(
                StrategyReading(
                    text=example.text,
                    end=len(example.text),
                    esconv=label,
                    strategy=self.member(label, example.text),
                    confidence=round(float(probs[self.model.labels.index(label)]), 4),
                    distribution={
                        k: round(float(p), 4) for k, p in zip(self.model.labels, probs, strict=True)
                    },
                    evidence=[
                        StrategyEvidence(term=e.term, source=e.source, weight=e.weight)
                        for e in evidence
                    ],
                )
            )
        return out

    def member(self, esconv: str, text: str) -> str:
        """The taxonomy strategy an ESConv strategy is read as in this text."""
        members = self.members[esconv]
        if self.lexicon is not None and len(members) > 1:
            scores = self.lexicon.scores(text)
            best = max(members, key=lambda sid: scores.get(sid, 0.0))
            if scores.get(best, 0.0) > 0:
                return best
        return members[0]


def build_strategy_observer(
    catalog: Catalog,
    *,
    model_path=None,
    data_dir=None,
    lexicon: bool = True,
) -> TrainedStrategyObserver:
    """The observer for a run: loads (first use: builds) the cached model."""
    from .strategy_store import ensure_strategy_model

    return TrainedStrategyObserver(
        catalog,
        ensure_strategy_model(model_path, data_dir=data_dir),
        lexicon=LexiconStrategyObserver(catalog) if lexicon else None,
    )
