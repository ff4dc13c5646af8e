"""The bound's scoring must read the best recall any threshold reaches at each precision."""

import numpy as np
import pytest

from benchmarks.delay_bound import best


def test_the_best_recall_at_each_precision_is_read_over_every_threshold():
    chances = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    late = np.array([True, True, False, True, False])
    auc, at_70, at_85, even = best(chances, late)
    # from the top: 1 of 1, 2 of 2, 2 of 3, 3 of 4, 3 of 5 warnings right, of 3 late parcels
    assert auc == pytest.approx(5 / 6)  # 5 of the 6 (late, on-time) pairs ranked right
    assert (at_70, at_85) == (1.0, pytest.approx(2 / 3))
    assert even == 0.75  # 3 of 4 right, all 3 late warned: min(0.75, 1.0)


def test_tied_chances_are_warned_together():
    chances = np.array([0.9, 0.9, 0.1])
    late = np.array([True, False, True])
    # one threshold warns both 0.9s (1 of 2 right) or all three (2 of 3): never 1 of 1
    assert best(chances, late)[1:3] == [0.0, 0.0]
