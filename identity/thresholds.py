"""Link thresholds read off the trained model's own match weights on the data at hand.

Scored pairs of a model form two populations: non-matches (negative and small weights) and matches
(large weights); the threshold is the emptiest point between them. The weights are histogrammed in
half-bit bins, smoothed over five bins, and the least populated bin with a weight between
`LOW_BITS` and `HIGH_BITS` (match probability 0.5 to ~0.999) wins; among equally empty bins the
middle of the widest such run. A constant tuned to one data set would move with every new source;
the valley moves with the data. With too few scored pairs to see two populations (tiny inputs) the
caller's default probability stands.
"""

from __future__ import annotations

import math

import numpy as np

BIN_BITS = 0.5
LOW_BITS = 0.0
HIGH_BITS = 10.0
MIN_PAIRS = 50


def probability(weight: float) -> float:
    return 1.0 / (1.0 + 2.0 ** (-weight))


def weight(probability_: float) -> float:
    return math.log2(probability_ / (1.0 - probability_))


def valley_weight(weights: np.ndarray) -> float | None:
    """The match weight at the emptiest point between the two populations, or None when there are
    too few pairs to tell."""
    weights = np.asarray(weights, dtype="float64")
    weights = weights[np.isfinite(weights)]
    if len(weights) < MIN_PAIRS:
        return None
    lo = min(math.floor(weights.min()), LOW_BITS - 5)
    hi = max(math.ceil(weights.max()), HIGH_BITS + 5)
    edges = np.arange(lo, hi + BIN_BITS, BIN_BITS)
    counts, edges = np.histogram(weights, bins=edges)
    smooth = np.convolve(counts, np.ones(5) / 5, mode="same")
    centres = (edges[:-1] + edges[1:]) / 2
    window = (centres >= LOW_BITS) & (centres <= HIGH_BITS)
    candidates = np.flatnonzero(window)
    best = smooth[candidates].min()
    at_min = candidates[np.isclose(smooth[candidates], best)]
    # Widest run of consecutive minimal bins; its middle.
    runs = np.split(at_min, np.flatnonzero(np.diff(at_min) > 1) + 1)
    widest = max(runs, key=len)
    return float(centres[widest[len(widest) // 2]])


def choose_threshold(weights: np.ndarray, default_probability: float) -> tuple[float, str]:
    """(probability threshold, how it was chosen: 'valley' or 'default')."""
    valley = valley_weight(weights)
    if valley is None:
        return default_probability, "default"
    return round(probability(valley), 6), "valley"
