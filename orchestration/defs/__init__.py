"""Per-concern Dagster definitions, assembled by orchestration/definitions.py."""
