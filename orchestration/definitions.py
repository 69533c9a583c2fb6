"""The Syncline code location: assembles the per-concern definitions.

- `defs/ingestion.py`: dlt assets per vendor (keys `raw_<system>/<table>`), `ingest_all` job, hourly schedule
- `defs/transform.py`: dbt assets before/after identity resolution and the identity asset between them
- `defs/quality.py`: blocking pandera gates on the golden tables and the sync models
- `defs/reverse_etl.py`: one asset per sync (ERP, support, billing), destinations as resources
- `defs/jobs.py`: the full pipeline job, hourly and nightly (full refresh) schedules
- `defs/operations.py`: billing-events sensor and its targeted job, DLQ replay, run-failure alerts
- `defs/observability.py`: the business KPIs asset (freshness policies: `freshness.py`)
"""

import dagster as dg

from orchestration.defs.ingestion import ingestion_defs
from orchestration.defs.jobs import jobs_defs
from orchestration.defs.observability import observability_defs
from orchestration.defs.operations import operations_defs
from orchestration.defs.quality import quality_defs
from orchestration.defs.reverse_etl import reverse_etl_defs
from orchestration.defs.transform import transform_defs

defs = dg.Definitions.merge(
    ingestion_defs(),
    transform_defs(),
    quality_defs(),
    reverse_etl_defs(),
    jobs_defs(),
    operations_defs(),
    observability_defs(),
)
