"""Single-conversation speed for the chat-time layer: the same numbers, less overhead.

Per call the layer featurises a handful of short texts. scikit-learn's `TfidfVectorizer.
transform` spends most of that time validating its input, and a sparse row times a C-ordered
`coef.T` copies the whole weight matrix first. `FastTfidf` does the transform directly
(analyzer -> counts -> sublinear tf x idf -> L2 norm; equal to scikit-learn's, tested), and
`speed_up` swaps it into loaded models and lays their weights out column-major, so
`x @ coef.T` reads them in place. Only the layer's own model objects are changed.
"""

from __future__ import annotations

import math
from collections import Counter
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
        vocab = self.vocabulary_
        for text in texts:
            counts = Counter(vocab[t] for t in self.analyze(text) if t in vocab)
            columns = sorted(counts)
            values = [(1.0 + math.log(counts[c])) * self.idf_[c] for c in columns]
            norm = math.sqrt(sum(v * v for v in values)) or 1.0
            indices += columns
            data += [v / norm for v in values]
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.array(data, dtype=np.float32), np.array(indices, dtype=np.int32), indptr),
            shape=(len(indptr) - 1, self.width),
        )


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
