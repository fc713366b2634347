"""Import speed with anonymization: messages per CPU-second of `import --format jsonl-chat` on
ESConv train dialogs written as a chat export, against the same import with `--no-anonymize`
(the baseline, measured in the same run), and the anonymizer alone on the same messages.

CPU time (`time.process_time`), not wall time, so a busy machine does not lower the figure;
the load average is printed beside it. Target: anonymized import at least half the speed it
had before the multicultural name detection (measured 2026-12-07: see README).
Run: `python -m benchmarks anonymize`.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from emosim.anonymize import ConversationAnonymizer
from emosim.catalog import get_catalog
from emosim.importers import BuildOptions, import_file

ESCONV = Path(__file__).resolve().parents[1] / "data" / "esconv_train" / "train.jsonl"
CONVERSATIONS = 150
ROUNDS = 2


def _chat_export(path: Path) -> int:
    """ESConv dialogs as {"id", "messages": [{"role", "content"}]}; returns the message count."""
    lines, messages = [], 0
    for number, line in enumerate(ESCONV.read_text(encoding="utf-8").splitlines()):
        if number >= CONVERSATIONS:
            break
        doc = json.loads(line)
        chat = [
            {"role": "user" if m["speaker"] == "usr" else "assistant", "content": m["text"]}
            for m in doc["dialog"]
        ]
        messages += len(chat)
        lines.append(json.dumps({"id": f"esconv-{number}", "messages": chat}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return messages


def _import_seconds(source: Path, out: Path, anonymize: bool) -> float:
    catalog = get_catalog()
    best = float("inf")
    for round_ in range(ROUNDS):
        options = BuildOptions(format="jsonl-chat", anonymize=anonymize)
        started = time.process_time()
        import_file(source, "jsonl-chat", out / str(round_), catalog, options)
        best = min(best, time.process_time() - started)
    return best


def _anonymizer_seconds(source: Path) -> float:
    convs = []
    for line in source.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        convs.append(
            [
                ("client" if m["role"] == "user" else "advisor", m["content"])
                for m in doc["messages"]
            ]
        )
    anonymizer = ConversationAnonymizer()
    anonymizer.anonymize(convs[0])  # word lists loaded outside the timing
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        for conv in convs:
            anonymizer.anonymize(conv)
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "chats.jsonl"
        messages = _chat_export(source)
        plain = _import_seconds(source, Path(tmp) / "plain", anonymize=False)
        anonymized = _import_seconds(source, Path(tmp) / "anon", anonymize=True)
        alone = _anonymizer_seconds(source)
    table = Table(
        title=f"Import jsonl-chat: {CONVERSATIONS} ESConv dialogs, {messages} messages, best of "
        f"{ROUNDS}, CPU time (load average {os.getloadavg()[0]:.1f})"
    )
    for column in ("what", "CPU s", "messages/s", "ratio"):
        table.add_column(column, justify="left" if column == "what" else "right")
    for label, seconds in (
        ("import --no-anonymize (baseline)", plain),
        ("import (anonymized)", anonymized),
        ("anonymizer alone", alone),
    ):
        table.add_row(
            label, f"{seconds:.2f}", f"{messages / seconds:,.0f}", f"{plain / seconds:.2f}"
        )
    Console().print(table)


if __name__ == "__main__":
    main()
