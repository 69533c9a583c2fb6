"""dbt assets (before and after identity resolution) and the identity-resolution asset between them.

Two `@dbt_assets` definitions rather than one: the Python identity step reads an intermediate model and
feeds the marts, and splitting the dbt project at that seam keeps the op graph acyclic and readable.
dbt sources keep dagster-dbt's default keys (`[source_name, table]`), which are exactly the dlt asset
keys, so `source('raw_billing', 'invoices')` hangs under `["raw_billing", "invoices"]`.

dbt runs the way `syncline transform` runs it: in this process through `transform.dbt_session.DbtSession`
(no dbt subprocess), seeds unchanged since the last build left out; `orchestration/dbt_events.py` turns
its result per node into outputs and check results.
"""

import re
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject, dbt_assets

from orchestration.dbt_events import DbtEventMapper, load_manifest
from orchestration.defs.ingestion import WAREHOUSE_WRITER_POOL
from orchestration.freshness import GOLDEN_MODELS, freshness_policy
from orchestration.tags import FULL_REFRESH_TAG
from transform.dbt_cli import POST_IDENTITY_SELECTION, PRE_IDENTITY_SELECTION, PROJECT_DIR, apply_dbt_env
from transform.dbt_session import DbtBuildFailed, DbtSession
from transform.identity_step import SCHEMA as IDENTITY_SCHEMA
from transform.identity_step import resolve_identities
from transform.publish import publish_read_copy
from warehouse import Warehouse

IDENTITY_TABLES = ("party_matches", "golden_id_aliases", "party_links")

dbt_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
dbt_project.prepare_if_dev()  # only parses under `dagster dev`; the Makefile/CI/tests run `dbt parse`


def describe_dbt_test(test: Mapping[str, Any]) -> str:
    """A dbt test as its check's description in the UI: its own description, else what it asserts."""
    severity = (test.get("config", {}).get("severity") or "error").lower()
    effect = "a failure blocks the downstream assets" if severity == "error" else "a failure only warns"
    generic = test.get("test_metadata") or {}
    kwargs = generic.get("kwargs", {})
    if test.get("description"):
        what = test["description"].rstrip(".")
    elif not generic:
        what = f"dbt singular test `{test['original_file_path']}`"
    else:
        name = ".".join(filter(None, (generic.get("namespace"), generic["name"])))
        column = kwargs.get("column_name")
        what = f"dbt `{name}` test" + (f" on `{column}`" if column else "")
        if generic["name"] == "relationships":
            to = re.sub(r"^(?:ref|source)\((.*)\)$", r"\1", str(kwargs.get("to", ""))).replace("'", "")
            what += f": every value is a `{kwargs.get('field')}` of {to.replace(', ', '.')}"
        elif generic["name"] == "accepted_values":
            what += f": one of {', '.join(map(str, kwargs.get('values', [])))}"[:300]
        elif args := {k: v for k, v in kwargs.items() if k not in ("model", "column_name")}:
            what += " (" + "; ".join(f"{k}: {v}" for k, v in args.items())[:300] + ")"
    return f"{what} (severity {severity}: {effect})."


class SynclineDbtTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"  # staging | intermediate | marts

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if manifest["nodes"].get(unique_id, {}).get("name") in GOLDEN_MODELS:
            return spec.replace_attributes(freshness_policy=freshness_policy())
        return spec

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        if dbt_resource_props["resource_type"] == "seed":  # no SQL to show: say where the rows come from
            description = dbt_resource_props.get("description") or f"dbt seed {dbt_resource_props['name']}"
            return f"{description}\n\nRows from `dbt_project/{dbt_resource_props['original_file_path']}`."
        return super().get_description(dbt_resource_props)

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return dg.AssetCheckSpec(
            spec.name,
            asset=spec.asset_key,
            description=describe_dbt_test(manifest["nodes"][unique_id]),
            additional_deps=spec.additional_deps,
            blocking=spec.blocking,
            metadata=spec.metadata,
            automation_condition=spec.automation_condition,
        )


TRANSLATOR = SynclineDbtTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_source_tests_as_checks=True)
)


