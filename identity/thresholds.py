"""Link thresholds read off the trained model's own match weights on the data at hand.

The model's match probability of a scored pair is its own estimate that the pair is a match. Taken
at its word, accepting the pairs at or above a threshold t yields an expected
    TP(t) = sum of p over accepted pairs,   accepted(t) = number of accepted pairs,
    all matches = sum of p over every scored pair,
so an expected pairwise F1(t) = 2 TP(t) / (accepted(t) + all matches). The threshold is the
probability that maximises it. It moves with the data and with the trained model (its lambda, m
and u), where a constant would be tuned to whichever data set it was chosen on. The result is kept
within [MIN_PROBABILITY, MAX_PROBABILITY] so that a badly calibrated model can neither accept pairs
it thinks more likely non-matches than not by a wide margin nor refuse near-certain ones. With too
few scored pairs (tiny inputs) the caller's default stands.
"""

from __future__ import annotations

import numpy as np

MIN_PROBABILITY = 0.3
MAX_PROBABILITY = 0.99
MIN_PAIRS = 50


def expected_f1_threshold(probabilities: np.ndarray) -> float | None:
    """The probability threshold with the highest expected pairwise F1, or None when there are too
    few pairs to tell."""
    p = np.asarray(probabilities, dtype="float64")
    p = p[np.isfinite(p)]
    if len(p) < MIN_PAIRS:
        return None
    p = np.sort(p)[::-1]
    tp = np.cumsum(p)
    f1 = 2 * tp / (np.arange(1, len(p) + 1) + tp[-1])
    # Only cut between distinct probabilities: ties are accepted or refused together.
    last_of_value = np.append(p[1:] != p[:-1], True)
    best = int(np.argmax(np.where(last_of_value, f1, -1.0)))
    return float(np.clip(p[best], MIN_PROBABILITY, MAX_PROBABILITY))


def choose_threshold(probabilities: np.ndarray, default_probability: float) -> tuple[float, str]:
    """(probability threshold, how it was chosen: 'expected_f1' or 'default')."""
    chosen = expected_f1_threshold(probabilities)
    if chosen is None:
        return default_probability, "default"
    return chosen, "expected_f1"
