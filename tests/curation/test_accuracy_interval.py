"""The balanced-accuracy interval that resamples whole episodes (wayvert.index.balanced_accuracy_interval)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from wayvert.index import balanced_accuracy_interval, confusion_of
from wayvert.schema import SCENARIOS


def _frames(seed, episodes=12, per=20, error=0.2):
    rng = np.random.default_rng(seed)
    labels, predicted, groups = [], [], []
    for e in range(episodes):
        for _ in range(per):
            t = SCENARIOS[rng.integers(0, len(SCENARIOS))]
            p = t if rng.random() > error else SCENARIOS[rng.integers(0, len(SCENARIOS))]
            labels.append(t), predicted.append(p), groups.append(f"ep{e}")
    return labels, predicted, groups


def test_all_right_gives_a_point_at_one():
    labels = ["rain", "cut_in", "following", "free_road"] * 5
    assert balanced_accuracy_interval(labels, labels, [i // 4 for i in range(20)]) == (1.0, 1.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), error=st.floats(0.0, 0.9))
def test_interval_holds_the_estimate_and_is_deterministic(seed, error):
    labels, predicted, groups = _frames(seed, error=error)
    lo, hi = balanced_accuracy_interval(labels, predicted, groups, draws=300, seed=1)
    point = confusion_of(labels, predicted).balanced_accuracy
    assert 0.0 <= lo <= hi <= 1.0
    assert lo - 0.1 <= point <= hi + 0.1          # a percentile interval need not hold it exactly, but near
    assert (lo, hi) == balanced_accuracy_interval(labels, predicted, groups, draws=300, seed=1)


def test_correlated_frames_widen_the_interval():
    """The same frames counted as 4 episodes or as 240 independent ones: resampling episodes admits the
    correlation, and its interval is wider."""
    labels, predicted, _ = _frames(3, episodes=4, per=60, error=0.0)
    # episode-level errors: every frame of episodes 0 and 1 wrong, of 2 and 3 right
    predicted = [("rain" if t != "rain" else "cut_in") if i < 120 else t for i, t in enumerate(labels)]
    by_episode = balanced_accuracy_interval(labels, predicted, [i // 60 for i in range(240)], draws=500)
    by_frame = balanced_accuracy_interval(labels, predicted, list(range(240)), draws=500)
    assert by_episode[1] - by_episode[0] > 2 * (by_frame[1] - by_frame[0])


def test_unknown_labels_are_left_out_and_bad_arguments_refused():
    assert balanced_accuracy_interval([None, "rain"], ["rain", "rain"], [0, 1], draws=50) == (1.0, 1.0)
    assert all(np.isnan(balanced_accuracy_interval([None], ["rain"], [0])))
    with pytest.raises(ValueError, match="level"):
        balanced_accuracy_interval(["rain"], ["rain"], [0], level=1.0)
    with pytest.raises(ValueError, match="draws"):
        balanced_accuracy_interval(["rain"], ["rain"], [0], draws=0)
    with pytest.raises(ValueError, match="length"):
        balanced_accuracy_interval(["rain"], ["rain"], [0, 1])
