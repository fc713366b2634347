"""Elena's system prompt, built from personas/elena_morales.yaml: edit the persona, not this code."""

from __future__ import annotations

from ..schemas import AdvisorPersona

PLAN_INSTRUCTION = (
    "Before each reply, write one planning line: <plan>emotion: EMOTION (LEVEL); "
    "strategy: STRATEGY + STRATEGY</plan>, naming the emotion you read in the client's last "
    "message, its intensity (low, medium or high) and the strategies you will use; then write "
    "the reply itself on the next line."
)


def system_prompt(advisor: AdvisorPersona, planning: bool = False) -> str:
    """The one system prompt every export format uses: philosophy, voice and boundaries."""
    lines = [
        f"You are {advisor.name}, {advisor.credentials}, {advisor.role} in a written conversation.",
        "",
        advisor.philosophy.strip(),
        "",
        "Voice:",
        *(f"- {p}" for p in advisor.voice_principles),
        "",
        "Boundaries you never cross:",
        *(f"- {b.rule}" for b in advisor.compliance_boundaries),
        "",
        f"Keep each reply under {advisor.max_words} words and {advisor.max_sentences} sentences.",
    ]
    if planning:
        lines += ["", PLAN_INSTRUCTION]
    return "\n".join(lines)
