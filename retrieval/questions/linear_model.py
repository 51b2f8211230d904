"""Logistic-regression decisions: fit with scikit-learn, applied with numpy.

A fitted model is plain numbers (classes, weights, feature names, a decision threshold), saved as
JSON with the rest of the fitted parameters, so answering a question never imports scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LinearModel:
    classes: tuple[str, ...]
    weights: np.ndarray  # (n_classes, n_features); one row for a binary model (the second class)
    bias: np.ndarray  # (n_classes,) or (1,)
    mean: np.ndarray  # feature standardisation, fitted with the weights
    scale: np.ndarray
    features: tuple[str, ...] = ()  # names of the scalar features, for reports and checks
    threshold: float = 0.5  # binary models: probability of classes[1] needed to decide for it

    def probabilities(self, x: Sequence[float]) -> dict[str, float]:
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        logits = self.weights @ z + self.bias
        if len(self.classes) == 2 and logits.shape[0] == 1:
            p = float(1.0 / (1.0 + np.exp(-logits[0])))
            return {self.classes[0]: 1.0 - p, self.classes[1]: p}
        logits = logits - logits.max()
        exp = np.exp(logits)
        return dict(zip(self.classes, (exp / exp.sum()).tolist()))

    def positive_probabilities(self, x: np.ndarray) -> np.ndarray:
        """Binary models: the probability of classes[1] for each row of ``x``."""
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(z @ self.weights[0] + self.bias[0])))

    def decide(self, x: Sequence[float]) -> tuple[bool, float]:
        """Binary models: (whether the second class is decided, its probability)."""
        p = self.probabilities(x)[self.classes[1]]
        return p >= self.threshold, p

    def to_dict(self) -> dict:
        return {"classes": list(self.classes), "weights": self.weights.tolist(),
                "bias": self.bias.tolist(), "mean": self.mean.tolist(),
                "scale": self.scale.tolist(), "features": list(self.features),
                "threshold": self.threshold}

    @classmethod
    def from_dict(cls, data: dict) -> "LinearModel":
        return cls(classes=tuple(data["classes"]), weights=np.asarray(data["weights"], dtype=np.float64),
                   bias=np.asarray(data["bias"], dtype=np.float64), mean=np.asarray(data["mean"], dtype=np.float64),
                   scale=np.asarray(data["scale"], dtype=np.float64), features=tuple(data.get("features", ())),
                   threshold=float(data.get("threshold", 0.5)))


def fit_linear_model(x: Sequence[Sequence[float]], y: Sequence[str], *, features: Sequence[str] = (),
                     c: float = 1.0, threshold: float = 0.5, class_weight: str | None = "balanced") -> LinearModel:
    """Fit a (multinomial) logistic regression on standardised features."""
    from sklearn.linear_model import LogisticRegression  # only when fitting: slow to import

    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, max_iter=2000, class_weight=class_weight)
    model.fit((x - mean) / scale, list(y))
    return LinearModel(classes=tuple(str(c) for c in model.classes_), weights=model.coef_.copy(),
                       bias=model.intercept_.copy(), mean=mean, scale=scale, features=tuple(features),
                       threshold=threshold)
