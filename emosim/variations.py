"""Variations of a seed along one axis, and the scenario building blocks they share with the
coverage planner (arcs walked through the taxonomy, situations composed from a persona).

A seed is a scenario file or an annotated conversation record. A variation changes one
thing on purpose (topic, starting emotion, context of the same strategies, intensity,
persona, length) and re-derives everything that depends on it: the arc is re-planned through
`likely_next`, the situation is recomposed from the new persona's facts and the new
sub-category, and the lineage names the seed, the parent, the axis and the values changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from pydantic import ValidationError

from .agents.scripted.text import ensure_period, lower_first, rng_for
from .catalog import Catalog
from .errors import DataError, EmosimError
from .files import dump_yaml, format_validation_error, iter_json_documents
from .schemas import ArcStep, ClientPersona, ConversationRecord, LineageInfo, Scenario
from .schemas.common import (
    INTENSITY_BANDS,
    LENGTH_CLASS_EXCHANGES,
    IntensityLevel,
    LengthClass,
    intensity_level,
    length_class_for,
)
from .schemas.scenario import Phase

Axis = Literal["topic", "emotion", "strategy_context", "intensity", "persona", "length"]
AXES: tuple[str, ...] = get_args(Axis)
LEVELS: tuple[IntensityLevel, ...] = ("low", "medium", "high")
ID_TAGS = {
    "topic": "topic",
    "emotion": "emotion",
    "strategy_context": "context",
    "intensity": "intensity",
    "persona": "persona",
    "length": "length",
}
MAX_ID = 64

# Where an arc step of a level is placed: inside the band and clear of its edges, so that the
# arc controller's +-0.05 jitter and a regression's +0.15 rarely move it to another band.
LEVEL_RANGES: dict[str, tuple[float, float]] = {
    "low": (0.15, 0.25),
    "medium": (0.45, 0.55),
    "high": (0.75, 0.9),
}
# Arc steps for a number of exchanges: about two exchanges per step by default, and a long
# conversation moves through at least three states.
ARC_STEPS = {2: 2, 3: 2, 4: 3, 5: 3, 6: 3, 7: 4, 8: 4, 9: 5, 10: 5}
MIN_ARC_STEPS = {2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 3, 8: 3, 9: 3, 10: 3}


# --- building blocks ------------------------------------------------------------------------


def intensity_for(level: str, rng: random.Random) -> float:
    lo, hi = LEVEL_RANGES[level]
    return round(rng.uniform(lo, hi), 2)


def level_of(step: ArcStep) -> IntensityLevel:
    return intensity_level(step.intensity)


def arc_steps_for(exchanges: int) -> int:
    return ARC_STEPS[exchanges]


def arc_step_range(exchanges: int) -> range:
    return range(MIN_ARC_STEPS[exchanges], ARC_STEPS[exchanges] + 1)


def is_negative(catalog: Catalog, emotion: str) -> bool:
    return catalog.emotions[emotion].valence < 0


def transitions(catalog: Catalog, emotion: str, level: str) -> list[tuple[str, str]]:
    """Plausible next arc steps when Elena helps, one band of intensity at a time: an
    unpleasant feeling eases (the same feeling weaker, or a `likely_next` one no stronger), a
    pleasant one grows (the same feeling stronger, or a `likely_next` one within a band)."""
    rank = LEVELS.index(level)  # type: ignore[arg-type]

    def band(lo: int, hi: int) -> list[str]:
        return [LEVELS[i] for i in range(max(0, lo), min(2, hi) + 1)]

    if is_negative(catalog, emotion):
        out = [(emotion, lv) for lv in band(rank - 1, rank - 1)]
    else:
        out = [(emotion, lv) for lv in band(rank + 1, rank + 1)]
    for nxt in catalog.emotions[emotion].likely_next:
        if not catalog.feelable(nxt):
            continue  # nobody in this catalog's stories can be given it (grief: a loss)
        levels = band(rank - 1, rank) if is_negative(catalog, nxt) else band(rank - 1, rank + 1)
        out.extend((nxt, lv) for lv in levels)
    return out


def fits(catalog: Catalog, persona: ClientPersona, topic: str, emotion: str | None) -> bool:
    """A persona fits a topic it lists; a starting emotion fits when the topic commonly brings
    it or the persona's own default arc holds it, and the persona's story grounds it (grief
    only for a persona with a loss: `grounds`)."""
    if topic not in persona.topics:
        return False
    if emotion is None:
        return True
    if not catalog.grounded(persona, emotion):
        return False
    return emotion in catalog.topics[topic].common_emotions or emotion in {
        s.emotion for s in persona.default_arc
    }


def arc_fits(catalog: Catalog, persona: ClientPersona, emotions: Iterable[str]) -> bool:
    """Every feeling of an arc is one the persona's story grounds."""
    return all(catalog.grounded(persona, e) for e in emotions)


