"""Freshness policies: raw tables and golden tables must be updated at least every
`SYNCLINE_FRESHNESS_HOURS` (default 2: the pipeline runs hourly), warning at half of it. The Dagster
daemon evaluates them (`freshness: enabled` in dagster.yaml) and the UI shows each asset's state."""

import os
from datetime import timedelta

import dagster as dg

# golden tables analysts and the syncs read (dbt model names)
GOLDEN_MODELS = ("golden_customers", "golden_contracts")


def freshness_policy() -> dg.FreshnessPolicy:
    hours = float(os.environ.get("SYNCLINE_FRESHNESS_HOURS", "2"))
    return dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=hours), warn_window=timedelta(hours=hours / 2)
    )
