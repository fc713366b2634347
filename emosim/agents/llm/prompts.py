"""Prompt templates: Jinja2 Markdown files a prompt engineer edits, one set per role.

For a role R the folder holds `R.system.md` (stable for every conversation: rules and
taxonomy; cached), optionally `R.context.md` (stable within a conversation or persona;
cached), and `R.turn.md` (what changes every call; never cached). Files starting with `_`
are partials shared through `{% include %}`. A role's prompt hash covers its files and every
partial they include.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta

from emosim.errors import DataError, EmosimError

_BLANKS = re.compile(r"\n{3,}")


class Prompts:
    def __init__(self, folder: Path):
        if not folder.is_dir():
            raise EmosimError(f"prompt templates: no folder {folder}")
        self.folder = folder
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folder),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )
        self._templates: dict[str, jinja2.Template] = {}
        self._rendered: dict[tuple[Any, ...], str] = {}
        self._hashes: dict[str, str] = {}

    def has(self, name: str) -> bool:
        return (self.folder / name).is_file()

    def template(self, name: str) -> jinja2.Template:
        if name not in self._templates:
            try:
                self._templates[name] = self.env.get_template(name)
            except jinja2.TemplateNotFound as exc:
                raise EmosimError(f"prompt templates: missing {self.folder / exc.name}") from None
            except jinja2.TemplateSyntaxError as exc:
                raise DataError(
                    [
                        f"{self.folder / (exc.name or name)}:{exc.lineno}: template error: {exc.message}"
                    ]
                ) from None
        return self._templates[name]

    def render(self, name: str, **context: Any) -> str:
        try:
            text = self.template(name).render(**context)
        except jinja2.UndefinedError as exc:
            raise EmosimError(f"{self.folder / name}: {exc.message}") from None
        lines = [line.rstrip() for line in text.strip().splitlines()]
        return _BLANKS.sub("\n\n", "\n".join(lines))

    def cached(self, name: str, key: tuple[Any, ...], **context: Any) -> str:
        """`render` once per (template, key): stable prompt blocks are shared by every agent
        set of the process (32 simulators in flight render each system prompt once)."""
        full = (name, *key)
        text = self._rendered.get(full)
        if text is None:
            text = self._rendered.setdefault(full, self.render(name, **context))
        return text

    def files(self, role: str) -> list[str]:
        """The role's templates and every partial they include, sorted."""
        names = [f"{role}.{part}.md" for part in ("system", "context", "turn")]
        seen: set[str] = set()
        todo = [n for n in names if self.has(n)]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            source = (self.folder / name).read_text(encoding="utf-8")
            try:
                refs = meta.find_referenced_templates(self.env.parse(source))
            except jinja2.TemplateSyntaxError as exc:
                raise DataError(
                    [f"{self.folder / name}:{exc.lineno}: template error: {exc.message}"]
                ) from None
            todo.extend(r for r in refs if r and r not in seen)
        return sorted(seen)

    def role_hash(self, role: str) -> str:
        if role not in self._hashes:
            digest = hashlib.sha256()
            for name in self.files(role):
                digest.update(name.encode())
                digest.update((self.folder / name).read_bytes())
            self._hashes[role] = digest.hexdigest()
        return self._hashes[role]


_shared: dict[Path, Prompts] = {}


def prompts_for(folder: Path) -> Prompts:
    """The process's one Prompts of a template folder."""
    key = folder.resolve()
    if key not in _shared:
        _shared[key] = Prompts(key)
    return _shared[key]
