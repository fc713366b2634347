"""The arc controller: moves the client's true state along its arc by what Elena's sent reply
actually did. Not an LLM and not an observer: it is the simulation's ground truth.

It reads the strategies the strategy observer found in the sent words (not the advisor's
plan), the critic's findings on the sent reply, and the reply's reading (did it take up the
client's question, use their figures, leave jargon unexplained). A reply that hurts regresses
the arc; one that misses stalls it; a client who meets setback after setback leaves.
"""

from __future__ import annotations

from dataclasses import dataclass

from emosim.catalog import Catalog
from emosim.schemas import ArcStep, EmotionalState, intensity_level

from .messages import Movement
from .reading import ReplyReading
from .scripted.text import rng_for

VERSION = "arc-2"
# how many replies in a row may miss (stall or regress) before the client gives up
PATIENCE = 4
_LOW_LITERACY = {"none", "low", "basic"}


@dataclass(frozen=True)
class ArcUpdate:
    movement: Movement
    progress: float
    state: EmotionalState
    reason: str
    why: str = "helped"  # what the client reacts to: helped, harmful:<id>, unanswered, ...
    setbacks: int = 0  # replies in a row that stalled or regressed
    client_leaves: bool = False


class ArcController:
    def __init__(self, catalog: Catalog, arc: list[ArcStep], exchanges: int):
        self.catalog = catalog
        self.arc = arc
        self.exchanges = exchanges
        # progress per well-handled exchange: reach the arc's end on the final client turn
        self.step = (len(arc) - 1) / max(1, exchanges - 1)

    def state_at(self, progress: float, *, jitter_seed: object = None) -> EmotionalState:
        position = min(len(self.arc) - 1, max(0, round(progress)))
        step = self.arc[position]
        intensity = step.intensity
        if jitter_seed is not None:
            # small, band-preserving variation so that equal steps do not read identically
            jittered = round(intensity + rng_for(jitter_seed).uniform(-0.05, 0.05), 2)
            if intensity_level(jittered) == intensity_level(intensity):
                intensity = min(1.0, max(0.0, jittered))
        return self.make_state(step.emotion, intensity)

    def make_state(self, emotion_id: str, intensity: float) -> EmotionalState:
        return self.catalog.emotional_state(emotion_id, intensity)

    def initial(self, seed: object) -> tuple[float, EmotionalState]:
        return 0.0, self.state_at(0.0, jitter_seed=(seed, "arc", 0))

    def update(
        self,
        progress: float,
        current: EmotionalState,
        strategies_used: list[str],
        anti_pattern: str | None,
        seed: object,
        *,
        reading: ReplyReading | None = None,
        findings: list[str] | None = None,
        literacy: str = "moderate",
        setbacks: int = 0,
        last_why: str | None = None,
    ) -> ArcUpdate:
        """`strategies_used`: what the strategy observer found in the sent reply;
        `anti_pattern`: the generator's marker on the sent draft (ground truth: set only when
        the redraft budget ran out); `findings`: the critic's finding codes on the sent reply."""
        emotion = self.catalog.emotion(current.emotion)
        harmful = set(emotion.harmful_strategies)
        helpful = set(emotion.helpful_strategies)
        used = set(strategies_used)
        anti_ids = set(self.catalog.anti_patterns)
        flagged = sorted(set(findings or []) & anti_ids)
        if anti_pattern or used & harmful or flagged:
            what = anti_pattern or (flagged[0] if flagged else sorted(used & harmful)[0])
            return self._regress(
                progress, current, f"harmful for {emotion.id}: {what}", f"harmful:{what}", setbacks
            )
        if reading is not None and reading.unexplained_terms and literacy in _LOW_LITERACY:
            terms = ", ".join(reading.unexplained_terms)
            return self._stall(
                progress,
                current,
                f"the reply named {terms} without saying what it means",
                "jargon",
                setbacks,
            )
        if reading is not None and reading.answered is False:
            reason = f"the reply did not take up the question {reading.question!r}"
            if last_why == "unanswered":
                return self._regress(
                    progress,
                    current,
                    f"asked again, still unanswered: {reading.question!r}",
                    "unanswered",
                    setbacks,
                )
            return self._stall(progress, current, reason, "unanswered", setbacks)
        content = reading is not None and bool(
            reading.answered or reading.new_figures or reading.client_figures_used
        )
        if used & helpful or content:
            new_progress = min(len(self.arc) - 1, progress + self.step)
            state = self.state_at(new_progress, jitter_seed=(seed, "arc", new_progress))
            why = ", ".join(sorted(used & helpful)) or "it took up what the client said"
            landed = "helped"
            if reading is not None and reading.new_figures:
                landed = "numbers"
            elif reading is not None and reading.answered:
                landed = "answered"
            elif used & {"empathic_validation", "reflection_of_feelings", "normalizing"}:
                landed = "heard"
            return ArcUpdate(
                "advanced", new_progress, state, f"helpful for {emotion.id}: {why}", landed, 0
            )
        return self._stall(
            progress,
            current,
            f"nothing the reply did ({', '.join(sorted(used)) or 'no strategy'}) helps "
            f"{emotion.id}",
            "generic",
            setbacks,
        )

    def _stall(
        self, progress: float, current: EmotionalState, reason: str, why: str, setbacks: int
    ) -> ArcUpdate:
        # a reply that is fine but does not move the client costs no patience; one that
        # misses their question or loses them in jargon does
        count = setbacks if why == "generic" else setbacks + 1
        return ArcUpdate("stalled", progress, current, reason, why, count, count >= PATIENCE)

    def _regress(
        self, progress: float, current: EmotionalState, reason: str, why: str, setbacks: int
    ) -> ArcUpdate:
        new_progress = max(0.0, progress - self.step / 2)
        state = self.state_at(new_progress)
        if state.emotion == current.emotion:
            state = self.make_state(current.emotion, current.intensity + 0.15)
        leaves = setbacks + 1 >= PATIENCE or (setbacks >= 2 and state.intensity >= 0.85)
        return ArcUpdate("regressed", new_progress, state, reason, why, setbacks + 1, leaves)

    def completed(self, progress: float) -> bool:
        return round(progress) >= len(self.arc) - 1