def startable(catalog: Catalog, emotion: str) -> bool:
    return any(fits(catalog, p, t, emotion) for p in catalog.clients.values() for t in p.topics)


def topic_facts(persona: ClientPersona, topic: str) -> list[str]:
    on_topic = [f.statement for f in persona.facts if topic in f.topics]
    untagged = [f.statement for f in persona.facts if not f.topics]
    return on_topic or untagged


def _pronouns(persona: ClientPersona) -> tuple[str, str, bool]:
    subject = persona.pronouns.split("/")[0].strip().lower()
    possessive = {"he": "his", "she": "her"}.get(subject, "their")
    return subject, possessive, subject not in {"he", "she"}


def compose_situation(
    catalog: Catalog,
    persona_id: str,
    topic_id: str,
    subcategory_id: str,
    start: ArcStep,
    rng: random.Random,
) -> str:
    """What brings the client to Elena, from the persona's facts and the sub-category: who
    they are, what the conversation covers, two facts in their own words, and the feeling
    they arrive with."""
    persona = catalog.clients[persona_id]
    topic = catalog.topics[topic_id]
    sub = next(s for s in topic.subcategories if s.id == subcategory_id)
    first = persona.name.split()[0]
    advisor = catalog.advisor.name.split()[0]  # Elena; the domain's advisor elsewhere
    subject, possessive, plural = _pronouns(persona)
    covers = lower_first(sub.description.strip().rstrip("."))
    phrase = sub.phrase or lower_first(sub.name)
    who = f"{persona.name} ({persona.age}; {lower_first(persona.occupation)})"
    opening = rng.choice(
        [
            f"{who} is coming to {advisor} about {phrase}. The conversation covers {covers}.",
            f"{who} has questions about {phrase}, which here means {covers}.",
            f"What brings {who} to {advisor} today is {phrase}: {covers}.",
        ]
    )
    parts = [opening]
    facts = topic_facts(persona, topic_id)
    chosen = rng.sample(facts, k=min(2, len(facts))) if facts else []
    # who is at home is told when the facts of this conversation bring them in, and now and
    # then otherwise: a client does not recite their household every time they sit down
    if _brings_in_household(persona, chosen) or rng.random() < HOUSEHOLD_SHARE:
        parts.append(f"At home: {ensure_period(lower_first(persona.household.strip()))}")
    if chosen:
        quoted = " ".join(f'"{ensure_period(f)}"' for f in chosen)
        has = "have" if plural else "has"
        parts.append(
            rng.choice(
                [
                    f"In {possessive} own words: {quoted}",
                    f"What {first} {has} told {advisor}'s office so far: {quoted}",
                ]
            )
        )
    emotion = catalog.emotions[start.emotion]
    parts.append(f"Going in, the feeling is {emotion.name.lower()} at {level_of(start)} intensity.")
    return " ".join(parts)


HOUSEHOLD_SHARE = 0.4
_FAMILY = re.compile(
    r"\b(?:wife|husband|partner|fianc\w*|kids?|children|son|daughters?|mother|father|mom|dad|"
    r"parents?|sister|brother|grand\w+|in-law)\b",
    re.IGNORECASE,
)
_NOT_NAMES = frozenset(
    "Married Lives Living Divorced Single Widowed Their Her His The They She He It Two Three "
    "Four Five Six Seven Eight Nine Ten One".split()
)


def _brings_in_household(persona: ClientPersona, facts: list[str]) -> bool:
    """Whether the facts name someone of the household (by name, or as family)."""
    names = set(re.findall(r"\b[A-Z][^\W\d_]+", persona.household)) - _NOT_NAMES
    text = " ".join(facts)
    return bool(_FAMILY.search(text)) or any(re.search(rf"\b{n}\b", text) for n in names)


def subcategory_ids(catalog: Catalog, topic: str) -> list[str]:
    return [s.id for s in catalog.topics[topic].subcategories]


