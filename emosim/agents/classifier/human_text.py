"""The emotion observer's scores on human-labelled text, measured when its model is trained and
stored in the model's metadata, so that `emosim report` can show them next to (and apart
from) the agreement on simulated text without re-running the evaluations.

Two measurements, both on rows the model did not train on: GoEmotions' dev split at the
family level (the observer's lexicon weight was chosen on it, so it is a development figure,
not a test figure) and the shipped ESConv sample (dialog level, the seeker's dominant family
against `emotion_type`). Each is the same computation as the `emosim eval emotions` command
stored beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from emosim.paths import shipped_data

from .esconv import read_dialogs
from .evaluate import evaluate_esconv, evaluate_goemotions
from .goemotions import read_examples
from .mappings import GOEMOTIONS_LABELS, EmotionMappings
from .observer import ClassifierEmotionObserver
from .provenance import MODEL_PLACEHOLDER, HumanTextScore

DEV_FILE = "dev.tsv"
ESCONV_SAMPLE = "train_sample.json"


def _seen(observer: ClassifierEmotionObserver, name: str) -> bool:
    return any(s.name == name for s in observer.model.meta.sources)


def measure_human_text(
    observer: ClassifierEmotionObserver,
    mappings: EmotionMappings,
    *,
    goemotions_dir: Path,
    esconv_file: Path | None = None,
    model_file: str = MODEL_PLACEHOLDER,
    shown: Callable[[Path], str] = str,
) -> list[HumanTextScore]:
    """The stored figures (a file that is not there is left out, not guessed)."""
    scores: list[HumanTextScore] = []
    dev = goemotions_dir / DEV_FILE
    if dev.is_file():
        result = evaluate_goemotions(
            observer,
            read_examples(dev, len(GOEMOTIONS_LABELS)),
            level="family",
            mappings=mappings,
            ekman={},
            file=dev,
        )
        scores.append(
            HumanTextScore(
                dataset="goemotions",
                split=f"{DEV_FILE} (not trained on; the lexicon weight was chosen on it)",
                level="family",
                n=result.n,
                accuracy=result.accuracy,
                macro_f1=result.macro_f1,
                baseline_accuracy=result.extra.get("majority_baseline_accuracy"),
                command=f"emosim eval emotions --goemotions {shown(dev)} --level family "
                f"--model {model_file}",
            )
        )
    esconv = esconv_file or shipped_data("esconv_sample") / ESCONV_SAMPLE
    if esconv.is_file():
        dialogs, _ = read_dialogs(esconv)
        result = evaluate_esconv(observer, dialogs, level="family", mappings=mappings, file=esconv)
        seen = " (ESConv was in the training data)" if _seen(observer, "esconv") else ""
        scores.append(
            HumanTextScore(
                dataset="esconv",
                split=f"{esconv.name}, seeker's dominant emotion per dialog{seen}",
                level="family",
                n=result.n,
                accuracy=result.accuracy,
                macro_f1=result.macro_f1,
                baseline_accuracy=result.extra.get("majority_baseline_accuracy"),
                command=f"emosim eval emotions --esconv {shown(esconv)} --model {model_file}",
            )
        )
    return scores
