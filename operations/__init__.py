"""Operating the syncs: alerts, the billing event feed, status and tracing. Plain Python (no Dagster);
`orchestration/defs/operations.py` wires it into sensors and jobs, `syncline status|trace|events` into
the terminal."""
