"""Read a text file line by line, tolerating files that mix encodings.

Each line is decoded on its own: UTF-8 (a BOM is dropped), else Windows-1252, which is what
exports from spreadsheets and older chat tools write. A line that needed the fallback is
reported as a warning naming it, so nothing is silently garbled or dropped."""

from __future__ import annotations

from pathlib import Path

from emosim.errors import EmosimError

from .raw import Problem


def read_lines(path: Path) -> tuple[list[str], list[Problem]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EmosimError(f"{path}: cannot read the file ({exc.strerror})") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:4096]:
        raise EmosimError(
            f"{path}: line 1: binary data (NUL bytes); expected a text file (UTF-16 is not supported)"
        )
    lines: list[str] = []
    problems: list[Problem] = []
    for number, raw in enumerate(data.splitlines(keepends=True), start=1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            lines.append(raw.decode("cp1252", errors="replace"))
            problems.append(
                Problem(
                    f"{path}:{number}",
                    f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                    "decoded as Windows-1252",
                    fatal=False,
                )
            )
    return lines, problems
