import json

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from shipflow.delays.boosted import SETTINGS, Trees


def _interacting(n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Late when two inputs are high together: what a sum of single pulls cannot draw."""
    rng = np.random.default_rng(7)
    rows = rng.normal(size=(n, 6))
    late = (rows[:, 1] * rows[:, 2] + rng.normal(scale=0.5, size=n) > 0.5).astype(float)
    return rows, late


def test_the_stored_nodes_judge_as_scikit_learns_fitted_trees():
    rows, late = _interacting()
    trees = Trees.fit(rows, late)
    fitted = HistGradientBoostingClassifier(**SETTINGS).fit(rows, late.astype(int))
    chances = 1 / (1 + np.exp(-trees.logits(rows)))
    assert np.abs(chances - fitted.predict_proba(rows)[:, 1]).max() < 1e-12


def test_trees_round_trip_through_json_node_for_node():
    rows, late = _interacting()
    trees = Trees.fit(rows, late)
    stored = Trees.from_dict(json.loads(json.dumps(trees.to_dict())))
    assert stored == trees
    assert np.array_equal(stored.logits(rows), trees.logits(rows))
