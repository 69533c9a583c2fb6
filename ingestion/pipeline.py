"""Run the dlt pipelines: one pipeline (name, working dir, dataset `raw_<system>`) per source.

Plain dlt, no Dagster: `syncline ingest` calls this, and the Dagster assets wrap the same sources.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo

from ingestion.config import SYSTEMS, source_config
from ingestion.http import new_correlation_id, reset_correlation_id, set_correlation_id
from ingestion.pipeline_state import pipelines_dir_for
from ingestion.project_settings import use_project_settings
from ingestion.sources import load_source
from warehouse import Warehouse

DEFAULT_PIPELINES_DIR = Path(".syncline/dlt")
# Young-generation GC threshold while a source runs (CPython's default: 700), see `fewer_gc_passes`.
GC_GEN0_THRESHOLD = 20_000
# dlt settings of every Syncline pipeline, unless dlt config / env sets them otherwise.
PIPELINE_CONFIG: dict[str, Any] = {
    # Sources yielding Arrow tables (billing, `ingestion.arrow`) get the `_dlt_load_id` and `_dlt_id`
    # columns that rows normalised from JSON get, so every raw table has them.
    "normalize.parquet_normalizer.add_dlt_load_id": True,
    "normalize.parquet_normalizer.add_dlt_id": True,
    # Extracted files live on local disk until normalize: gzip would only cost CPU (the load packages
    # that dlt keeps stay compressed; `sources.` is the section dlt's extract step reads).
    "sources.data_writer.disable_compression": True,
}


def pipeline_name(system: str) -> str:
    return f"syncline_{system}"


def dataset_name(system: str) -> str:
    return f"raw_{system}"


def configure_dlt() -> None:
    """Read the project's `.dlt/` and apply `PIPELINE_CONFIG` (process-wide, idempotent); explicit dlt
    config or env vars win."""
    use_project_settings()
    for key, value in PIPELINE_CONFIG.items():
        if dlt.config.get(key) is None:
            dlt.config[key] = value


@contextmanager
def fewer_gc_passes(gen0: int = GC_GEN0_THRESHOLD) -> Iterator[None]:
    """Run the cyclic garbage collector less often for the duration (the previous thresholds return).

    Parsing a page of 100 Stripe invoices allocates ~30,000 dicts and lists; with CPython's default
    threshold every page set off dozens of collections that traverse dlt's, pyarrow's and pandas' live
    objects as well: that tripled the cost of `orjson.loads`. The pages are freed by reference counting
    (they hold no cycles), so collecting less often costs no memory worth mentioning.
    """
    previous = gc.get_threshold()
    gc.set_threshold(max(gen0, previous[0]), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        # collect what the run left in reference cycles now, not at some later allocation: a DuckDB
        # connection held in one keeps the file open, and the next connection with another
        # configuration (a read-only reader) fails with "different configuration"
        gc.collect()


def make_pipeline(system: str, warehouse: Warehouse, pipelines_dir: Path | None = None) -> dlt.Pipeline:
    """The source's pipeline; its working dir sits under the pipelines root (`pipelines_dir`, else
    `SYNCLINE_DLT_DIR`, else `.syncline/dlt`) in a dir of the warehouse's own (`pipeline_state`)."""
    configure_dlt()
    root = Path(pipelines_dir or os.environ.get("SYNCLINE_DLT_DIR", DEFAULT_PIPELINES_DIR))
    return dlt.pipeline(
        pipeline_name=pipeline_name(system),
        pipelines_dir=str(pipelines_dir_for(root, warehouse)),
        destination=warehouse.destination(),
        dataset_name=dataset_name(system),
        # Live progress bars in a terminal; elsewhere (CI, Dagster, benches) the run summary suffices.
        progress="enlighten" if _is_tty() and not os.environ.get("CI") else None,
    )


def _is_tty() -> bool:
    import sys

    return sys.stderr.isatty()


@dataclass
class SourceRun:
    system: str
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)  # rows extracted per table in this run
    extract_s: float = 0.0
    normalize_s: float = 0.0
    load_s: float = 0.0
    correlation_id: str = ""
    load_info: LoadInfo | None = None


def run_source(
    system: str,
    *,
    warehouse: Warehouse | None = None,
    pipelines_dir: Path | None = None,
    config: dict[str, Any] | None = None,
    full_refresh: bool = False,
    correlation_id: str | None = None,
) -> SourceRun:
    """Extract, normalize and load one source. Raises IngestionError subclasses with a clear message."""
    warehouse = warehouse or Warehouse.from_env()
    run_correlation_id = correlation_id or new_correlation_id()
    token = set_correlation_id(run_correlation_id)
    try:
        with fewer_gc_passes():
            pipeline = make_pipeline(system, warehouse, pipelines_dir)
            source = load_source(system, **(config or source_config(system)))
            started = time.perf_counter()
            # As `pipeline.run` does (the Dagster assets call it): restore the warehouse's state when it
            # is newer than the local one, start over when the warehouse has none of this pipeline.
            pipeline.sync_destination()
            extract_info = pipeline.extract(
                source,
                refresh="drop_sources" if full_refresh else None,
                loader_file_format=warehouse.loader_file_format,
            )
            extracted = time.perf_counter()
            pipeline.normalize()
            normalized = time.perf_counter()
            load_info = pipeline.load()
            loaded = time.perf_counter()
            rows = extracted_rows(extract_info)
            return SourceRun(
                system=system,
                seconds=loaded - started,
                rows=rows,
                extract_s=extracted - started,
                normalize_s=normalized - extracted,
                load_s=loaded - normalized,
                correlation_id=run_correlation_id,
                load_info=load_info,
            )
    finally:
        reset_correlation_id(token)


def extracted_rows(extract_info: Any) -> dict[str, int]:
    """Rows extracted per table in this run.

    Taken from the extract step: dlt 1.31's CSV writer (our PostgreSQL path) counts cells, not rows,
    in the normalize metrics.
    """
    rows: dict[str, int] = {}
    for metrics in extract_info.metrics.values():
        for step in metrics:
            for table, table_metrics in step["table_metrics"].items():
                if not table.startswith("_dlt"):
                    rows[table] = rows.get(table, 0) + table_metrics.items_count
    return rows


def run_ingestion(systems: list[str] | None = None, **kwargs: Any) -> list[SourceRun]:
    runs = []
    for system in systems or list(SYSTEMS):
        runs.append(run_source(system, **kwargs))
    return runs
