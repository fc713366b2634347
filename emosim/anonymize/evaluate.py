"""Score the anonymizer on a PII answer key (tests/data/pii/*.jsonl, tests/data/names/*.jsonl):
recall and precision per kind, names typed right, names found per origin, negatives (amounts,
places, brands...) kept, and planted values that survive in the output.

    emosim eval anonymization            # or: python -m emosim.anonymize.evaluate FILE...
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .conversation import ConversationAnonymizer
from .kinds import PII_KINDS


@dataclass
class KindScore:
    planted: int = 0
    found: int = 0  # fully covered by replacements of this kind
    predicted: int = 0
    correct: int = 0  # predictions that overlap a planted item of this kind

    @property
    def recall(self) -> float:
        return self.found / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0


@dataclass
class Evaluation:
    kinds: dict[str, KindScore] = field(default_factory=lambda: {k: KindScore() for k in PII_KINDS})
    planted: int = 0
    covered: int = 0  # fully covered by replacements of any kind
    predicted: int = 0
    on_pii: int = 0  # predictions overlapping any planted item
    negatives: int = 0
    negatives_hit: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    # names whose answer key says whose they are (client, advisor, other): placeholder right?
    roles: int = 0
    roles_right: int = 0
    groups: dict[str, list[int]] = field(default_factory=dict)  # origin -> [planted, found]
    kept: dict[str, list[int]] = field(default_factory=dict)  # negative kind -> [seen, kept]
    false_positives: list[str] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.covered / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        return self.on_pii / self.predicted if self.predicted else 1.0


ROLE_PLACEHOLDER = {"client": "CLIENT_NAME", "advisor": "ADVISOR_NAME", "other": "PERSON"}


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def evaluate(path: Path, anonymizer: ConversationAnonymizer | None = None) -> Evaluation:
    anonymizer = anonymizer or ConversationAnonymizer()
    ev = Evaluation()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        conv = json.loads(line)
        result = anonymizer.anonymize([(t["speaker"], t["text"]) for t in conv["turns"]])
        preds = Counter()
        by_turn: dict[int, list] = {}
        for r in result.replacements:
            by_turn.setdefault(r.turn, []).append(r)
            preds[r.kind] += 1
        for item in conv["pii"]:
            kind, span = item["kind"], (item["start"], item["end"])
            ev.planted += 1
            ev.kinds[kind].planted += 1
            reps = [r for r in by_turn.get(item["turn"], []) if _overlaps((r.start, r.end), span)]
            covered = set()
            for r in reps:
                covered.update(range(max(r.start, span[0]), min(r.end, span[1])))
            text = item["value"]
            full = all(
                i in covered or not conv["turns"][item["turn"]]["text"][i].strip()
                for i in range(*span)
            )
            if kind == "name" and "group" in item:
                group = ev.groups.setdefault(item["group"], [0, 0])
                group[0] += 1
                group[1] += int(full)
            if full and kind == "name" and "role" in item:
                ev.roles += 1
                expected = ROLE_PLACEHOLDER[item["role"]]
                ev.roles_right += all(r.placeholder.startswith(f"[{expected}_") for r in reps)
            if full:
                ev.covered += 1
                if any(r.kind == kind for r in reps):
                    ev.kinds[kind].found += 1
                else:
                    ev.misses.append(
                        f"{conv['id']}: {kind} {text!r} found as {[r.kind for r in reps]}"
                    )
            else:
                ev.misses.append(
                    f"{conv['id']}: {kind} {text!r} missed (got {[r.original for r in reps]})"
                )
        for r in result.replacements:
            ev.predicted += 1
            ev.kinds[r.kind].predicted += 1
            hits = [
                p
                for p in conv["pii"]
                if p["turn"] == r.turn and _overlaps((r.start, r.end), (p["start"], p["end"]))
            ]
            if hits:
                ev.on_pii += 1
            if any(p["kind"] == r.kind for p in hits):
                ev.kinds[r.kind].correct += 1
            elif not hits:
                ev.false_positives.append(f"{conv['id']}: {r.kind} {r.original!r}")
        for neg in conv["negatives"]:
            ev.negatives += 1
            seen = ev.kept.setdefault(neg["what"], [0, 0])
            seen[0] += 1
            if any(
                r.turn == neg["turn"] and _overlaps((r.start, r.end), (neg["start"], neg["end"]))
                for r in result.replacements
            ):
                ev.negatives_hit.append(f"{conv['id']}: {neg['what']} {neg['value']!r}")
            else:
                seen[1] += 1
        out = "\n".join(result.texts)
        harmless = {n["value"] for n in conv["negatives"]}  # "Hope" the name vs "Hope this..."
        for item in conv["pii"]:
            if item["value"] in out and item["value"] not in harmless:
                ev.leaked.append(f"{conv['id']}: {item['kind']} {item['value']!r}")
    return ev


def render(ev: Evaluation) -> str:
    lines = [f"{'kind':<12} {'planted':>7} {'recall':>7} {'predicted':>9} {'precision':>9}"]
    for kind, s in ev.kinds.items():
        lines.append(
            f"{kind:<12} {s.planted:>7} {s.recall:>7.3f} {s.predicted:>9} {s.precision:>9.3f}"
        )
    lines.append(
        f"{'overall':<12} {ev.planted:>7} {ev.recall:>7.3f} {ev.predicted:>9} {ev.precision:>9.3f}"
    )
    lines.append(
        f"negatives touched: {len(ev.negatives_hit)}/{ev.negatives}; leaked values: {len(ev.leaked)}"
    )
    if ev.roles:
        lines.append(f"names typed right (client/advisor/other): {ev.roles_right}/{ev.roles}")
    if ev.kept:
        kept = ", ".join(f"{what} {k}/{n}" for what, (n, k) in sorted(ev.kept.items()))
        lines.append(f"kept: {kept}")
    if ev.groups:
        groups = ", ".join(f"{g} {f}/{n}" for g, (n, f) in sorted(ev.groups.items()))
        lines.append(f"names found per origin: {groups}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - manual report
    for arg in sys.argv[1:]:
        result = evaluate(Path(arg))
        print(arg)
        print(render(result))
        for title, items in (
            ("misses", result.misses),
            ("false positives", result.false_positives),
            ("negatives hit", result.negatives_hit),
            ("leaked", result.leaked),
        ):
            for item in items:
                print(f"  {title}: {item}")
