"""The `operations/kpis` asset (after the KPI marts and the syncs, so part of `full_pipeline`): the
seven business KPIs as numeric metadata (the Dagster UI plots them over materializations) and a
markdown table; every measurement is also appended to `ops.kpi_history`. Freshness policies on raw
and golden tables live in `orchestration/freshness.py`."""

import dagster as dg

from reverse_etl.syncs import SYNCS

KPI_MARTS = (
    "kpi_duplicate_customers",
    "kpi_invoice_exceptions",
    "kpi_entitlement_accuracy",
    "invoice_reconciliation",
)


@dg.asset(
    key=["operations", "kpis"],
    group_name="operations",
    kinds={"python"},
    metadata={
        "history": "ops.kpi_history (the ops store: `syncline status` prints where)",
        "kpi_marts": dg.MetadataValue.json([f"marts.{m}" for m in KPI_MARTS]),
    },
    deps=[dg.AssetKey(["marts", m]) for m in KPI_MARTS] + [dg.AssetKey(["reverse_etl", s]) for s in SYNCS],
    description="The seven business KPIs (sync latency p50/p95 per sync and journey, failed transaction "
    "rate, manual reconciliation volume, duplicate customer rate, invoice exception rate, support "
    "entitlement accuracy, mean time to detect / resolve) over the last day; history in ops.kpi_history.",
)
def kpis() -> dg.MaterializeResult:
    from operations.kpis import measure_kpis

    measured = measure_kpis()
    metadata: dict[str, dg.MetadataValue] = {
        k.label: dg.MetadataValue.float(float(k.value)) for k in measured if k.value is not None
    }
    lines = ["| KPI | scope | value | unit | n |", "|---|---|---|---|---|"]
    lines += [f"| {k.kpi} | {k.scope} | {k.value} | {k.unit} | {k.sample_size or ''} |" for k in measured]
    metadata["kpis"] = dg.MetadataValue.md("\n".join(lines))
    return dg.MaterializeResult(metadata=metadata)


def observability_defs() -> dg.Definitions:
    return dg.Definitions(assets=[kpis])
