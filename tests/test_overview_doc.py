"""docs/overview.md, the customer's overview: its sections, a command beside every figure, and
every emosim command it names exists, so the document cannot drift from the tool unnoticed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from emosim.cli import app

REQUIRED_SECTIONS = [
    "The problem",
    "Architecture",
    "The record format and why each part exists",
    "Label history: three streams, and what is valuable about history",
    "Producing the first hundred conversations",
    "Variations and coverage",
    "Human review and ranking: the preference loop",
    "The LoRA recipe and its sources",
    "The emotional layer",
    "A second domain",
    "Honest limits",
]
COMMAND_WORDS = ("emosim", "python", "make", "uptime", "/usr/bin/time", "time")
"""An inline code span starting with one of these is a command a reader can rerun."""

INLINE_CODE = re.compile(r"`[^`]*`")
# Digits that are not measured figures: years, license versions, an arXiv id, the machine's
# core count, link targets and list numbering.
NOT_FIGURES = [
    re.compile(r"\]\([^)]*\)"),
    re.compile(r"<https?://[^>]*>"),
    re.compile(r"\b(?:19|20)\d\d(?:-\d\d-\d\d)?\b"),
    re.compile(r"\bCC[ -]BY(?:-NC)?(?:-SA)? \d\.\d\b"),
    re.compile(r"arXiv:\d+\.\d+"),
    re.compile(r"\b2-core\b"),
]
LIST_MARKER = re.compile(r"^\s*(?:[-*]|\d+\.)\s")


@pytest.fixture(scope="module")
def doc(root: Path) -> str:
    path = root / "docs" / "overview.md"
    assert path.is_file(), "docs/overview.md is missing"
    return path.read_text(encoding="utf-8")


def _blocks(text: str) -> list[tuple[str, list[str]]]:
    """Prose blocks outside code fences as (kind, lines): a paragraph, list item, table or
    quotation, in order. A table or quotation is checked with the paragraph that introduces it."""
    blocks: list[tuple[str, list[str]]] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            blocks.append(("break", []))
            continue
        if fenced or not line.strip():
            blocks.append(("break", []))
            continue
        kind = "table" if line.startswith("|") else "quote" if line.startswith(">") else "text"
        last = blocks[-1] if blocks else ("break", [])
        starts_item = kind == "text" and LIST_MARKER.match(line) is not None
        if last[0] == kind and not starts_item and not line.startswith("#"):
            last[1].append(line)
        else:
            blocks.append((kind, [line]))
    return [b for b in blocks if b[0] != "break"]


def _figures(lines: list[str]) -> list[str]:
    text = " ".join(LIST_MARKER.sub("", line, count=1) for line in lines)
    text = INLINE_CODE.sub(" ", text)
    for pattern in NOT_FIGURES:
        text = pattern.sub(" ", text)
    return re.findall(r"\S*\d\S*", text)


def _commands(lines: list[str]) -> list[str]:
    spans = [s.strip("`").strip() for s in INLINE_CODE.findall(" ".join(lines))]
    return [s for s in spans if s.split(" ", 1)[0] in COMMAND_WORDS and (" " in s or s == "uptime")]


def test_has_every_required_section(doc: str) -> None:
    headings = [line[3:].strip() for line in doc.splitlines() if line.startswith("## ")]
    missing = [s for s in REQUIRED_SECTIONS if s not in headings]
    assert not missing, f"docs/overview.md lacks sections: {missing}"
    assert doc.count("```mermaid") == 1, "the architecture has one diagram"


def test_every_figure_names_its_command(doc: str) -> None:
    blocks = _blocks(doc)
    bare: list[str] = []
    for i, (kind, lines) in enumerate(blocks):
        figures = _figures(lines)
        if not figures:
            continue
        scope = list(lines)
        if kind in ("table", "quote") and i > 0:  # checked with the paragraph introducing it
            scope += blocks[i - 1][1]
        if not _commands(scope):
            bare.append(f"{lines[0][:70]!r}: {figures[:4]}")
    assert not bare, "figures without a command in their paragraph:\n" + "\n".join(bare)


def test_the_figure_check_can_fail() -> None:
    text = "Intro.\n\nWe made 98 conversations in 30 s.\n\nIn 2026, on a 2-core machine.\n"
    flagged = [b for b in _blocks(text) if _figures(b[1]) and not _commands(b[1])]
    assert [b[1][0] for b in flagged] == ["We made 98 conversations in 30 s."]
    ok = "We made 98 conversations (`emosim batch simulations --seeds 1-7`)."
    assert _commands(_blocks(ok)[0][1])


def test_no_issue_numbers_or_internal_notes(doc: str) -> None:
    assert not re.search(r"#\d", doc), "issue numbers such as '#23' do not belong in it"
    for word in ("TODO", "FIXME", "XXX", "helper", "lead engineer", "issue "):
        assert word.lower() not in doc.lower(), f"internal note in docs/overview.md: {word!r}"


def _emosim_commands(doc: str) -> set[tuple[str, ...]]:
    """The words after `emosim` in every command line: code blocks and inline code spans."""
    fence = re.compile(r"```\w*\n(.*?)```", flags=re.S)
    inline = [" ".join(span.split()) for span in INLINE_CODE.findall(fence.sub(" ", doc))]
    chunks = fence.findall(doc) + inline
    found: set[tuple[str, ...]] = set()
    for chunk in chunks:
        for line in chunk.strip("`").splitlines():
            words = line.split("#", 1)[0].replace("<", "").replace(">", "").split()
            if "emosim" in words:
                found.add(tuple(words[words.index("emosim") + 1 :]))
    return found


def _unknown(root_cmd: Any, words: tuple[str, ...]) -> bool:
    """True when the words name a subcommand emosim lacks (options and arguments are not read)."""
    if words[:1] == ("--domain",):
        words = words[2:]
    current = root_cmd
    for word in words:
        subcommands = getattr(current, "commands", None)  # a command group
        if subcommands is None or word.startswith("-"):
            return False
        if word not in subcommands:
            return True
        current = subcommands[word]
    return False


def test_every_emosim_command_it_names_exists(doc: str) -> None:
    root_cmd = typer.main.get_command(app)
    commands = _emosim_commands(doc)
    assert len(commands) >= 20, "the document names the commands that produced its figures"
    unknown = sorted(" ".join(w) for w in commands if _unknown(root_cmd, w))
    assert not unknown, f"commands that emosim does not have: {unknown}"
    assert _unknown(root_cmd, ("labels", "no-such-command"))
    assert not _unknown(root_cmd, ("labels", "import", "RUN"))


def test_readme_links_it_at_the_top(root: Path) -> None:
    top = (root / "README.md").read_text(encoding="utf-8").splitlines()[:20]
    assert any("docs/overview.md" in line for line in top)
