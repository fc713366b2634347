"""Realistic negatives: drafts a weak assistant would plausibly send in Elena's place.

`NegativeWriter` turns the good draft the scripted advisor composed (its sentences with their
functions and strategies) into a draft that gets the strategy wrong in a way a model could
actually learn from: a sensible plan before the feeling is heard, a correct definition at the
wrong moment, three questions at once, warmth that answers nothing, bare jargon, a kind but
untrue promise, a polite shrug, a hindsight remark. The wording lives in
agents/scripted/negatives.yaml; the type is chosen by what the observers read (emotion,
intensity) and by whether the client just asked a question.

Hard negatives keep the good draft's own sentences (its content) and change only the
strategy: drop the validation and lead with the education, append a second and third
question, replace the gloss with the bare term, prepend a brush-off. The critic never sees
which type was written (`AdvisorOutput.anti_pattern` is generator-side only).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from emosim.catalog import Catalog
from emosim.files import load_yaml_model

from ..messages import AdvisorInput, AdvisorOutput
from .templates import NEGATIVES_FILE, NegativeTemplates, NegativeType, slots_in
from .text import expand, fill, sentence_case

VERSION = "negatives-1"

# What a sentence of the good draft does, by its function and strategy.
WARM_FUNCTIONS = frozenset({"acknowledge_emotion", "validate", "normalize", "affirm_strength"})
VALIDATING = frozenset({"empathic_validation", "reflection_of_feelings", "normalizing"})
TEACHING = ("explain_concept", "set_expectation", "offer_option", "reframe_perspective")

Sentence = dict[str, str | None]
Builder = Callable[["_Job"], list[Sentence]]


def load_negatives(root: Path) -> NegativeTemplates:
    """agents/scripted/negatives.yaml under a catalog root, validated."""
    return load_yaml_model(root / NEGATIVES_FILE, NegativeTemplates)


def last_client_line(request: AdvisorInput) -> str | None:
    return next((t.text for t in reversed(request.transcript) if t.speaker == "client"), None)


def client_asked(request: AdvisorInput) -> bool:
    """Whether the client's last line ends with a question."""
    line = last_client_line(request)
    return line is not None and line.rstrip().endswith("?")


def technical(term: str) -> bool:
    """A key term a client may not know: an everyday single word ("will", "bond", "premium")
    is not one; a phrase, an acronym or a term with digits is."""
    return " " in term.strip() or "-" in term or any(c.isdigit() or c.isupper() for c in term)


def is_question(s: Sentence) -> bool:
    return str(s["text"]).rstrip().endswith("?")


def is_warm(s: Sentence) -> bool:
    return not is_question(s) and (s["function"] in WARM_FUNCTIONS or s["strategy"] in VALIDATING)


class _Job:
    """One negative being written: the request, the filled slots and the good sentences."""

    def __init__(
        self,
        spec: NegativeType,
        kind: str,
        rng: random.Random,
        slots: dict[str, str],
        good: list[Sentence],
        hard: bool,
    ):
        self.spec, self.kind, self.rng, self.slots, self.hard = spec, kind, rng, slots, hard
        self.good = [dict(s) for s in good]
        self.question = next((s for s in reversed(self.good) if is_question(s)), None)
        self.warm = [s for s in self.good if is_warm(s)]
        self.content = [s for s in self.good if not is_warm(s) and not is_question(s)]
        self._used: set[str] = set()

    def _usable(self, templates: list[str]) -> list[str]:
        named = {k for k, v in self.slots.items() if v}
        return [t for t in templates if slots_in(t) <= named and t not in self._used]

    def line(self, *, extra: bool = False) -> Sentence:
        """One sentence of the type, not used before in this draft."""
        templates = self.spec.extra if extra else self.spec.lines
        pool = self._usable(templates) or [t for t in templates if slots_in(t) <= set(self.slots)]
        template = self.rng.choice(pool)
        self._used.add(template)
        text = sentence_case(fill(expand(template, self.rng), self.slots))
        function = (self.spec.extra_function if extra else None) or self.spec.function
        return {"text": text, "function": function, "strategy": self.kind}

    def lines(self, k: int) -> list[Sentence]:
        return [self.line() for _ in range(min(k, len(self._usable(self.spec.lines))))]

    def closing(self) -> list[Sentence]:
        return [self.question] if self.question else []


