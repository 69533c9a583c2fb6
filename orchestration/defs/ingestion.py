"""dlt assets: one multi-asset per vendor source, asset keys equal to the dbt source keys.

`["raw_billing", "invoices"]` is both the dlt table and the dbt `source('raw_billing', 'invoices')`,
so the dbt models attach to these assets without any mapping. Every writer to the DuckDB file runs in
the `warehouse_writer` pool (limit 1 in dagster.yaml): DuckDB admits one writing process.
"""

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from ingestion.config import SYSTEMS, source_config
from ingestion.http import set_correlation_id
from ingestion.pipeline import dataset_name, fewer_gc_passes, make_pipeline
from ingestion.sources import load_source
from orchestration.freshness import freshness_policy
from warehouse import Warehouse

WAREHOUSE_WRITER_POOL = "warehouse_writer"


class SynclineDltTranslator(DagsterDltTranslator):
    def __init__(self, system: str, warehouse_kind: str) -> None:
        super().__init__()
        self.system = system
        self.warehouse_kind = warehouse_kind

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        return spec.replace_attributes(
            key=dg.AssetKey([dataset_name(self.system), data.resource.name]),
            group_name=dataset_name(self.system),
            kinds={"dlt", self.warehouse_kind},
            deps=[],
            description=f"{self.system} `{data.resource.name}` loaded by dlt into {dataset_name(self.system)}.{data.resource.name}",
            freshness_policy=freshness_policy(),
        )


def build_source_assets(system: str, warehouse: Warehouse) -> dg.AssetsDefinition:
    @dlt_assets(
        dlt_source=load_source(system, **source_config(system)),
        dlt_pipeline=make_pipeline(system, warehouse),
        name=f"{system}_dlt",
        dagster_dlt_translator=SynclineDltTranslator(system, warehouse.kind),
        pool=WAREHOUSE_WRITER_POOL,
    )
    def _assets(context: AssetExecutionContext, dlt: DagsterDltResource):
        # One correlation id per Dagster run, carried on every vendor request of this run.
        set_correlation_id(f"run_{context.run.run_id}")
        with fewer_gc_passes():  # as `syncline ingest` runs a source (see ingestion.pipeline)
            yield from dlt.run(context=context, loader_file_format=warehouse.loader_file_format)

    return _assets


def ingestion_defs() -> dg.Definitions:
    warehouse = Warehouse.from_env()
    assets = [build_source_assets(system, warehouse) for system in SYSTEMS]
    ingest_job = dg.define_asset_job(
        "ingest_all",
        selection=dg.AssetSelection.groups(*(dataset_name(s) for s in SYSTEMS)),
        description="Incremental load of all four vendor sources into raw_* schemas.",
    )
    return dg.Definitions(
        assets=assets,
        jobs=[ingest_job],
        resources={"dlt": DagsterDltResource()},
    )
