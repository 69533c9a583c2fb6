"""Quality gates: pandera schemas for the golden and outbound tables, row quarantine, table verdicts."""
