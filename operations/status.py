"""The state of the syncs at a glance: does each system answer, what waits in the DLQ and in intents,
the ledger by status, the last run of each sync, open alerts, the KPIs of the last day."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from reverse_etl.state import OpsStore, dlq, intents, ledger
from reverse_etl.syncs import SYNCS
from warehouse import Warehouse


def collect_status(warehouse: Warehouse | None = None, connections: dict | None = None) -> dict[str, Any]:
    from operations.alerts import open_alerts
    from reverse_etl.destinations import probe

    warehouse = warehouse or Warehouse.from_env()
    store = OpsStore.for_warehouse(warehouse)
    try:
        with store.engine.connect() as con:
            dlq_open = dict(
                con.execute(
                    sa.select(dlq.c.sync_name, sa.func.count())
                    .where(dlq.c.status == "open")
                    .group_by(dlq.c.sync_name)
                ).all()
            )
            pending = dict(
                con.execute(
                    sa.select(intents.c.sync_name, sa.func.count()).group_by(intents.c.sync_name)
                ).all()
            )
            by_status = dict(
                con.execute(sa.select(ledger.c.status, sa.func.count()).group_by(ledger.c.status)).all()
            )
            last_runs = []
            for name in SYNCS:
                run_id = con.execute(
                    sa.select(ledger.c.run_id)
                    .where(ledger.c.sync_name == name)
                    .order_by(ledger.c.ledger_id.desc())
                    .limit(1)
                ).scalar()
                if run_id is None:
                    continue
                rows = con.execute(
                    sa.select(ledger.c.status, sa.func.count(), sa.func.max(ledger.c.recorded_at))
                    .where(ledger.c.sync_name == name, ledger.c.run_id == run_id)
                    .group_by(ledger.c.status)
                ).all()
                summary: dict[str, Any] = {"sync_name": name, "run_id": run_id}
                summary.update({status: count for status, count, _ in rows})
                summary["finished_at"] = max(at for _, _, at in rows)
                last_runs.append(summary)
        systems = {}
        for system in sorted({s.destination for s in SYNCS.values()}):
            names = [s.name for s in SYNCS.values() if s.destination == system]
            systems[system] = {
                "answers": probe(system, (connections or {}).get(system)),
                "dlq_open": sum(dlq_open.get(n, 0) for n in names),
                "intents": sum(pending.get(n, 0) for n in names),
            }
        from operations.kpis import measure_kpis

        return {
            "ops_store": store.describe(),
            "kpis": [k.__dict__ for k in measure_kpis(warehouse, record=False)],
            "systems": systems,
            "ledger": by_status,
            "last_runs": last_runs,
            "alerts": open_alerts(store),
        }
    finally:
        store.close()