def run_dbt(
    context: AssetExecutionContext, full: dg.AssetsDefinition, step: str, layer: list[str]
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Build the step's selection in this process (the runner `syncline transform` uses) and report
    every node; a failed node fails the step with dbt's message once the rest is reported."""
    mapper = DbtEventMapper(load_manifest(str(dbt_project.manifest_path)), TRANSLATOR, dbt_project)
    select, exclude = mapper.selection(context, full, layer)
    if not select:  # dbt without --select would build the whole project
        context.log.info(f"{step}: no dbt node selected")
        return
    session = DbtSession(Warehouse.from_env(), progress=context.log.debug)
    full_refresh = context.run.tags.get(FULL_REFRESH_TAG) == "true"  # the nightly reconciliation
    build = session.run(step, select, exclude=exclude, full_refresh=full_refresh)
    yield from mapper.events(context, build)
    try:
        build.raise_on_failure()
    except DbtBuildFailed as failed:
        raise dg.Failure(description=str(failed), metadata={"failed_nodes": build.failures()}) from None
    context.log.info(f"{step}: {build.statuses()}")
    session.remember_build()  # only when every seed was selected (DbtSession.remember_build)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select=" ".join(PRE_IDENTITY_SELECTION),
    name="dbt_pre_identity",
    dagster_dbt_translator=TRANSLATOR,
    project=dbt_project,
    pool=WAREHOUSE_WRITER_POOL,
)
def dbt_pre_identity(context: AssetExecutionContext):
    """Seeds, staging and intermediate models with their tests."""
    yield from run_dbt(context, dbt_pre_identity, "dbt pre-identity", PRE_IDENTITY_SELECTION)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select=" ".join(POST_IDENTITY_SELECTION),
    name="dbt_marts",
    dagster_dbt_translator=TRANSLATOR,
    project=dbt_project,
    pool=WAREHOUSE_WRITER_POOL,
)
def dbt_marts(context: AssetExecutionContext):
    """Golden tables, reconciliation, outbound sync models and KPIs, then the analysts' read-only copy."""
    yield from run_dbt(context, dbt_marts, "dbt marts", POST_IDENTITY_SELECTION)
    published = publish_read_copy(Warehouse.from_env())
    if published:
        context.log.info(f"published the read-only copy for analysts at {published}")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=[IDENTITY_SCHEMA, table],
            group_name="identity",
            kinds={"python", "splink"},
            deps=[
                dg.AssetKey(["intermediate", "int_party_records"]),
                dg.AssetKey(["intermediate", "int_party_cross_references"]),
            ],
            description=description,
            metadata={"dagster/table_name": f"{IDENTITY_SCHEMA}.{table}"},
        )
        for table, description in zip(
            IDENTITY_TABLES,
            (
                "Golden id per source party record (deterministic rules, then Splink), stable across runs.",
                "Golden ids retired by merges, pointing at the id that survived.",
                "Accepted pairwise links with probability and rule, for audit.",
            ),
            strict=True,
        )
    ],
    pool=WAREHOUSE_WRITER_POOL,
)
def identity_resolution(context: AssetExecutionContext):
    run = resolve_identities(Warehouse.from_env(), progress=context.log.info)
    metadata = {
        "records": run.records,
        "golden_ids": run.golden_ids,
        "duplicate_record_rate": round(1 - run.golden_ids / run.records, 4) if run.records else 0.0,
        "rules": dg.MetadataValue.json(run.rules),
        "seconds": round(run.seconds, 2),
    }
    yield dg.MaterializeResult(asset_key=[IDENTITY_SCHEMA, "party_matches"], metadata=metadata)
    yield dg.MaterializeResult(
        asset_key=[IDENTITY_SCHEMA, "golden_id_aliases"], metadata={"aliases": run.aliases}
    )
    yield dg.MaterializeResult(asset_key=[IDENTITY_SCHEMA, "party_links"], metadata={"links": run.links})


def transform_defs() -> dg.Definitions:
    apply_dbt_env(Warehouse.from_env())
    return dg.Definitions(assets=[dbt_pre_identity, identity_resolution, dbt_marts])
