"""From a label store to training examples for the observers: the resolved human labels.

Which labels train: every emotion (client turn) or strategy (advisor turn) target whose current
label, after the resolution policy (policy.py), was decided by a human stream:
`live_operator` (operators correcting live) or `human_bulk_review` (reviewers, `labels ingest`
of a review file, hand-authored seeds, corpora imported with their annotators' labels such as
ESConv). `model` and `rule` events never train: an observer learning from its own suggestions
(or from rules learned from them) would only confirm itself. A target whose winner is a model
or rule event, that was rejected outright, or whose labels were all retracted is left out.

The text is the turn's text as the store holds it (`labels import`); a strategy example also
carries the preceding client turn as its context. Examples come sorted by conversation and
turn, and their content hash (`sha256`) is what a retrained model records as the store's
training-data hash: the same resolved labels give the same hash and the same model bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Literal

from emosim.catalog import Catalog
from emosim.storage.location import StoreLocation

from .policy import HUMAN_KINDS, ResolutionPolicy
from .resolve import resolve_events
from .store import LabelStore
from .targets import TargetKey

TrainableField = Literal["emotion", "strategy"]
TRAINABLE_FIELDS: tuple[TrainableField, ...] = ("emotion", "strategy")
TRAINING_KINDS: frozenset[str] = HUMAN_KINDS
"""Source kinds whose resolved labels train observers: live_operator, human_bulk_review."""


@dataclass(frozen=True)
class StoreExample:
    """One reviewed label with the words it labels."""

    conversation_id: str
    turn_index: int
    text: str
    label: str
    context: str = ""  # strategy: the preceding client turn
    position: int = 0  # among the conversation's turns of the same speaker (0-based)
    of: int = 1  # how many turns of that speaker the conversation has
    source: str = ""  # kind:name of the event that decided the label
    license: str = ""  # license that event's label carries (e.g. an imported corpus's)


@dataclass
class StoreTrainingSet:
    """The training examples of one field in one store, and why other targets were left out."""

    path: StoreLocation  # a Dsn has the `name` provenance records
    field: TrainableField
    examples: list[StoreExample]
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def sha256(self) -> str:
        """Content hash of the examples (not of the SQLite file, whose bytes vary)."""
        payload = json.dumps(
            {
                "field": self.field,
                "examples": [
                    {k: v for k, v in asdict(e).items() if k != "source"} for e in self.examples
                ],
            },
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    @property
    def licenses(self) -> list[str]:
        return sorted({e.license for e in self.examples if e.license})

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(e.label for e in self.examples).items()))


def training_examples(
    store: LabelStore,
    field_name: TrainableField,
    *,
    policy: ResolutionPolicy | None = None,
    catalog: Catalog | None = None,
) -> StoreTrainingSet:
    """The resolved human labels of `field_name` in `store`, sorted by conversation and turn."""
    infos = store.conversations()
    events = [e for e in store.events() if e.target.field == field_name]
    licenses = {e.event_id: e.source.license for e in events if e.source.license}
    resolutions = resolve_events(events, policy)
    known = None
    if catalog is not None:
        known = catalog.emotions if field_name == "emotion" else catalog.strategies
    out = StoreTrainingSet(store.path, field_name, [])
    for key in sorted(resolutions, key=TargetKey.sort_key):
        resolution = resolutions[key]
        winner = resolution.winner
        if winner is None:
            out.skipped[resolution.status] += 1
            continue
        if winner.kind not in TRAINING_KINDS:
            out.skipped[f"decided by {winner.kind}"] += 1
            continue
        if not isinstance(winner.value, str) or (known is not None and winner.value not in known):
            out.skipped["not in the taxonomy"] += 1
            continue
        info = infos.get(key.conversation_id)
        if info is None or key.turn_index is None or key.turn_index >= len(info.turns):
            out.skipped["turn not in the store"] += 1
            continue
        turn = info.turns[key.turn_index]
        if not turn.text.strip():
            out.skipped["empty text"] += 1
            continue
        context = ""
        if field_name == "strategy" and key.turn_index > 0:
            before = info.turns[key.turn_index - 1]
            context = before.text if before.speaker == "client" else ""
        source = winner.event.source
        same = [i for i, t in enumerate(info.turns) if t.speaker == turn.speaker]
        out.examples.append(
            StoreExample(
                conversation_id=key.conversation_id,
                turn_index=key.turn_index,
                text=turn.text,
                label=winner.value,
                context=context,
                position=same.index(key.turn_index),
                of=len(same),
                source=f"{source.kind}:{source.name}",
                # an accepted label keeps the license of the event it accepts
                license=source.license or licenses.get(winner.event.supersedes or "", ""),
            )
        )
    return out


def read_training_set(
    path: StoreLocation,
    field_name: TrainableField,
    *,
    policy: ResolutionPolicy | None = None,
    catalog: Catalog | None = None,
) -> StoreTrainingSet:
    """`training_examples` of the store at `path` (one clear error when it is not a store)."""
    with LabelStore.open(path) as store:
        return training_examples(store, field_name, policy=policy, catalog=catalog)
