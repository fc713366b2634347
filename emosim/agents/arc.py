"""The arc controller: moves the client's true state along its arc by how well Elena's
reply fit it. Not an LLM and not an observer: it is the simulation's ground truth, so it may
read the generator's own labels (which strategies were used, which anti-pattern was injected).
"""

from __future__ import annotations

from dataclasses import dataclass

from emosim.catalog import Catalog
from emosim.schemas import ArcStep, EmotionalState, intensity_level

from .messages import Movement
from .scripted.text import rng_for

VERSION = "arc-1"


@dataclass(frozen=True)
class ArcUpdate:
    movement: Movement
    progress: float
    state: EmotionalState
    reason: str


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
        emotion = self.catalog.emotion(emotion_id)
        intensity = round(min(1.0, max(0.0, intensity)), 2)
        return EmotionalState(
            emotion=emotion.id,
            family=emotion.family,
            intensity=intensity,
            intensity_level=intensity_level(intensity),
            valence=emotion.valence,
            arousal=emotion.arousal,
        )

    def initial(self, seed: object) -> tuple[float, EmotionalState]:
        return 0.0, self.state_at(0.0, jitter_seed=(seed, "arc", 0))

    def update(
        self,
        progress: float,
        current: EmotionalState,
        strategies_used: list[str],
        anti_pattern: str | None,
        seed: object,
    ) -> ArcUpdate:
        emotion = self.catalog.emotion(current.emotion)
        harmful = set(emotion.harmful_strategies)
        helpful = set(emotion.helpful_strategies)
        used = set(strategies_used)
        if anti_pattern or used & harmful:
            what = anti_pattern or ", ".join(sorted(used & harmful))
            new_progress = max(0.0, progress - self.step / 2)
            state = self.state_at(new_progress)
            if state.emotion == current.emotion:
                state = self.make_state(current.emotion, current.intensity + 0.15)
            return ArcUpdate("regressed", new_progress, state, f"harmful for {emotion.id}: {what}")
        if used & helpful:
            new_progress = min(len(self.arc) - 1, progress + self.step)
            state = self.state_at(new_progress, jitter_seed=(seed, "arc", new_progress))
            why = ", ".join(sorted(used & helpful))
            return ArcUpdate("advanced", new_progress, state, f"helpful for {emotion.id}: {why}")
        return ArcUpdate(
            "stalled", progress, current, f"nothing in {sorted(used)} helps {emotion.id}"
        )

    def completed(self, progress: float) -> bool:
        return round(progress) >= len(self.arc) - 1
