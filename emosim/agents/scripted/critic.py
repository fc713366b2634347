"""The scripted critic: checks a draft's words against Elena's persona file and the taxonomy.

It reads the draft text and the observers' reading of the client, never the generator's
own labels, so its recall on injected anti-patterns is a real measurement.
"""

from __future__ import annotations

import re
from collections import defaultdict

from emosim.catalog import Catalog
from emosim.schemas import CriticFinding, CriticScores, CriticVerdict

from ..messages import CriticInput
from .text import Lexicon, negated, split_sentences, word_count

VERSION = "rules-1"

# Words that show a jargon term is being explained right where it is used.
_EXPLAINED = re.compile(
    r"\b(is|are|means|meaning|basically|which is|that is|in plain|think of|in other words|"
    r"refers to|simply|just a|a way to|the idea)\b|[—:(]",
    re.IGNORECASE,
)
_SEVERITY_PENALTY = {"info": 0.0, "minor": 0.1, "major": 0.35, "blocker": 0.6}


class RuleCritic:
    name = f"scripted-critic/{VERSION}"

    def __init__(self, catalog: Catalog):
        advisor = catalog.advisor
        self.catalog = catalog
        self.advisor = advisor
        self.forbidden = Lexicon({"forbidden_phrase": advisor.forbidden_phrases})
        self.patterns = [
            (p.id, re.compile(p.pattern, re.IGNORECASE), p.reason)
            for p in advisor.forbidden_patterns
        ]
        self.boundaries = [
            (b.id, [re.compile(p, re.IGNORECASE) for p in b.patterns], b.rule)
            for b in advisor.compliance_boundaries
        ]
        self.anti = Lexicon({a.id: a.cues for a in catalog.strategies_file.anti_patterns})
        # Only the persona's curated list: topic key terms include everyday words ("will",
        # "bond", "premium") that would flag ordinary sentences.
        self.jargon = Lexicon({term: [term] for term in advisor.jargon})
        validating = {"empathic_validation", "reflection_of_feelings", "normalizing"}
        self.validation = Lexicon(
            {s.id: s.cues for s in catalog.strategies_file.strategies if s.id in validating}
        )
        self.validation_functions = Lexicon(
            {
                f.id: [c for c in f.cues if c != "?"]
                for f in catalog.functions_file.functions
                if f.id in {"acknowledge_emotion", "validate", "normalize"}
            }
        )

    def review(self, request: CriticInput) -> CriticVerdict:
        text = request.draft
        findings: list[CriticFinding] = []
        findings += self._voice(text)
        findings += self._compliance(text)
        findings += self._anti_patterns(text)
        findings += self._jargon(text)
        findings += self._validation(text, request)
        findings += self._length(text)
        return self._verdict(findings)

    # --- checks ---------------------------------------------------------------------------

    def _voice(self, text: str) -> list[CriticFinding]:
        out = []
        for hit in self.forbidden.find(text):
            out.append(
                CriticFinding(
                    code="forbidden_phrase",
                    severity="major",
                    evidence=hit.text,
                    message=f"Elena never says {hit.text!r}.",
                )
            )
        for pid, regex, reason in self.patterns:
            m = regex.search(text)
            if m:
                out.append(
                    CriticFinding(
                        code="forbidden_pattern",
                        severity="major",
                        evidence=m.group(0),
                        message=f"{pid}: {reason}",
                    )
                )
        return out

    def _compliance(self, text: str) -> list[CriticFinding]:
        out = []
        for bid, regexes, rule in self.boundaries:
            for regex in regexes:
                m = regex.search(text)
                if m:
                    out.append(
                        CriticFinding(
                            code="compliance",
                            severity="blocker",
                            evidence=m.group(0),
                            message=f"{bid}: {rule}",
                        )
                    )
                    break
        return out

    def _anti_patterns(self, text: str) -> list[CriticFinding]:
        weight: dict[str, float] = defaultdict(float)
        evidence: dict[str, list[str]] = defaultdict(list)
        for hit in self.anti.find(text):
            if negated(text, hit.start):
                continue
            weight[hit.label] += 1.0 if hit.words > 1 else 0.5
            evidence[hit.label].append(hit.text)
        out = []
        for aid, w in sorted(weight.items()):
            if w >= 1.0:
                name = self.catalog.anti_patterns[aid].name
                out.append(
                    CriticFinding(
                        code=aid,
                        severity="major",
                        evidence=", ".join(evidence[aid]),
                        message=f"Reads as {name.lower()}.",
                    )
                )
        return out

    def _jargon(self, text: str) -> list[CriticFinding]:
        out = []
        seen: set[str] = set()
        spans = split_sentences(text)
        for hit in self.jargon.find(text):
            if hit.label in seen:
                continue
            seen.add(hit.label)
            for i, (start, end, sentence) in enumerate(spans):
                if start <= hit.start < end:
                    after = sentence[hit.end - start :]
                    following = spans[i + 1][2] if i + 1 < len(spans) else ""
                    if not (_EXPLAINED.search(after) or _EXPLAINED.search(following[:60])):
                        out.append(
                            CriticFinding(
                                code="unexplained_jargon",
                                severity="major",
                                evidence=hit.text,
                                message=f"{hit.text!r} is used without a plain explanation.",
                            )
                        )
                    break
        return out

    def _validation(self, text: str, request: CriticInput) -> list[CriticFinding]:
        observed = request.observed
        emotion = self.catalog.emotions.get(observed.primary)
        distressed = (
            observed.intensity_level == "high" and emotion is not None and emotion.valence < 0
        )
        if not distressed:
            return []
        if self.validation.find(text) or self.validation_functions.find(text):
            return []
        return [
            CriticFinding(
                code="missing_validation",
                severity="major",
                message=f"The client reads as highly {emotion.adjective}; the reply never "
                "acknowledges or validates that feeling.",
            )
        ]

    def _length(self, text: str) -> list[CriticFinding]:
        words = word_count(text)
        sentences = len(split_sentences(text))
        out = []
        if words > self.advisor.max_words or sentences > self.advisor.max_sentences:
            out.append(
                CriticFinding(
                    code="too_long",
                    severity="minor",
                    message=f"{words} words in {sentences} sentences; keep replies within "
                    f"{self.advisor.max_words} words and {self.advisor.max_sentences} sentences.",
                )
            )
        if words < 12:
            out.append(
                CriticFinding(
                    code="too_short",
                    severity="minor",
                    message=f"Only {words} words: too curt to be warm.",
                )
            )
        return out

    # --- verdict --------------------------------------------------------------------------

    def _verdict(self, findings: list[CriticFinding]) -> CriticVerdict:
        def score(codes: set[str]) -> float:
            penalty = sum(_SEVERITY_PENALTY[f.severity] for f in findings if f.code in codes)
            return round(max(0.0, 1.0 - penalty), 2)

        anti = set(self.catalog.anti_patterns)
        scores = CriticScores(
            voice=score({"forbidden_phrase", "forbidden_pattern"} | anti),
            empathy=score(
                {
                    "missing_validation",
                    "minimizing",
                    "dismissal",
                    "judgment_blame",
                    "toxic_positivity",
                }
            ),
            compliance=score({"compliance", "false_guarantee", "specific_security"}),
            clarity=score({"unexplained_jargon", "jargon_dump", "too_long", "too_short"}),
            overall=0.0,
        )
        scores.overall = round(
            (scores.voice + scores.empathy + scores.compliance + scores.clarity) / 4, 2
        )
        accepted = not any(f.severity in {"major", "blocker"} for f in findings)
        return CriticVerdict(accepted=accepted, scores=scores, findings=findings, critic=self.name)