# --- seeds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedTemplate:
    """What a variation starts from, whether the seed was a scenario or a record."""

    id: str
    root: str
    kind: Literal["scenario", "record"]
    topic: str
    subcategory: str
    persona: str
    exchanges: int
    length_class: LengthClass
    phase: Phase
    situation: str
    arc: tuple[ArcStep, ...]
    strategies: tuple[str, ...]
    anti_pattern_rate: float = 0.15
    max_redrafts: int = 2
    per_step_strategies: tuple[tuple[str, ...], ...] = field(default=())


def load_seed(catalog: Catalog, path: Path) -> SeedTemplate:
    """A scenario YAML (simulations/*.yaml) or one annotated record (seeds/*.json)."""
    if path.suffix in {".yaml", ".yml"}:
        return _from_scenario(catalog, catalog.load_scenario(path))
    if path.suffix in {".json", ".jsonl"}:
        documents = list(iter_json_documents(path))
        if len(documents) != 1:
            raise DataError(
                [f"{path}: a seed is one conversation record; the file holds {len(documents)}"]
            )
        where, doc = documents[0]
        try:
            record = ConversationRecord.model_validate(doc)
        except ValidationError as exc:
            raise DataError(format_validation_error(exc, where)) from None
        return _from_record(catalog, record, where)
    raise DataError(
        [
            f"{path}: a seed is a scenario (.yaml) or a conversation record (.json), "
            f"not {path.suffix or 'a file without extension'!r}"
        ]
    )


def _from_scenario(catalog: Catalog, sc: Scenario) -> SeedTemplate:
    arc = tuple(sc.arc or catalog.clients[sc.client_persona].default_arc)
    helping = tuple(tuple(catalog.emotions[s.emotion].helpful_strategies) for s in arc)
    return SeedTemplate(
        id=sc.id,
        root=sc.lineage.seed_id or sc.id,
        kind="scenario",
        topic=sc.topic,
        subcategory=sc.subcategory,
        persona=sc.client_persona,
        exchanges=sc.exchanges,
        length_class=sc.length_class,
        phase=sc.phase,
        situation=sc.situation,
        arc=arc,
        strategies=tuple(dict.fromkeys(s for step in helping for s in step)),
        anti_pattern_rate=sc.anti_pattern_rate,
        max_redrafts=sc.max_redrafts,
        per_step_strategies=helping,
    )


def _from_record(catalog: Catalog, record: ConversationRecord, where: str) -> SeedTemplate:
    sc = record.scenario
    problems = []
    if sc.topic not in catalog.topics:
        problems.append(f"{where}: scenario.topic: unknown topic id {sc.topic!r}")
    elif sc.subcategory not in subcategory_ids(catalog, sc.topic):
        problems.append(
            f"{where}: scenario.subcategory: {sc.subcategory!r} is not in topic {sc.topic!r}"
        )
    persona = sc.client_persona_id
    imported = record.provenance.source == "real" and persona not in catalog.clients
    if persona not in catalog.clients and not imported:
        problems.append(
            f"{where}: scenario.client_persona_id: unknown persona id {sc.client_persona_id!r}"
        )
    # a real transcript can run long: its first ten exchanges are the template
    client_turns = record.client_turns[:10] if imported else record.client_turns
    arc: list[ArcStep] = []
    for turn in client_turns:
        if turn.ground_truth:
            emotion, intensity = turn.ground_truth.emotion, turn.ground_truth.intensity
        elif turn.annotation:
            emotion, intensity = turn.annotation.primary, turn.annotation.intensity
        else:
            problems.append(
                f"{where}: turns.{turn.index}: client turn has neither ground_truth nor "
                "annotation, so the seed's arc is unknown"
            )
            continue
        if emotion not in catalog.emotions:
            problems.append(f"{where}: turns.{turn.index}: unknown emotion id {emotion!r}")
            continue
        arc.append(ArcStep(emotion=emotion, intensity=intensity))
    exchanges = len(client_turns)
    if imported and arc and sc.topic in catalog.topics:
        # real people have no persona file: stand in the closest shipped persona
        fitting = sorted(
            p.id for p in catalog.clients.values() if fits(catalog, p, sc.topic, arc[0].emotion)
        ) or sorted(p.id for p in catalog.clients.values() if sc.topic in p.topics)
        if not fitting:
            problems.append(f"{where}: no shipped persona fits topic {sc.topic!r}")
        else:
            persona = fitting[0]
    if not problems and not 2 <= exchanges <= 10:
        problems.append(
            f"{where}: turns: a seed needs 2-10 exchanges to vary, the record has {exchanges}"
        )
    if problems:
        raise DataError(problems)
    per_turn = []
    for turn in record.advisor_turns[: len(client_turns)]:
        use = turn.intended_strategies or turn.strategies
        per_turn.append(tuple([use.primary, *use.combination]) if use else ())
    used = tuple(dict.fromkeys(s for t in per_turn for s in t if s in catalog.strategies))
    return SeedTemplate(
        id=record.id,
        root=record.lineage.seed_id or record.id,
        kind="record",
        topic=sc.topic,
        subcategory=sc.subcategory,
        persona=persona,
        exchanges=exchanges,
        length_class=length_class_for(exchanges),
        phase=sc.phase,
        situation=sc.situation,
        arc=tuple(arc),
        strategies=used,
        per_step_strategies=tuple(per_turn),
    )


