"""Run tags Syncline sets and reads: how a business event's id travels through a run."""

CORRELATION_TAG = "syncline/correlation_id"  # every ledger row and outgoing request of the run
SOURCE_EVENT_TAG = "syncline/source_event"  # the triggering event id(s)
FULL_REFRESH_TAG = "syncline/full_refresh"  # "true": dbt and dlt rebuild from scratch (nightly)
