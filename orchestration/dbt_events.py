"""dbt in Dagster through the same in-process runner as `syncline transform` (transform/dbt_session.py).

`@dbt_assets` still declares the assets and checks (keys from the translator); these helpers turn the
step's selection into a dbt selection and dbt's result per node into Dagster events, the way
dagster-dbt maps its CLI's structured log:
- a model / seed / snapshot dbt built -> `Output` (metadata: unique_id, status, duration, rows);
- a seed left out because it is as at the last build -> `Output` with status `unchanged`, so steps
  downstream run (the table is current, it was just not reloaded);
- a test -> `AssetCheckResult`; passed only on `pass`: `fail`, `warn`, `error` and `skipped` (dbt
  skips the tests of a model that failed) are failed checks;
- a failed model fails the step with dbt's message, after the events of everything that did run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg

REFABLE = ("model", "seed", "snapshot")


def load_manifest(path: str) -> Mapping[str, Any]:
    """The manifest the `@dbt_assets` were built from (dbt_project.manifest_path), read once per version."""
    return _read_manifest(path, Path(path).stat().st_mtime_ns)


@cache
def _read_manifest(path: str, mtime_ns: int) -> Mapping[str, Any]:
    return json.loads(Path(path).read_text())


class DbtEventMapper:
    """dbt nodes <-> Dagster asset and check keys of one set of `@dbt_assets`, via the translator."""

    def __init__(self, manifest: Mapping[str, Any], translator: Any, project: Any = None) -> None:
        self.manifest = manifest
        self.translator = translator
        self.project = project

    def asset_key(self, unique_id: str) -> dg.AssetKey:
        return self.translator.get_asset_spec(self.manifest, unique_id, self.project).key

    def check_key(self, test_unique_id: str) -> dg.AssetCheckKey | None:
        """The check a dbt test is (dagster-dbt's rule: the node a generic test is attached to, or
        the single node a singular test reads)."""
        test = self.manifest["nodes"].get(test_unique_id)
        if test is None:
            return None
        parents = set(test["depends_on"]["nodes"])
        attached = next(iter(parents)) if len(parents) == 1 else test.get("attached_node")
        if not attached:
            return None
        return dg.AssetCheckKey(asset_key=self.asset_key(attached), name=test["name"])

    def selection(
        self, context: dg.AssetExecutionContext, full: dg.AssetsDefinition, layer: list[str]
    ) -> tuple[list[str], list[str]]:
        """(select, exclude) for the step: the whole layer when Dagster selected every asset and check
        of `full` (the same selection `syncline transform` builds), else the selected nodes by fqn,
        the tests of selected checks, and the tests of unselected checks excluded."""
        selected_assets = set(context.selected_asset_keys)
        selected_checks = set(context.selected_asset_check_keys)
        if selected_assets == set(full.keys) and selected_checks == set(full.check_keys):
            return list(layer), []
        select, exclude = [], []
        for unique_id, node in self.manifest["nodes"].items():
            if node["resource_type"] in REFABLE and self.asset_key(unique_id) in selected_assets:
                select.append("fqn:" + ".".join(node["fqn"]))
            elif node["resource_type"] == "test":
                key = self.check_key(unique_id)
                if key in selected_checks and key.asset_key not in selected_assets:
                    select.append("fqn:" + ".".join(node["fqn"]))
                elif key is not None and key in full.check_keys and key not in selected_checks:
                    exclude.append("fqn:" + ".".join(node["fqn"]))
        return select, exclude

    def events(
        self, context: dg.AssetExecutionContext, build: Any
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:
        """Dagster events for a `transform.dbt_session.DbtBuild`."""
        from transform.dbt_session import node_status

        outputs = set(context.op_execution_context.selected_output_names)
        checks = set(context.selected_asset_check_keys)
        built = set()
        for result in build.results:
            unique_id, resource_type = result.node.unique_id, str(result.node.resource_type)
            status = node_status(result)
            built.add(unique_id)
            if resource_type in REFABLE:
                name = self.asset_key(unique_id).to_python_identifier()
                if status == "success" and name in outputs:
                    yield dg.Output(None, output_name=name, metadata=_node_metadata(result, status))
            elif resource_type == "test":
                key = self.check_key(unique_id)
                if key in checks:
                    yield _check_result(key, result, status)
                else:
                    context.log.debug(f"dbt test {unique_id} ran outside the selected checks ({status})")
        # (when dbt stopped before running any node, nothing can be vouched for)
        if build.unchanged_seeds_left_out and (build.success or build.results):
            seeds = [uid for uid, node in self.manifest["nodes"].items() if node["resource_type"] == "seed"]
            for unique_id in seeds:
                name = self.asset_key(unique_id).to_python_identifier()
                if name in outputs and unique_id not in built:
                    yield dg.Output(
                        None,
                        output_name=name,
                        metadata={"unique_id": unique_id, "status": "unchanged", "rebuilt": False},
                    )


def _node_metadata(result: Any, status: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "unique_id": result.node.unique_id,
        "status": status,
        "rebuilt": True,
        "Execution Duration": round(float(result.execution_time or 0), 3),
    }
    rows = (result.adapter_response or {}).get("rows_affected")
    if isinstance(rows, int) and rows >= 0:
        metadata["rows_affected"] = rows
    return metadata


def _check_result(key: dg.AssetCheckKey, result: Any, status: str) -> dg.AssetCheckResult:
    metadata: dict[str, Any] = {
        "unique_id": result.node.unique_id,
        "status": status,
        "Execution Duration": round(float(result.execution_time or 0), 3),
    }
    if result.failures is not None:
        metadata["dagster_dbt/failed_row_count"] = result.failures
    if status != "pass" and result.message:
        metadata["message"] = str(result.message)[:2000]
    return dg.AssetCheckResult(
        asset_key=key.asset_key,
        check_name=key.name,
        passed=status == "pass",
        severity=dg.AssetCheckSeverity.WARN if status == "warn" else dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
    )