# --- variations -----------------------------------------------------------------------------


@dataclass
class Draft:
    """One variation before it becomes a scenario."""

    value: str
    changed: dict[str, str]
    topic: str
    subcategory: str
    persona: str
    arc: list[ArcStep]
    exchanges: int
    recompose: bool = True

    def key(self) -> tuple:
        return (
            self.topic,
            self.subcategory,
            self.persona,
            self.exchanges,
            tuple((s.emotion, s.intensity) for s in self.arc),
        )


def _round_robin(groups: list[list]) -> Iterator:
    """First items of every group, then second items, ...: spreads N picks over groups."""
    depth = max((len(g) for g in groups), default=0)
    for i in range(depth):
        for g in groups:
            if i < len(g):
                yield g[i]


def _shuffled(items, rng: random.Random) -> list:  # noqa: ANN001
    out = list(items)
    rng.shuffle(out)
    return out


def _persona_for(
    catalog: Catalog, t: SeedTemplate, topic: str, emotion: str, rng: random.Random
) -> str | None:
    """Keep the seed's persona when it fits the topic; else one that fits it and the emotion."""
    if fits(catalog, catalog.clients[t.persona], topic, None):
        return t.persona
    grounded = [p for p in catalog.clients.values() if arc_fits(catalog, p, _emotions(t.arc))]
    options = [p for p in grounded if fits(catalog, p, topic, emotion)]
    options = options or [p for p in grounded if topic in p.topics]
    return rng.choice(sorted(p.id for p in options)) if options else None


def _vary_topic(catalog: Catalog, t: SeedTemplate, rng: random.Random) -> Iterator[Draft]:
    start = t.arc[0].emotion
    topics = [
        tid
        for tid, topic in catalog.topics.items()
        if tid != t.topic and start in topic.common_emotions
    ]
    topics += [
        tid
        for tid in catalog.topics
        if tid != t.topic
        and tid not in topics
        and any(fits(catalog, p, tid, start) for p in catalog.clients.values())
    ]
    groups = [
        [(tid, sub) for sub in _shuffled(subcategory_ids(catalog, tid), rng)]
        for tid in _shuffled(topics, rng)
    ]
    for tid, sub in _round_robin(groups):
        persona = _persona_for(catalog, t, tid, start, rng)
        if persona is None:
            continue
        changed = {"topic": tid, "subcategory": sub}
        if persona != t.persona:
            changed["client_persona"] = persona
        yield Draft(tid, changed, tid, sub, persona, list(t.arc), t.exchanges)


def _shape(arc: tuple[ArcStep, ...]) -> list[bool]:
    """For each step after the first: does it keep the previous step's emotion?"""
    return [a.emotion == b.emotion for a, b in zip(arc, arc[1:], strict=False)]


def walk_like(
    catalog: Catalog, arc: tuple[ArcStep, ...], start: str, rng: random.Random
) -> list[ArcStep] | None:
    """A new arc from `start` with the seed arc's shape (where it held an emotion, hold; where
    it moved, move along `likely_next`, towards a pleasant feeling where the seed's was
    pleasant) and its intensities."""
    steps = [ArcStep(emotion=start, intensity=arc[0].intensity)]
    for seed_step, hold in zip(arc[1:], _shape(arc), strict=True):
        current = steps[-1].emotion
        if hold:
            steps.append(ArcStep(emotion=current, intensity=seed_step.intensity))
            continue
        used = {s.emotion for s in steps}
        options = [e for e in catalog.emotions[current].likely_next if e not in used]
        want_negative = is_negative(catalog, seed_step.emotion)
        matching = [e for e in options if is_negative(catalog, e) == want_negative]
        pool = matching or options
        if not pool:
            return None
        steps.append(ArcStep(emotion=rng.choice(pool), intensity=seed_step.intensity))
    return steps


