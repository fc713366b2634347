"""Where the editable data folders (taxonomies, personas, simulations...) live."""

from __future__ import annotations

import os
from pathlib import Path

_MARKER = Path("taxonomies") / "emotions.yaml"


def project_root() -> Path:
    """The folder holding taxonomies/, personas/, ...

    EMOSIM_HOME wins; otherwise the nearest parent of the working directory that has the data
    folders; otherwise the checkout the package was installed from (editable install).
    """
    env = os.environ.get("EMOSIM_HOME")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / _MARKER).is_file():
            return candidate
    return Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    return project_root() / name


def shipped_data(name: str) -> Path:
    """A human-labelled dataset the project ships in data/ (EMOSIM_DATA_DIR overrides)."""
    base = os.environ.get("EMOSIM_DATA_DIR")
    return (Path(base) if base else project_root() / "data") / name