class NegativeWriter:
    """Writes one realistic negative draft from the good draft of the same moment."""

    name = VERSION

    def __init__(self, catalog: Catalog, negatives: NegativeTemplates):
        self.catalog = catalog
        self.negatives = negatives
        self._builders: dict[str, Builder] = {
            "premature_advice": self._premature_advice,
            "wrong_timing": self._wrong_timing,
            "question_stack": self._question_stack,
            "over_validation": self._over_validation,
            "jargon_dump": self._jargon_dump,
            "false_reassurance": self._false_reassurance,
            "minimizing": self._minimizing,
            "judgment_blame": self._judgment_blame,
            "toxic_positivity": self._in_place_of_warmth,
            "dismissal": self._in_place_of_warmth,
            "pressure": self._appended,
            "false_guarantee": self._in_place_of_warmth,
            "specific_security": self._appended,
        }
        unknown = sorted(set(negatives.types) - set(catalog.anti_patterns))
        if unknown:
            raise ValueError(
                f"negatives.yaml: types {unknown} are not anti-patterns of the taxonomy"
            )
        unbuilt = sorted(set(negatives.types) - set(self._builders))
        if unbuilt:
            raise ValueError(f"negatives.yaml: no builder for types {unbuilt}")

    @property
    def types(self) -> list[str]:
        return list(self.negatives.types)

    # --- choosing ---------------------------------------------------------------------------

    def fitting(self, request: AdvisorInput, slots: dict[str, str]) -> list[str]:
        """The types that fit this moment (observed emotion and intensity, the client's
        question, the slots at hand)."""
        emotion = self.catalog.emotions[request.observed.primary]
        asked = client_asked(request)
        full = self._slots(request, slots)
        out = []
        for kind, spec in self.negatives.types.items():
            when = spec.when
            if when.valence == "negative" and emotion.valence >= 0:
                continue
            if request.observed.intensity_level not in when.intensity:
                continue
            if when.asked is not None and when.asked != asked:
                continue
            if any(not full.get(slot) for slot in when.needs):
                continue
            out.append(kind)
        return out

    def draft(
        self,
        request: AdvisorInput,
        rng: random.Random,
        slots: dict[str, str],
        good: list[dict],
    ) -> AdvisorOutput:
        """A negative for this moment: the type is drawn among those that fit, mostly among
        what harms this emotion or this moment."""
        fitting = self.fitting(request, slots)
        if not fitting:  # a question stack fits every moment unless the file drops it
            fitting = [k for k in self.types if not self.negatives.types[k].when.needs]
        emotion = self.catalog.emotions[request.observed.primary]
        asked = client_asked(request)
        distressed = request.observed.intensity_level == "high" and emotion.valence < 0
        # as the coverage planner (emosim/coverage.py) assumes: mostly (0.7) what harms this
        # emotion (taxonomy `harmful_strategies`), else any type that fits, there weighted
        # towards what harms this moment: warmth without an answer to a question, content
        # before acknowledgement at high distress
        harmful = [k for k in fitting if k in emotion.harmful_strategies]
        pool = harmful if harmful and rng.random() < 0.7 else fitting
        weights = []
        for kind in pool:
            w = self.negatives.types[kind].weight
            if (asked and kind == "over_validation") or (
                distressed and kind in {"wrong_timing", "premature_advice"}
            ):
                w *= 3.0
            weights.append(w)
        kind = rng.choices(pool, weights=weights)[0]
        return self.write(kind, request, rng, slots, good)

    # --- writing ----------------------------------------------------------------------------

    def write(
        self,
        kind: str,
        request: AdvisorInput,
        rng: random.Random,
        slots: dict[str, str],
        good: list[dict],
        *,
        hard: bool | None = None,
    ) -> AdvisorOutput:
        """A negative of type `kind`; `hard` forces a hard (built on the good sentences) or
        soft negative, else the type's `hard_share` decides."""
        spec = self.negatives.types[kind]
        if hard is None:
            hard = rng.random() < spec.hard_share
        job = _Job(spec, kind, rng, self._slots(request, slots), good, hard)
        sentences = [s for s in self._builders[kind](job) if s and str(s["text"]).strip()]
        # the record names strategies by their taxonomy ids: the anti-pattern itself is in
        # `anti_pattern`, and sentences it wrote carry no strategy
        known = self.catalog.strategies
        sentences = [
            {**x, "strategy": x["strategy"] if x.get("strategy") in known else None}
            for x in sentences
        ]
        strategies = list(dict.fromkeys(x["strategy"] for x in sentences if x.get("strategy")))
        primary = strategies[0] if strategies else "education"
        name = self.catalog.anti_patterns[kind].name.lower()
        kept = any(s["strategy"] is not None and not is_question(s) for s in sentences)
        how = (
            "hard negative: the good reply's own sentences, the strategy wrong"
            if kept
            else ("soft negative")
        )
        return AdvisorOutput.model_validate(
            {
                "text": " ".join(str(s["text"]) for s in sentences),
                "sentences": sentences,
                "strategies": {
                    "primary": primary,
                    "combination": [s for s in strategies if s != primary],
                    "source": self.name,
                },
                "learning_objective": f"Negative example: {name} ({how}).",
                "anti_pattern": kind,
            }
        )

    def _slots(self, request: AdvisorInput, slots: dict[str, str]) -> dict[str, str]:
        """The advisor's slots plus two more key terms of the topic ({other_term},
        {third_term}): technical ones the advisor has not used yet in this conversation."""
        out = dict(slots)
        topic = self.catalog.topics.get(request.topic)
        if topic is None:
            return out
        # terms already in the conversation (explained by Elena, or the client's own words)
        # are no jargon to this client
        said = " ".join(t.text for t in request.transcript).lower()
        term = out.get("term", "")
        others = [
            t for t in topic.key_terms if t != term and technical(t) and t.lower() not in said
        ]
        # terms that are not a kind of a glossary term ("vesting schedule" reads as a
        # schedule of vesting) first: a client most needs those spelled out
        glossary = [g.lower() for g in self.catalog.advisor.jargon]
        others.sort(key=lambda t: any(g in t.lower() for g in glossary))
        covered = any(g in term.lower() and g != term.lower() for g in glossary)
        if term and (not technical(term) or term.lower() in said or covered) and others:
            # a bare everyday word is not jargon: name a technical term instead
            out["original_term"] = term
            term = others.pop(0)
            out["term"] = term
            out["term_gloss"] = topic.key_terms[term].rstrip(".")
        if others:
            out["other_term"] = others[0]
        if len(others) > 1:
            out["third_term"] = others[1]
        return out

    # --- one builder per type ---------------------------------------------------------------

    @staticmethod
    def _premature_advice(job: _Job) -> list[Sentence]:
        """A plan first; the validation of the good draft is dropped."""
        plan = job.line()
        if job.hard and job.content:
            return [plan, *job.content[:2], *job.closing()]
        return [plan, *job.closing()]

    @staticmethod
    def _wrong_timing(job: _Job) -> list[Sentence]:
        """The good draft's teaching, leading, at high distress; its validation dropped."""
        teaching = sorted(
            (s for s in job.content if s["function"] in TEACHING),
            key=lambda s: TEACHING.index(str(s["function"])),
        )
        if job.hard and teaching:
            return [*teaching[:3], *job.closing()]
        return [job.line(), job.line(extra=True), *job.closing()]

    @staticmethod
    def _question_stack(job: _Job) -> list[Sentence]:
        """Three questions or more at the end."""
        if job.hard:
            body = [s for s in job.good if not is_question(s)]
            questions = job.closing() + job.lines(3 - len(job.closing()))
        else:
            body = (job.warm or job.good)[:1]
            questions = job.lines(3)
        return [*[s for s in body if not is_question(s)], *questions]

    @staticmethod
    def _over_validation(job: _Job) -> list[Sentence]:
        """Warm sentences only: nothing the client asked is taken up."""
        # only what acknowledges the feeling: a normalizing or reassuring sentence of the good
        # draft often carries the answer itself
        felt = [
            s
            for s in job.warm
            if s["function"] in {"acknowledge_emotion", "validate"}
            and s["strategy"] in {"empathic_validation", "reflection_of_feelings"}
        ]
        if job.hard and felt:
            return [*felt[:2], job.line()]
        return job.lines(job.rng.choice([2, 3]))

    def _jargon_dump(self, job: _Job) -> list[Sentence]:
        """The gloss replaced by the bare term, and another term or two named bare."""
        named = [
            job.slots.get(k, "").lower()
            for k in ("term_gloss", "term", "other_term", "third_term", "original_term")
        ]

        def glossed(s: Sentence) -> bool:
            """The sentence names or explains one of the terms (the gloss goes with it)."""
            text = str(s["text"]).lower()
            return any(n and n in text for n in named)

        if job.hard:
            out: list[Sentence] = []
            replaced = False
            for s in job.good:
                if glossed(s):
                    if not replaced:
                        out.append(job.line(extra=True))
                        replaced = True
                    continue
                out.append(s)
            questions = [s for s in out if is_question(s)]
            out = [s for s in out if not is_question(s)]
            out.insert(min(1, len(out)), job.line())
            return out + questions[-1:]
        body = [s for s in job.good[:1] if not is_question(s) and not glossed(s)]
        return [*body, job.line(), *job.closing()]

    @staticmethod
    def _false_reassurance(job: _Job) -> list[Sentence]:
        """A promise about the client's own outcome, in place of honest reassurance."""
        promise = job.line()
        if job.hard:
            out, placed = [], False
            for s in job.good:
                if s["strategy"] == "honest_reassurance" and not placed:
                    out.append(promise)
                    placed = True
                else:
                    out.append(s)
            if not placed:
                out.insert(min(1, len(out)), promise)
            return out
        return [*job.warm[:1], promise, *job.closing()]

    @staticmethod
    def _minimizing(job: _Job) -> list[Sentence]:
        """A polite shrug in place of the validation."""
        shrug = job.line()
        if job.hard:
            rest = [s for s in job.good if not is_warm(s)]
            return [shrug, *rest]
        return [shrug, *job.content[:1], *job.closing()]

    @staticmethod
    def _judgment_blame(job: _Job) -> list[Sentence]:
        """A hindsight remark after the opening sentence."""
        remark = job.line()
        if job.hard:
            out = list(job.good)
            out.insert(min(1, len(out)), remark)
            return out
        return [*job.warm[:1], remark, *job.content[:1], *job.closing()]

    @staticmethod
    def _in_place_of_warmth(job: _Job) -> list[Sentence]:
        """The line where the good draft acknowledged the feeling (cheer, a pivot, a promise
        instead of being heard); the rest of the good draft kept."""
        line = job.line()
        if job.hard:
            return [line, *[s for s in job.good if not is_warm(s)]]
        return [line, *job.content[:1], *job.closing()]

    @staticmethod
    def _appended(job: _Job) -> list[Sentence]:
        """The good draft, with the line added before its closing question (a nudge, a tip)."""
        line = job.line()
        if job.hard:
            body = [s for s in job.good if not is_question(s)]
            return [*body, line, *job.closing()]
        return [*job.warm[:1], line, *job.closing()]
