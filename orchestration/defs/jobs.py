"""End-to-end jobs: everything from the vendor APIs to the outbound batches, hourly and nightly."""

import dagster as dg

EVERYTHING = dg.AssetSelection.all()


def jobs_defs() -> dg.Definitions:
    refresh = dg.define_asset_job(
        "refresh_golden_tables",
        selection=EVERYTHING,
        description="Ingest all sources, build staging -> identity -> marts with their checks, and prepare "
        "the outbound batches (skipped for any table whose blocking gate fails).",
    )
    return dg.Definitions(
        jobs=[refresh],
        schedules=[
            dg.ScheduleDefinition(
                name="nightly_full_reconciliation",
                job=refresh,
                cron_schedule="0 2 * * *",
                default_status=dg.DefaultScheduleStatus.STOPPED,
                description="Nightly rebuild of the golden, reconciliation and outbound tables.",
            )
        ],
    )
