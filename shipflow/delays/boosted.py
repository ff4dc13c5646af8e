"""Gradient-boosted trees over the warning model's inputs, kept as plain arrays of nodes.

The logistic weights (`risk.WarningModel`) add each input's pull on its own; trees also catch
where inputs matter together (an overdue scan counts for more with little time left). Alone
they overfit a brand with few late parcels, so a check's chance is the mean of both
(`risk.WarningModel.chance`; docs/benchmarks.md, "Delay warnings, twelfth session").

scikit-learn fits them; what is stored and judged is each tree's nodes as numbers (JSON, no
pickle: a stored model is data read back by every process, never code), walked here with
numpy, so judging needs no scikit-learn and gives what its `predict_proba` gives.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

# scikit-learn warns on each fit that runs outside its own `Parallel` (a job runner's
# thread): its configuration is the default in every thread here anyway
warnings.filterwarnings("ignore", "`sklearn.utils.parallel.delayed`", UserWarning)

# Chosen offline on the sandbox with disruptions, seed 11 (docs/benchmarks.md, twelfth
# session): 100 trees at rate 0.1, or shallow ones (depth 4), warned no more there.
SETTINGS: Mapping[str, object] = {
    "max_iter": 200,
    "learning_rate": 0.05,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 200,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}


@dataclass(frozen=True, eq=False)
class Trees:
    """One row per tree, one column per node (padded): a split node sends an input row to
    `left` when its `feature` is at most `threshold`, else to `right`; a leaf points at
    itself both ways and holds its `value`. The chance's logit is `baseline` plus the values
    of the leaves a row reaches."""

    baseline: float
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray

    @classmethod
    def fit(cls, rows: np.ndarray, late: np.ndarray) -> Trees:
        # imported here: only the learning job fits, and scikit-learn takes about a second
        # to import in every process that only judges
        from sklearn.ensemble import HistGradientBoostingClassifier

        fitted = HistGradientBoostingClassifier(**SETTINGS).fit(rows, late.astype(int))
        trees = [predictors[0].nodes for predictors in fitted._predictors]
        shape = (len(trees), max(len(nodes) for nodes in trees))
        feature, left, right = (np.zeros(shape, dtype=int) for _ in range(3))
        threshold, value = np.zeros(shape), np.zeros(shape)
        left[:] = right[:] = np.arange(shape[1])  # leaves and padding point at themselves
        for t, nodes in enumerate(trees):
            leaf = nodes["is_leaf"].astype(bool)
            split = ~leaf
            index = np.flatnonzero(split)
            feature[t, index] = nodes["feature_idx"][split]
            threshold[t, index] = nodes["num_threshold"][split]
            left[t, index], right[t, index] = nodes["left"][split], nodes["right"][split]
            value[t, np.flatnonzero(leaf)] = nodes["value"][leaf]
        baseline = float(np.ravel(fitted._baseline_prediction)[0])
        return cls(baseline, feature, threshold, left, right, value)

    def logits(self, rows: np.ndarray) -> np.ndarray:
        """Each row's logit: every tree walked at once, a level a step, until each row rests
        on a leaf in each tree."""
        tree = np.arange(self.feature.shape[0])
        at = np.zeros((rows.shape[0], len(tree)), dtype=int)
        while True:
            seen = np.take_along_axis(rows, self.feature[tree, at], axis=1)
            after = np.where(
                seen <= self.threshold[tree, at], self.left[tree, at], self.right[tree, at]
            )
            if np.array_equal(after, at):
                return self.baseline + self.value[tree, at].sum(axis=1)
            at = after

    def __eq__(self, other: object) -> bool:
        """The same trees: every node alike (arrays compare element by element)."""
        return (
            isinstance(other, Trees)
            and self.baseline == other.baseline
            and all(np.array_equal(getattr(self, a), getattr(other, a)) for a in ARRAYS)
        )

    def to_dict(self) -> dict:
        return {
            "baseline": self.baseline,
            **{name: getattr(self, name).tolist() for name in ARRAYS},
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Trees:
        return cls(
            data["baseline"],
            *(np.array(data[name], dtype=int if name in INDICES else float) for name in ARRAYS),
        )


ARRAYS = ("feature", "threshold", "left", "right", "value")
INDICES = ("feature", "left", "right")
