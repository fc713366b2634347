"""The `classifier` emotion observer: a linear model trained offline on human labels.

The lexicon observer reads text the scripted client wrote from the same cues, so its accuracy
says little about real people's messages. This observer is trained on GoEmotions (Reddit
comments labelled by people) and measured on held-out human labels (`emosim eval emotions`).
See README.md in this folder for the design, the cache and the measured scores.

ATTRIBUTION: the model is trained on GoEmotions, Demszky, Movshovitz-Attias, Ko, Cowen,
Nemade & Ravi (2020), "GoEmotions: A Dataset of Fine-Grained Emotions", ACL 2020, Google
Research, licensed CC BY 4.0. Every model file carries this attribution in its metadata.
The ESConv evaluation uses ESConv, Liu et al. (2021), "Towards Emotional Support Dialog
Systems", ACL 2021, CC BY-NC 4.0 (non-commercial use, attribution required).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .mappings import EmotionMappings, load_mappings, mapping_table_markdown

if TYPE_CHECKING:
    from emosim.catalog import Catalog

    from .observer import ClassifierEmotionObserver, ObserverSettings

__all__ = [
    "EmotionMappings",
    "build_classifier_observer",
    "load_mappings",
    "mapping_table_markdown",
]


def build_classifier_observer(
    catalog: Catalog,
    *,
    model_path: Path | None = None,
    data_dir: Path | None = None,
    lexicon: bool = True,
    settings: ObserverSettings | None = None,
) -> ClassifierEmotionObserver:
    """The observer for a run: loads (first use: builds, ~30 s) the cached model.

    `lexicon=True` fuses the taxonomy's cue phrases in (see observer.py); `model_path`
    defaults to $EMOSIM_CLASSIFIER_MODEL or .cache/classifier/, `data_dir` to
    $EMOSIM_GOEMOTIONS_DIR or data/goemotions (shipped).
    """
    from emosim.files import load_yaml_model

    from ..scripted.observers import LexiconEmotionObserver
    from ..scripted.templates import ObserverMarkers
    from .observer import ClassifierEmotionObserver
    from .store import ensure_model

    markers = load_yaml_model(catalog.file("agents/scripted/observers.yaml"), ObserverMarkers)
    cues = LexiconEmotionObserver(catalog, markers)
    return ClassifierEmotionObserver(
        catalog,
        ensure_model(model_path, data_dir=data_dir),
        load_mappings(catalog),
        intensifiers=cues.intensifiers,
        hedges=cues.hedges,
        lexicon=cues.cues if lexicon else None,
        settings=settings,
    )
