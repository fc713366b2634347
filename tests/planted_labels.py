"""Label stores with a planted correction pattern, for the analytics tests and benchmark.

One sub-category S, model label E1, people's label E2 and a phrase are drawn at random from
the taxonomy and a word pool: in S, a share `rate` of the reviewed E1 turns containing the
phrase are corrected to E2 by live operators; the same phrase in other sub-categories is
confirmed; every context has template wording (one sentence in most of its turns); a share
`noise` of all reviewed turns is corrected to a random emotion; some turns get a second,
disagreeing opinion (a bulk reviewer, outranked; or a second operator, later, who wins).
The phrase is written with random case and punctuation, sometimes across a sentence break.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from emosim.catalog import Catalog
from emosim.graphs.finalize import model_label_events
from emosim.labels.phrases import tokens
from emosim.labels.store import LabelStore
from emosim.schemas import ConversationRecord, LabelEvent

# Disjoint pools: template wording, everyday filler (with function words), the planted phrases.
TEMPLATE_WORDS = """account statement budget mortgage pension payment balance savings
salary invoice loan rate premium deposit transfer portfolio fund tax refund bonus credit
card debt rent lease insurance policy claim estate will trust college tuition""".split()
FILLER_WORDS = """morning evening kitchen garden weekend sister brother neighbour coffee
window street office phone email letter table chair sofa dinner lunch holiday summer winter
spring autumn car train bus bike walk dog cat friend cousin i the and of to it my is
was""".split()
PHRASE_WORDS = """tangled maze drowning spiral fog avalanche quicksand labyrinth knot
swamp blur storm flood pile mountain tidal wave jungle whirlwind haze thicket mess heap""".split()


@dataclass
class Planted:
    subcategory: str
    topic: str
    from_label: str
    to_label: str
    phrase: str
    reviewed: int = 0  # reviewed E1 turns in S with the phrase
    corrected: int = 0  # of those, whose final label is E2
    records: list[ConversationRecord] = field(default_factory=list)
    events: list[LabelEvent] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.corrected / self.reviewed


def _sentence(rng: random.Random, words: list[str], n: int = 5) -> str:
    body = " ".join(rng.choice(words) for _ in range(n))
    return body[0].upper() + body[1:] + rng.choice([".", ".", "!", "?"])


def _write_phrase(rng: random.Random, words: list[str]) -> str:
    """The phrase as a person might type it: any case, commas or a sentence break inside."""
    out = words[0].capitalize() if rng.random() < 0.5 else words[0]
    for w in words[1:]:
        sep = rng.choice([" ", " ", " ", ", ", ". ", "... ", "! "])
        out += sep + (w.capitalize() if sep.strip(" ") in (".", "...", "!") else w)
    return out


def build(
    base: ConversationRecord,
    catalog: Catalog,
    seed: int,
    conversations: int = 300,
    contexts: int = 6,
    rate: float = 0.7,
    noise: float = 0.05,
    plant: bool = True,
    phrase_share: float = 0.45,
    whole_context: bool = False,
) -> Planted:
    """`whole_context`: every reviewed E1 turn in S is corrected at `rate`, phrase or not."""
    rng = random.Random(seed)
    subs = [(t.id, s.id) for t in catalog.topics.values() for s in t.subcategories]
    chosen = rng.sample(subs, contexts)
    topic, sub = chosen[0]
    emotions = sorted(catalog.emotions)
    e1, e2 = rng.sample(emotions, 2)
    others = [e for e in emotions if e not in (e1, e2)]
    usual = rng.sample(others, 4)  # what else the model says
    phrase_words: list[str] = []
    for word in rng.sample(PHRASE_WORDS, rng.choice([2, 3])):
        if phrase_words and rng.random() < 0.4:  # e.g. "fog of the maze"
            phrase_words += rng.choice([["of"], ["the"], ["and", "the"], ["of", "all"]])
        phrase_words.append(word)
    planted = Planted(sub, topic, e1, e2, " ".join(phrase_words))
    templates = {
        s: [_sentence(rng, TEMPLATE_WORDS, 6) for _ in range(6)] for _, s in chosen
    }  # the first one is the context's signature sentence, in most of its turns
    start = datetime(2026, 3, 1, tzinfo=UTC)
    doc0 = json.loads(base.model_dump_json())
    clock = 0

    def event(cid: str, turn: int, action: str, value: str | None, kind: str, name: str, sup: str):
        nonlocal clock
        clock += 1
        return LabelEvent.model_validate(
            {
                "event_id": f"{cid}:t{turn}:emotion:{kind}:{clock}",
                "created_at": (start + timedelta(seconds=clock)).isoformat(),
                "target": {"conversation_id": cid, "turn_index": turn, "field": "emotion"},
                "value": value,
                "source": {"kind": kind, "name": name},
                "action": action,
                "supersedes": sup,
            }
        )

    for c in range(conversations):
        t_id, s_id = chosen[c % contexts]
        cid = f"planted-{seed}-{c:04d}"
        doc = json.loads(json.dumps(doc0))
        doc["id"] = cid
        doc["scenario"]["topic"], doc["scenario"]["subcategory"] = t_id, s_id
        said: dict[int, tuple[str, bool]] = {}
        for turn in doc["turns"]:
            if turn["speaker"] != "client":
                continue
            label = e1 if rng.random() < 0.5 else rng.choice(usual)
            parts = [_sentence(rng, FILLER_WORDS)]
            parts.insert(0, templates[s_id][0] if rng.random() < 0.8 else "")
            parts.append(rng.choice(templates[s_id][1:]))
            has = plant and rng.random() < (phrase_share if s_id == sub else 0.2)
            if has:
                parts.insert(rng.randrange(len(parts) + 1), _write_phrase(rng, phrase_words) + ".")
            turn["text"] = " ".join(p for p in parts if p)
            ann = turn["annotation"]
            ann.update(primary=label, family=catalog.emotion(label).family, secondary=None, cues=[])
            said[turn["index"]] = (label, has)
        record = ConversationRecord.model_validate({**doc, "label_events": []})
        record.label_events = model_label_events(
            cid, record.turns, record.created_at, "scripted-sentence/lexicon-1"
        )
        planted.records.append(record)
        for index, (label, has) in said.items():
            assert has == (" ".join(phrase_words) in " ".join(tokens(record.turns[index].text)))
            if rng.random() < 0.15:
                continue  # nobody looked
            model = f"{cid}:t{index}:emotion:model"
            in_pattern = plant and s_id == sub and label == e1 and (has or whole_context)
            if in_pattern and rng.random() < rate:
                final = e2
            elif rng.random() < noise:
                final = rng.choice([e for e in emotions if e != label])
            else:
                final = label
            op = rng.choice(["op_ana", "op_ben", "op_cai"])
            planted.events.append(
                event(cid, index, "accept", None, "live_operator", op, model)
                if final == label
                else event(cid, index, "correct", final, "live_operator", op, model)
            )
            roll = rng.random()
            if roll < 0.08:  # a bulk reviewer disagrees; operators outrank bulk review
                other = rng.choice([e for e in emotions if e != final])
                planted.events.append(
                    event(cid, index, "correct", other, "human_bulk_review", "rev_dee", model)
                )
            elif roll < 0.11:  # a second operator, later, disagrees and wins (latest)
                final = rng.choice([e for e in emotions if e != final])
                planted.events.append(
                    event(cid, index, "correct", final, "live_operator", "op_dan", model)
                )
            if in_pattern:
                planted.reviewed += 1
                planted.corrected += final == e2
    return planted


def write_store(planted: Planted, path: Path, catalog: Catalog) -> Path:
    with LabelStore.open(path, create=True) as db:
        db.import_records([(f"planted:{i}", r) for i, r in enumerate(planted.records)], catalog)
        db.append([(f"operators:{i}", e) for i, e in enumerate(planted.events)], catalog)
    return path
