"""The sandbox: one store, one simulated clock and the four vendors that render and serve it."""

from __future__ import annotations

import json
import logging
import random
import time
from typing import Any

from starlette.requests import Request

from sandbox.settings import SYSTEMS, SandboxSettings
from sandbox.store import Store
from sandbox.vendor import Vendor
from sandbox.world import SIM_NOW, World, generate_world

log = logging.getLogger("sandbox")
META_FILE = "sandbox.json"
REQUESTS = "_requests"


def vendor_classes() -> dict[str, type[Vendor]]:
    from sandbox.vendors.billing import BillingVendor
    from sandbox.vendors.crm import CrmVendor
    from sandbox.vendors.erp import ErpVendor
    from sandbox.vendors.support import SupportVendor

    return {"billing": BillingVendor, "support": SupportVendor, "crm": CrmVendor, "erp": ErpVendor}


class Sandbox:
    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.store: Store = Store(settings.data_dir)
        self.world: World | None = None
        self.vendors: dict[str, Vendor] = {}
        self.generation_seconds = 0.0

    # -- lifecycle ------------------------------------------------------------------------------
    @classmethod
    def open(cls, settings: SandboxSettings, *, fresh: bool = False) -> Sandbox:
        """Generate from (seed, scale), then replay the journal of writes in the data dir.

        A data dir made with another seed or scale is started afresh (its journal would not apply).
        """
        meta_path = settings.data_dir / META_FILE
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        previous = json.loads(meta_path.read_text()) if meta_path.exists() else None
        sb = cls(settings)
        sb._generate()
        if (
            fresh
            or previous is None
            or (previous["seed"], previous["scale"]) != (settings.seed, settings.scale)
        ):
            if previous is not None and not fresh:
                log.warning(
                    "data dir held seed=%s scale=%s; starting afresh", previous["seed"], previous["scale"]
                )
            sb.store.journal_path.unlink(missing_ok=True)
        meta_path.write_text(json.dumps({"seed": settings.seed, "scale": settings.scale}))
        replayed = sb.store.open_journal()
        if replayed:
            log.info("replayed %d journaled writes", replayed)
        return sb

    def _generate(self) -> None:
        started = time.perf_counter()
        seed, scale = self.settings.seed, self.settings.scale
        self.store = Store(self.settings.data_dir)
        self.store.table(REQUESTS, key="seq", indexes=("seq",))
        self.world = generate_world(seed, scale)
        # On reset the running apps keep their vendor objects (and routes): regenerate into them.
        if not self.vendors:
            self.vendors = {name: cls(self) for name, cls in vendor_classes().items()}
        for vendor in self.vendors.values():
            vendor.declare_tables(self.store)
        # Billing renders first: the ERP posts billing's invoices and support mirrors its plans.
        for system in ("billing", "crm", "erp", "support"):
            self.vendors[system].generate(self.world, random.Random(f"{seed}:{system}"))
        self.generation_seconds = time.perf_counter() - started

    def reset(self) -> None:
        """Back to the seed: regenerate and drop every journaled write (faults stay as set)."""
        self.store.close()
        self._generate()
        self.store.journal_path.unlink(missing_ok=True)
        self.store.open_journal()

    def close(self) -> None:
        self.store.close()

    # -- clock ----------------------------------------------------------------------------------
    def now(self) -> int:
        return int(self.store.meta.get("clock", SIM_NOW))

    def advance(self, seconds: int) -> int:
        self.store.set_meta("clock", self.now() + int(seconds))
        return self.now()

    # -- request log ----------------------------------------------------------------------------
    def log_request(
        self, system: str, request: Request, status: int, seconds: float, request_id: str, received_at: float
    ) -> None:
        """One row per write request. `received_at` / `at` are wall-clock seconds (sub-second) when the
        request arrived and when its answer was ready; handlers add details through
        `request.state.log_extra` (a Zendesk bulk job id, the inner requests of an OData `$batch`)."""
        seq = self.store.next_seq("request")
        extra = getattr(request.state, "log_extra", None) or {}
        self.store.put(
            REQUESTS,
            {
                "seq": seq,
                "system": system,
                "method": request.method,
                "path": request.url.path,
                "query": request.url.query,
                "idempotency_key": request.headers.get("idempotency-key"),
                "if_match": request.headers.get("if-match"),
                "correlation_id": request.headers.get("x-correlation-id"),
                "request_id": request_id,
                "status": status,
                "latency_ms": round(seconds * 1000, 2),
                "received_at": received_at,
                "at": time.time(),
                "sim_time": self.now(),
                **extra,
            },
        )

    def requests(self, system: str | None = None, since_seq: int = 0) -> list[dict[str, Any]]:
        rows = self.store[REQUESTS].scan("seq", lower=since_seq + 1)
        return [r for r in rows if system is None or r["system"] == system]

    # -- truth ----------------------------------------------------------------------------------
    def truth(self, name: str) -> Any:
        if name == "customers":
            return [p for v in self.vendors.values() for p in v.truth_parties()]
        if name == "counts":
            return {system: self.vendors[system].counts() for system in SYSTEMS}
        for vendor in self.vendors.values():
            tables = vendor.truth_tables()
            if name in tables:
                return tables[name]()
        raise KeyError(name)

    def truth_names(self) -> list[str]:
        return ["customers", "counts"] + [n for v in self.vendors.values() for n in v.truth_tables()]
