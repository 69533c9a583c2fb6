"""Blocking pandera gates on the golden tables and the sync models the reverse ETL sends.

Each gate is a blocking `@asset_check`: a table-level failure (missing/retyped column, duplicate keys,
empty table) fails the check with ERROR severity, and Dagster then skips every asset downstream of it
in the run, i.e. the `reverse_etl/*` syncs that would send it. Row-level failures are written to
`quality.quarantine` with the rule and reason; the check passes with a WARN and the sync leaves those
rows out (it applies the same schema before sending).
"""

import dagster as dg

from orchestration.defs.ingestion import WAREHOUSE_WRITER_POOL
from quality.gates import run_gate
from quality.registry import GATES, Gate
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
        result = run_gate(
            Warehouse.from_env(),
            gate.schema(),
            gate.schema_name,
            gate.table,
            gate.key,
            min_rows=gate.min_rows,
        )
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


def quality_defs() -> dg.Definitions:
    return dg.Definitions(
        asset_checks=[_gate_check(gate) for gate in GATES],
    )