def _vary_emotion(catalog: Catalog, t: SeedTemplate, rng: random.Random) -> Iterator[Draft]:
    """Other starting feelings of the same sign (unpleasant for an unpleasant seed): the
    topic's common ones first, then the persona's own, then the rest."""
    seed_start = t.arc[0].emotion
    negative = is_negative(catalog, seed_start)
    ordered = [
        *_shuffled(catalog.topics[t.topic].common_emotions, rng),
        *(s.emotion for s in catalog.clients[t.persona].default_arc),
        *_shuffled(catalog.emotions, rng),
    ]
    starts = [
        e for e in dict.fromkeys(ordered) if e != seed_start and is_negative(catalog, e) == negative
    ]
    for _ in range(3):  # later rounds find other walks from the same starts
        for start in starts:
            arc = walk_like(catalog, t.arc, start, rng)
            if arc is None or not arc_fits(catalog, catalog.clients[t.persona], _emotions(arc)):
                continue  # no grief for a persona whose story holds no loss
            yield Draft(
                start,
                {"start_emotion": start, "arc": _arc_text(arc)},
                t.topic,
                t.subcategory,
                t.persona,
                arc,
                t.exchanges,
            )


def _emotions(arc: Iterable[ArcStep]) -> list[str]:
    return [s.emotion for s in arc]


def _arc_text(arc: list[ArcStep]) -> str:
    return " > ".join(f"{s.emotion}:{s.intensity:g}" for s in arc)


def _vary_strategy_context(
    catalog: Catalog, t: SeedTemplate, rng: random.Random
) -> Iterator[Draft]:
    """The same strategies in another life: keep the arc steps the seed's strategies helped
    (per turn for a record), move them to another topic, persona and situation."""
    strategies = set(t.strategies)
    kept = []
    for i, step in enumerate(t.arc):
        used = set(t.per_step_strategies[i]) if i < len(t.per_step_strategies) else strategies
        if (used or strategies) & set(catalog.emotions[step.emotion].helpful_strategies):
            kept.append(step)
    while len(kept) < 2 and kept:
        last = kept[-1]
        helped = [
            e
            for e in catalog.emotions[last.emotion].likely_next
            if strategies & set(catalog.emotions[e].helpful_strategies)
        ]
        if not helped:
            break
        kept.append(ArcStep(emotion=rng.choice(helped), intensity=intensity_for("medium", rng)))
    if len(kept) < 2:
        return
    kept = kept[: t.exchanges]
    start = kept[0].emotion
    topics = [
        tid
        for tid in _shuffled(catalog.topics, rng)
        if tid != t.topic
        and any(fits(catalog, p, tid, start) for p in catalog.clients.values() if p.id != t.persona)
    ]
    groups = []
    for tid in topics:
        personas = [
            p.id
            for p in catalog.clients.values()
            if p.id != t.persona
            and fits(catalog, p, tid, start)
            and arc_fits(catalog, p, _emotions(kept))
        ]
        groups.append(
            [(tid, p, rng.choice(subcategory_ids(catalog, tid))) for p in _shuffled(personas, rng)]
        )
    for tid, persona, sub in _round_robin(groups):
        yield Draft(
            tid,
            {
                "topic": tid,
                "subcategory": sub,
                "client_persona": persona,
                "strategies": ",".join(sorted(strategies)),
            },
            tid,
            sub,
            persona,
            list(kept),
            t.exchanges,
        )


def shift_intensity(step: ArcStep, shift: int) -> ArcStep:
    """Move a step `shift` bands up or down, keeping its relative place inside the band."""
    level = level_of(step)
    lo, hi = INTENSITY_BANDS[level]
    place = (step.intensity - lo) / (hi - lo) if hi > lo else 0.5
    target = LEVELS[min(2, max(0, LEVELS.index(level) + shift))]
    new_lo, new_hi = LEVEL_RANGES[target]
    return ArcStep(emotion=step.emotion, intensity=round(new_lo + place * (new_hi - new_lo), 2))


