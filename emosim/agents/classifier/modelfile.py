"""The observers' model file: an .npz of named arrays plus a `meta.json`, no pickle.

Zip entries carry a fixed timestamp, so the same data and code give the same bytes (the
determinism tests compare files), and the file is written atomically. Shared by the emotion
and strategy models, which differ only in their arrays and their pydantic meta.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ValidationError

from emosim.errors import DataError
from emosim.files import atomic_writer

_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

Meta = TypeVar("Meta", bound=BaseModel)


def write_model_file(path: Path, meta: BaseModel, arrays: Mapping[str, NDArray]) -> None:
    """`meta` as meta.json, then each array as `<name>.npy`, in the mapping's order."""
    with (
        atomic_writer(path, "wb") as handle,
        zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        info = zipfile.ZipInfo("meta.json", date_time=_FIXED_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, meta.model_dump_json(indent=1).encode())
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as entry:
                np.lib.format.write_array(entry, array, allow_pickle=False)


def read_model_meta_as(path: Path, model: type[Meta], kind: str) -> Meta:
    """Only the metadata (cheap: used to decide whether to rebuild). `kind` names the model
    in errors ("classifier model", "strategy model")."""
    try:
        with zipfile.ZipFile(path) as archive:
            raw = archive.read("meta.json")
    except FileNotFoundError:
        raise DataError([f"{path}: model file not found"]) from None
    except (zipfile.BadZipFile, KeyError, IsADirectoryError) as exc:
        raise DataError([f"{path}: not an emosim {kind} ({exc})"]) from None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise DataError(
            [f"{path}: meta.json: {field}: {first['msg']} (not a {kind} of this emosim version)"]
        ) from None


def read_model_arrays(path: Path, names: Iterable[str]) -> dict[str, NDArray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in names}
    except (KeyError, ValueError, OSError) as exc:
        raise DataError([f"{path}: damaged model file ({exc})"]) from None
