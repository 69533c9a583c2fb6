"""What every destination client shares: the operation it is asked to write, the outcome it reports,
the HTTP client (auth from config, correlation id on every request) and the error classes.

Error classes are never mixed (DESIGN 6): an outcome is `created` / `updated` / `unchanged` (written or
already true), `conflict` (a human changed a field Syncline owns: reported, not overwritten),
`rejected` (the destination said no with a 4xx: DLQ with its own reason), `transient` (still failing
after the retry budget: DLQ, retried on later runs) or `queued` (not attempted: the circuit opened).
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from reverse_etl.resilience import CallStats, CircuitOpenError, Resilience, TransientError

CORRELATION_HEADER = "X-Correlation-Id"
USER_AGENT = "syncline-reverse-etl/0.1"
_correlation: contextvars.ContextVar[str] = contextvars.ContextVar("syncline_sync_correlation", default="")

WRITTEN = ("created", "updated", "unchanged")


def set_correlation_id(value: str) -> contextvars.Token:
    return _correlation.set(value)


def current_correlation_id() -> str:
    return _correlation.get() or f"sync_{uuid.uuid4().hex[:20]}"


@dataclass
class Operation:
    record_key: str
    operation: str  # insert | update
    payload: dict[str, Any]  # destination property -> value, only what this sync may write
    row: dict[str, Any]  # the whole desired-state row (adapters read ids, amounts, lines from it)
    destination_id: str | None = None
    etag: str | None = None
    baseline: dict[str, Any] = field(default_factory=dict)  # what we believe the destination holds
    idempotency_key: str = ""
    resumed: bool = False  # an intent of an earlier run was left behind: look up before creating


@dataclass
class Outcome:
    record_key: str
    status: str  # created | updated | unchanged | conflict | rejected | transient | queued
    http_status: int | None = None
    destination_id: str | None = None
    etag: str | None = None
    message: str | None = None
    attempts: int = 0
    latency_ms: float = 0.0
    written: dict[str, Any] | None = None  # values now in the destination for the payload fields

    @property
    def error_class(self) -> str | None:
        return {"rejected": "rejected", "transient": "transient", "conflict": "conflict"}.get(self.status)


class Destination(Protocol):
    system: str
    batch_size: int

    def apply(self, sync_name: str, operations: list[Operation]) -> list[Outcome]:
        """Write the operations (one batch); one outcome per operation, in any order."""


class DestinationError(Exception):
    """A response the client could not interpret (contract break): the record is rejected with it."""


@dataclass
class HttpDestination:
    """An httpx client bound to one vendor API, sending through the destination's `Resilience`."""

    system: str
    base_url: str
    auth: httpx.Auth | None
    resilience: Resilience
    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 30.0
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(
            base_url=self.base_url.rstrip("/"),
            auth=self.auth,
            headers={"User-Agent": USER_AGENT, **self.headers},
            timeout=self.timeout_s,
        )

    def request(self, method: str, url: str, stats: CallStats | None = None, **kwargs: Any) -> httpx.Response:
        """One logical request: rate-limited, retried, breaker-guarded; carries the correlation id."""
        headers = {CORRELATION_HEADER: current_correlation_id(), **kwargs.pop("headers", {})}
        return self.resilience.call(
            lambda: self.client.request(method, url, headers=headers, **kwargs), stats
        )

    def close(self) -> None:
        self.client.close()


def guarded(operation: Operation, write: Callable[[CallStats], Outcome]) -> Outcome:
    """Run one operation's write and turn resilience failures into outcomes (the circuit propagates)."""
    import time

    stats = CallStats()
    started = time.perf_counter()
    try:
        outcome = write(stats)
    except TransientError as exc:
        outcome = Outcome(operation.record_key, "transient", http_status=exc.status, message=str(exc))
    except DestinationError as exc:
        outcome = Outcome(operation.record_key, "rejected", message=str(exc))
    except CircuitOpenError:
        raise
    outcome.attempts = outcome.attempts or (1 + stats.retries)
    outcome.latency_ms = round((time.perf_counter() - started) * 1000, 2)
    return outcome


def apply_one_by_one(
    operations: list[Operation], write: Callable[[Operation, CallStats], Outcome]
) -> list[Outcome]:
    """For APIs without a usable batch call: each operation in turn; the rest is queued if the
    circuit opens."""
    outcomes: list[Outcome] = []
    for index, operation in enumerate(operations):
        try:
            outcomes.append(guarded(operation, lambda stats, op=operation: write(op, stats)))
        except CircuitOpenError as exc:
            outcomes.extend(Outcome(op.record_key, "queued", message=str(exc)) for op in operations[index:])
            break
    return outcomes


def error_text(response: httpx.Response) -> str:
    """The destination's own reason, as it said it (bodies are small error envelopes)."""
    return f"{response.status_code} {response.text[:500]}"