def _vary_intensity(catalog: Catalog, t: SeedTemplate, rng: random.Random) -> Iterator[Draft]:
    seed_level = level_of(t.arc[0])
    for level in _shuffled([lv for lv in LEVELS if lv != seed_level], rng):
        shift = LEVELS.index(level) - LEVELS.index(seed_level)
        arc = [shift_intensity(s, shift) for s in t.arc]
        yield Draft(
            level,
            {"intensity": level, "arc": _arc_text(arc)},
            t.topic,
            t.subcategory,
            t.persona,
            arc,
            t.exchanges,
        )


def _vary_persona(catalog: Catalog, t: SeedTemplate, rng: random.Random) -> Iterator[Draft]:
    start = t.arc[0].emotion
    personas = [
        p
        for p in catalog.clients.values()
        if p.id != t.persona and t.topic in p.topics and arc_fits(catalog, p, _emotions(t.arc))
    ]
    # personas whose own arc knows the starting feeling first
    ordered = sorted(_shuffled(personas, rng), key=lambda p: not fits(catalog, p, t.topic, start))
    for persona in ordered:
        yield Draft(
            persona.id,
            {"client_persona": persona.id},
            t.topic,
            t.subcategory,
            persona.id,
            list(t.arc),
            t.exchanges,
        )


def refit_arc(
    catalog: Catalog, arc: tuple[ArcStep, ...], steps: int, rng: random.Random
) -> list[ArcStep]:
    """The arc stretched or compressed to `steps` steps: keep the first and last steps and
    sample between; to grow, bridge the widest gap (a `likely_next` feeling that leads on,
    or the same feeling at an intermediate intensity)."""
    out = list(arc)
    while len(out) > steps:
        # drop the inner step closest to its neighbours (the least informative one)
        inner = range(1, len(out) - 1)
        drop = min(
            inner,
            key=lambda i: (
                out[i - 1].emotion != out[i].emotion or out[i].emotion != out[i + 1].emotion,
                abs(out[i - 1].intensity - out[i + 1].intensity),
            ),
        )
        del out[drop]
    while len(out) < steps:
        gaps = [
            (a.emotion != b.emotion, abs(a.intensity - b.intensity), i)
            for i, (a, b) in enumerate(zip(out, out[1:], strict=False))
        ]
        _, _, i = max(gaps)
        a, b = out[i], out[i + 1]
        bridges = [
            e
            for e in catalog.emotions[a.emotion].likely_next
            if b.emotion in catalog.emotions[e].likely_next and e not in {a.emotion, b.emotion}
        ]
        middle = round((a.intensity + b.intensity) / 2, 2)
        emotion = rng.choice(bridges) if bridges else a.emotion
        out.insert(i + 1, ArcStep(emotion=emotion, intensity=middle))
    return out


def _vary_length(catalog: Catalog, t: SeedTemplate, rng: random.Random) -> Iterator[Draft]:
    classes = [c for c in LENGTH_CLASS_EXCHANGES if c != t.length_class]
    firsts, others = [], []
    for cls in _shuffled(classes, rng) + [t.length_class]:
        lo, hi = LENGTH_CLASS_EXCHANGES[cls]
        counts = _shuffled([n for n in range(lo, hi + 1) if n != t.exchanges], rng)
        if counts and cls != t.length_class:
            firsts.append(counts.pop(0))
        others.extend(counts)
    for n in firsts + others:
        cls = length_class_for(n)
        arc = refit_arc(catalog, t.arc, min(n, max(arc_steps_for(n), 2)), rng)
        yield Draft(
            f"{cls}_{n}",
            {"length_class": cls, "exchanges": str(n), "arc": _arc_text(arc)},
            t.topic,
            t.subcategory,
            t.persona,
            arc,
            n,
            recompose=False,
        )


MAKERS = {
    "topic": _vary_topic,
    "emotion": _vary_emotion,
    "strategy_context": _vary_strategy_context,
    "intensity": _vary_intensity,
    "persona": _vary_persona,
    "length": _vary_length,
}


def _as_identifier(text: str) -> str:
    cleaned = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")
    return cleaned if cleaned[:1].isalpha() else f"s_{cleaned}"


