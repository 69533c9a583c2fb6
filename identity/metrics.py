"""Clustering quality against labelled truth: pairwise and B-cubed precision / recall / F1."""

from __future__ import annotations

import pandas as pd


def scores(truth: pd.Series, pred: pd.Series) -> dict[str, float]:
    """`truth` and `pred` are cluster labels of the same records, aligned by position."""
    frame = pd.DataFrame({"t": truth.to_numpy(), "p": pred.to_numpy()})

    def pairs(sizes: pd.Series) -> float:
        return float((sizes * (sizes - 1) / 2).sum())

    tp = pairs(frame.groupby(["t", "p"]).size())
    pred_pairs = pairs(frame.groupby("p").size())
    true_pairs = pairs(frame.groupby("t").size())
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    inter = frame.groupby(["t", "p"])["t"].transform("size")
    bp = (inter / frame.groupby("p")["p"].transform("size")).mean()
    br = (inter / frame.groupby("t")["t"].transform("size")).mean()
    bf1 = 2 * bp * br / (bp + br)
    return {
        "pairwise_precision": round(precision, 4),
        "pairwise_recall": round(recall, 4),
        "pairwise_f1": round(f1, 4),
        "bcubed_precision": round(float(bp), 4),
        "bcubed_recall": round(float(br), 4),
        "bcubed_f1": round(float(bf1), 4),
    }
