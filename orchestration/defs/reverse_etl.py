"""Reverse-ETL assets: one per sync, downstream of its dbt sync model and blocked by its gate.

As dagster-open-platform wraps its Hightouch syncs: the destinations are `ConfigurableResource`s (base
URL from config, credentials from `EnvVar` when set), the asset runs the plain-Python engine
(`reverse_etl.runner`), and its `MaterializeResult` carries the same counts `syncline sync` prints.
The sync models' blocking pandera gates (`defs/quality.py`) skip a sync whose model is broken. Syncs do
not write the warehouse (they read its published read-only copy and keep their state in the ops
store), so they do not take the `warehouse_writer` pool.
"""

import os
from typing import Any

import dagster as dg

from orchestration.tags import CORRELATION_TAG, SOURCE_EVENT_TAG
from reverse_etl.syncs import SYNCS, SyncSpec

GROUP = "reverse_etl"


def _secret(env_var: str, fallback: str) -> Any:
    """An `EnvVar` when the variable is set (Dagster resolves it at run time, never shows it); the
    configured local default (the sandbox's demo credential) otherwise."""
    return dg.EnvVar(env_var) if os.environ.get(env_var) else fallback


class ErpDestinationResource(dg.ConfigurableResource):
    """Business Central API v2.0 (base URL, tenant, environment, company, OAuth bearer token)."""

    base_url: str
    tenant: str
    environment: str
    company_id: str
    access_token: str

    def connection(self) -> dict[str, Any]:
        return self.model_dump()


class SupportDestinationResource(dg.ConfigurableResource):
    """Zendesk Support (base URL, agent email, API token)."""

    base_url: str
    email: str
    token: str

    def connection(self) -> dict[str, Any]:
        return self.model_dump()


class BillingDestinationResource(dg.ConfigurableResource):
    """Stripe (base URL, secret key)."""

    base_url: str
    api_key: str

    def connection(self) -> dict[str, Any]:
        return self.model_dump()


def destination_resources() -> dict[str, dg.ConfigurableResource]:
    from ingestion.config import source_config

    erp, support, billing = source_config("erp"), source_config("support"), source_config("billing")
    return {
        "erp": ErpDestinationResource(
            base_url=erp["base_url"],
            tenant=erp["tenant"],
            environment=erp["environment"],
            company_id=erp["company_id"],
            access_token=_secret("SOURCES__ERP__ACCESS_TOKEN", erp["access_token"]),
        ),
        "support": SupportDestinationResource(
            base_url=support["base_url"],
            email=support["email"],
            token=_secret("SOURCES__SUPPORT__TOKEN", support["token"]),
        ),
        "billing": BillingDestinationResource(
            base_url=billing["base_url"], api_key=_secret("SOURCES__BILLING__API_KEY", billing["api_key"])
        ),
    }


def sync_metadata(result: Any) -> dict[str, Any]:
    summary = result.as_dict()
    metadata: dict[str, Any] = {
        key: summary[key]
        for key in (
            "created",
            "updated",
            "unchanged",
            "conflict",
            "rejected",
            "retried",
            "dead_lettered",
            "invalid",
            "queued",
        )
    }
    metadata["p50_ms"] = summary["p50_ms"] or 0.0
    metadata["p95_ms"] = summary["p95_ms"] or 0.0
    metadata["planned"] = dg.MetadataValue.json(summary["planned"])
    metadata["circuit_open"] = summary["circuit_open"]
    metadata["correlation_id"] = summary["correlation_id"]
    return metadata


class SyncRunConfig(dg.Config):
    """Launchpad options: preview the diff without writing, or cap the writes."""

    dry_run: bool = False
    limit: int | None = None


def build_sync_asset(spec: SyncSpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=[GROUP, spec.name],
        deps=[dg.AssetKey(["marts", spec.model]), *(dg.AssetKey([GROUP, d]) for d in spec.depends_on)],
        group_name=GROUP,
        kinds={"python", spec.destination},
        description=f"{spec.description} Desired state: `marts.{spec.model}`; ledger and DLQ in the ops store.",
        metadata={
            "destination": f"{spec.destination} {spec.object}",
            "desired_state": f"marts.{spec.model}",
            "record_key": spec.key,
            "mode": spec.mode,
            "field_mapping": dg.MetadataValue.json({f.column: f.prop for f in spec.fields}),
        },
        required_resource_keys={spec.destination},
    )
    def _sync(context: dg.AssetExecutionContext, config: SyncRunConfig) -> dg.MaterializeResult:
        from reverse_etl.runner import run_syncs

        tags = context.run.tags
        connection = getattr(context.resources, spec.destination).connection()
        [result] = run_syncs(
            [spec.name],
            dry_run=config.dry_run,
            limit=config.limit,
            connections={spec.destination: connection},
            correlation_id=tags.get(CORRELATION_TAG) or f"run_{context.run.run_id}",
            source_event=tags.get(SOURCE_EVENT_TAG),
        )
        if result.blocked:
            raise dg.Failure(description=f"{spec.name} did not run: {result.blocked}")
        from operations.alerts import alert_outages
        from reverse_etl.state import OpsStore
        from warehouse import Warehouse

        store = OpsStore.for_warehouse(Warehouse.from_env())
        try:
            alert_outages(store, [result], run_id=context.run.run_id)
        finally:
            store.close()
        if result.circuit_open:
            context.log.warning(
                f"{spec.destination} kept failing: its circuit opened; {result.counts['queued']} "
                "record(s) stay queued until dlq_replay_sensor sees it answer again"
            )
        metadata = sync_metadata(result)
        if config.dry_run:
            metadata["dry_run_samples"] = dg.MetadataValue.json(result.samples)
        return dg.MaterializeResult(metadata=metadata)

    return _sync


def reverse_etl_defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[build_sync_asset(spec) for spec in SYNCS.values()],
        resources=destination_resources(),
    )
