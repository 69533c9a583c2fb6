"""Blocking pandera gates on the golden and outbound tables, and the outbound batches they guard.

Each gate is a blocking `@asset_check`: a table-level failure (missing/retyped column, duplicate keys,
empty table) fails the check with ERROR severity, and Dagster then skips every asset downstream of it
in the run, i.e. the `outbound/*` batches that the reverse ETL sends. Row-level failures are written to
`quality.quarantine` with the rule and reason; the check passes with a WARN and the outbound batch
leaves those rows out.
"""

import dagster as dg

from orchestration.defs.ingestion import WAREHOUSE_WRITER_POOL
from quality.gates import run_gate
from quality.outbound import build_outbound_batch
from quality.registry import GATES, OUTBOUND, Gate
from warehouse import Warehouse


def _gate_check(gate: Gate) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey([gate.schema_name, gate.table]),
        name="pandera_gate",
        blocking=True,
        description=f"pandera schema for {gate.table}: table-level failures block the syncs; bad rows are quarantined.",
        pool=WAREHOUSE_WRITER_POOL,
    )
    def _check() -> dg.AssetCheckResult:
        result = run_gate(Warehouse.from_env(), gate.schema(), gate.schema_name, gate.table, gate.key)
        return dg.AssetCheckResult(
            passed=result.passed,
            severity=dg.AssetCheckSeverity.ERROR if not result.passed else dg.AssetCheckSeverity.WARN,
            metadata={
                "rows": result.rows,
                "quarantined_rows": len(result.quarantined_keys),
                "table_failures": dg.MetadataValue.json(result.table_failures),
                "rules_broken": dg.MetadataValue.json(sorted(set(result.quarantine["rule"].astype(str)))),
            },
            description="; ".join(result.table_failures) or None,
        )

    return _check


def _outbound_asset(model: str, reads: tuple[str, ...], key: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=["outbound", model],
        deps=[dg.AssetKey(["marts", model]), *(dg.AssetKey(["marts", table]) for table in reads)],
        group_name="outbound",
        kinds={"python", "duckdb"},
        description=f"The batch the reverse ETL sends: {model} minus quarantined rows (skipped when a gate fails).",
        pool=WAREHOUSE_WRITER_POOL,
    )
    def _asset() -> dg.MaterializeResult:
        batch = build_outbound_batch(Warehouse.from_env(), model, key)
        return dg.MaterializeResult(
            metadata={
                "rows": batch.rows,
                "quarantined_excluded": batch.excluded,
                "operations": dg.MetadataValue.json(batch.operations),
            }
        )

    return _asset


def quality_defs() -> dg.Definitions:
    return dg.Definitions(
        asset_checks=[_gate_check(gate) for gate in GATES],
        assets=[_outbound_asset(model, reads, key) for model, (reads, key) in OUTBOUND.items()],
    )