def variation_id(parent: str, root: str, axis: str, value: str, number: int) -> str:
    """`<parent>__<axis>_<value>_<n>`; when that exceeds 64 characters, the parent is replaced
    by its root seed (shortened if need be) and a short hash of the parent's id."""
    suffix = f"__{ID_TAGS[axis]}_{value}_{number}"
    parent, root = _as_identifier(parent), _as_identifier(root)  # record ids may hold '-'
    if len(parent) + len(suffix) <= MAX_ID:
        return f"{parent}{suffix}"
    digest = hashlib.sha256(parent.encode()).hexdigest()[:6]
    keep = MAX_ID - len(suffix) - len(digest) - 1
    return f"{root[:keep].rstrip('_')}_{digest}{suffix}"


def check_axis(axis: str) -> Axis:
    if axis not in AXES:
        raise EmosimError(f"--axis: unknown axis {axis!r} (expected one of: {', '.join(AXES)})")
    return axis  # type: ignore[return-value]


def vary(catalog: Catalog, template: SeedTemplate, axis: str, n: int, seed: int) -> list[Scenario]:
    """Up to `n` distinct variations of the seed along `axis`; the same seed -> same output."""
    axis = check_axis(axis)
    if n < 1:
        raise EmosimError(f"--n: must be at least 1 (got {n})")
    rng = rng_for("vary", template.id, axis, seed)
    seen = {
        Draft(
            "",
            {},
            template.topic,
            template.subcategory,
            template.persona,
            list(template.arc),
            template.exchanges,
        ).key()
    }
    out: list[Scenario] = []
    for draft in MAKERS[axis](catalog, template, rng):
        if draft.key() in seen:
            continue
        seen.add(draft.key())
        out.append(_scenario(catalog, template, axis, draft, len(out) + 1, seed, rng))
        if len(out) == n:
            break
    return out


def _scenario(
    catalog: Catalog,
    t: SeedTemplate,
    axis: str,
    d: Draft,
    number: int,
    seed: int,
    rng: random.Random,
) -> Scenario:
    situation = (
        compose_situation(catalog, d.persona, d.topic, d.subcategory, d.arc[0], rng)
        if d.recompose
        else t.situation
    )
    persona = catalog.clients[d.persona]
    topic = catalog.topics[d.topic]
    emotion = catalog.emotions[d.arc[0].emotion]
    title = (
        f"{topic.name}: {persona.name.split()[0]}, {emotion.name.lower()} at "
        f"{level_of(d.arc[0])} intensity ({axis.replace('_', ' ')} variation of {t.id})"
    )
    return Scenario(
        id=variation_id(t.id, t.root, axis, d.value, number),
        title=title,
        topic=d.topic,
        subcategory=d.subcategory,
        client_persona=d.persona,
        advisor_persona=catalog.advisor.id,
        length_class=length_class_for(d.exchanges),
        exchanges=d.exchanges,
        phase=t.phase,
        situation=situation,
        arc=d.arc,
        anti_pattern_rate=t.anti_pattern_rate,
        max_redrafts=t.max_redrafts,
        seed=seed + number,
        lineage=LineageInfo(seed_id=t.root, parent_id=t.id, axis=axis, changed=dict(d.changed)),
    )


# --- writing --------------------------------------------------------------------------------


def scenario_yaml(scenario: Scenario, header: str = "") -> str:
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["lineage"] = {k: v for k, v in data["lineage"].items() if v not in (None, {}, [])}
    lines = [f"# {line}" for line in header.splitlines()]
    return "\n".join([*lines, dump_yaml(data)]) if lines else dump_yaml(data)


def write_scenarios(
    catalog: Catalog, scenarios: list[Scenario], out: Path, header: str = ""
) -> list[Path]:
    """Write each scenario as `<out>/<id>.yaml`: all are first written to a staging folder and
    validated with `Catalog.load_scenario`; only when every one is valid are they moved in, so
    a failure leaves `out` as it was."""
    ids = [s.id for s in scenarios]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise EmosimError(f"duplicate scenario ids: {', '.join(duplicates)}")
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".emosim-staging-", dir=out))
    try:
        staged = []
        for scenario in scenarios:
            path = staging / f"{scenario.id}.yaml"
            path.write_text(scenario_yaml(scenario, header), encoding="utf-8")
            catalog.load_scenario(path)
            staged.append(path)
        written = []
        for path in staged:
            target = out / path.name
            os.replace(path, target)
            written.append(target)
        return written
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(staging)
