"""The Syncline code location: assembles the per-concern definitions (ingestion, later dbt, syncs)."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.ingestion import ingestion_defs

defs = dg.Definitions.merge(ingestion_defs())
