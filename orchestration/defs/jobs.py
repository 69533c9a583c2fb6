"""End-to-end jobs and their schedules (running by default): the full pipeline hourly, a full
reconciliation nightly.

`full_pipeline`: ingest all sources -> dbt staging -> identity -> marts with their checks -> the
reverse-ETL syncs (each skipped when its model's blocking gate fails). The nightly run carries the
`syncline/full_refresh` tag: dbt rebuilds every incremental model from scratch, so incremental state
that could drift (late-arriving rows, edited history) is reconciled once a day.
"""

import dagster as dg

from orchestration.tags import FULL_REFRESH_TAG

EVERYTHING = dg.AssetSelection.all()


def jobs_defs() -> dg.Definitions:
    pipeline = dg.define_asset_job(
        "full_pipeline",
        selection=EVERYTHING,
        description="Ingest all sources, build staging -> identity -> marts with their checks, then run "
        "the reverse-ETL syncs (a sync is skipped when its model's blocking gate fails).",
    )
    return dg.Definitions(
        jobs=[pipeline],
        schedules=[
            dg.ScheduleDefinition(
                name="hourly_full_pipeline",
                job=pipeline,
                cron_schedule="0 * * * *",
                default_status=dg.DefaultScheduleStatus.RUNNING,
                description="Hourly incremental run of the whole pipeline, syncs included.",
            ),
            dg.ScheduleDefinition(
                name="nightly_full_reconciliation",
                job=pipeline,
                cron_schedule="0 2 * * *",
                tags={FULL_REFRESH_TAG: "true"},
                default_status=dg.DefaultScheduleStatus.RUNNING,
                description="Nightly full rebuild (dbt --full-refresh) and syncs: reconciles whatever "
                "incremental state could have drifted.",
            ),
        ],
    )
