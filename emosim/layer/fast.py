"""Single-conversation speed for the chat-time layer: the same numbers, less overhead.

Per call the layer featurises a handful of short texts. scikit-learn's `TfidfVectorizer.
transform` spends most of that time validating its input, and a sparse row times a C-ordered
`coef.T` copies the whole weight matrix first. `FastTfidf` does the transform directly
(analyzer -> counts -> sublinear tf x idf -> L2 norm; equal to scikit-learn's, tested), and
`speed_up` swaps it into loaded models and lays their weights out column-major, so
`x @ coef.T` reads them in place. Only the layer's own model objects are changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer


class FastTfidf:
    """`transform` of a fitted sublinear-tf, L2-normed TfidfVectorizer, without validation."""

    def __init__(self, fitted: TfidfVectorizer):
        if not fitted.sublinear_tf or fitted.norm != "l2" or not fitted.use_idf:
            raise ValueError("FastTfidf reproduces sublinear_tf + idf + l2 vectorizers only")
        self.fitted = fitted
        self.analyze = fitted.build_analyzer()
        self.vocabulary_ = fitted.vocabulary_
        self.idf_ = np.asarray(fitted.idf_, dtype=np.float64)
        self.width = len(self.vocabulary_)

    def transform(self, texts: Iterable[str]) -> sparse.csr_matrix:
        indptr, indices, data = [0], [], []
        get = self.vocabulary_.get
        for text in texts:
            found = [i for i in map(get, self.analyze(text)) if i is not None]
            columns, counts = np.unique(np.array(found, dtype=np.int64), return_counts=True)
            values = (1.0 + np.log(counts)) * self.idf_[columns]
            norm = float(np.sqrt(values @ values)) or 1.0
            indices.append(columns)
            data.append(values / norm)
            indptr.append(indptr[-1] + len(columns))
        return sparse.csr_matrix(
            (
                np.concatenate(data).astype(np.float32) if data else np.zeros(0, np.float32),
                np.concatenate(indices).astype(np.int32) if indices else np.zeros(0, np.int32),
                indptr,
            ),
            shape=(len(indptr) - 1, self.width),
        )


def char_variant_scores(
    char: FastTfidf, text: str, spans: list[tuple[int, int]], weights: np.ndarray
) -> tuple[float, np.ndarray]:
    """`char`'s row (a char_wb vectorizer) for `text`, and for `text` with each span cut out,
    times `weights`, by count arithmetic: char_wb n-grams live inside whitespace tokens, so a cut changes only
    the counts of the token it falls in, and the score and the L2 norm are updated for those
    n-grams alone (equal to transforming each variant, tested)."""
    get, analyze, idf = char.vocabulary_.get, char.analyze, char.idf_
    lowered = text.lower() if char.fitted.lowercase else text
    base: dict[int, int] = {}
    for i in (i for i in map(get, analyze(lowered)) if i is not None):
        base[i] = base.get(i, 0) + 1

    def value(column: int, count: int) -> float:
        return (1.0 + np.log(count)) * idf[column] if count > 0 else 0.0

    values = {c: value(c, n) for c, n in base.items()}
    total = sum(v * weights[c] for c, v in values.items())
    square = sum(v * v for v in values.values())
    tokens = [(m.start(), m.end()) for m in re.finditer(r"\S+", lowered)]
    out = np.zeros(len(spans))
    for k, (start, end) in enumerate(spans):
        delta: dict[int, int] = {}
        for t_start, t_end in tokens:
            if t_start <= start and end <= t_end:
                cut = lowered[t_start:start] + lowered[end:t_end]
                for i in (i for i in map(get, analyze(lowered[t_start:t_end])) if i is not None):
                    delta[i] = delta.get(i, 0) - 1
                for i in (i for i in map(get, analyze(cut) if cut else ()) if i is not None):
                    delta[i] = delta.get(i, 0) + 1
                break
        score, norm = total, square
        for column, change in delta.items():
            old = values.get(column, 0.0)
            new = value(column, base.get(column, 0) + change)
            score += (new - old) * weights[column]
            norm += new * new - old * old
        out[k] = score / np.sqrt(norm) if norm > 1e-12 else 0.0
    return (total / np.sqrt(square) if square > 1e-12 else 0.0), out


def _fast(vectorizer):  # noqa: ANN001, ANN202
    return vectorizer if isinstance(vectorizer, FastTfidf) else FastTfidf(vectorizer)


def speed_up(emotion_model, strategy_model, next_model) -> None:  # noqa: ANN001
    """Swap FastTfidf and column-major weights into the three loaded models (in place)."""
    emotion_model.word = _fast(emotion_model.word)
    emotion_model.char = _fast(emotion_model.char)
    emotion_model.coef = np.asfortranarray(emotion_model.coef)
    for model in (strategy_model, next_model):
        model.vectorizers = {k: _fast(v) for k, v in model.vectorizers.items()}
        model.coef = np.asfortranarray(model.coef)


EVIDENCE_CANDIDATES = 12
"""Words the layer occludes per reading (the observer occludes up to 120)."""


def _preselected_evidence(observer, text: str, label: int, emotion: str) -> list:  # noqa: ANN001
    """The observer's occlusion evidence, computed only for the words whose own n-grams weigh
    most for `label` (word unigram + mean character n-gram weight): occluding 12 words instead
    of every word keeps one call's cost flat in the message length. Same spans when the top
    words are among the candidates, which they are by construction unless n-gram context
    (bigrams) carries the label."""
    from emosim.agents.classifier.observer import _WORD
    from emosim.schemas import TextCue

    if observer.settings.evidence_words == 0:
        return []
    words = list(_WORD.finditer(text))
    if not words:
        return []
    model = observer.model
    if len(words) > EVIDENCE_CANDIDATES:
        word_vocab, char = model.word.vocabulary_, model.char
        char_vocab, char_analyze = char.vocabulary_, char.analyze
        word_width = len(word_vocab)
        coef = model.coef[label]

        def weight(token: str) -> float:
            w = word_vocab.get(token.lower())
            own = float(coef[w]) if w is not None else 0.0
            grams = [char_vocab[g] for g in char_analyze(token) if g in char_vocab]
            return own + (float(coef[word_width + np.array(grams)].mean()) if grams else 0.0)

        ranked = sorted(range(len(words)), key=lambda i: -weight(words[i].group(0)))
        words = [words[i] for i in sorted(ranked[:EVIDENCE_CANDIDATES])]
    variants = [text[: m.start()] + text[m.end() :] for m in words]
    coef = np.asarray(model.coef[label], dtype=np.float64)
    width = len(model.word.vocabulary_)
    scores = model.word.transform([text, *variants]) @ coef[:width]
    if isinstance(model.char, FastTfidf) and model.char.fitted.analyzer == "char_wb":
        spans = [(m.start(), m.end()) for m in words]
        full, cut = char_variant_scores(model.char, text, spans, coef[width:])
        scores = scores + np.concatenate([[full], cut])
    else:
        scores = scores + model.char.transform([text, *variants]) @ coef[width:]
    drops = scores[0] - scores[1:]
    order = np.argsort(-drops, kind="stable")
    top = drops[order[0]]
    if top <= 0:
        return []
    chosen = [i for i in order[: observer.settings.evidence_words] if drops[i] >= 0.25 * top]
    return [
        TextCue(text=words[i].group(0), start=words[i].start(), end=words[i].end(), signals=emotion)
        for i in sorted(chosen)
    ]


def speed_up_evidence(observer) -> None:  # noqa: ANN001
    """Occlude at most EVIDENCE_CANDIDATES words in this observer instance's evidence."""
    observer._evidence = lambda text, label, emotion: _preselected_evidence(
        observer, text, label, emotion
    )
