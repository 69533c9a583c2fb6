"""Wiring of the maintained resilience libraries around one HTTP request to a destination.

- **Rate limit** (pyrate-limiter): one bucket per destination quota, in a SQLite file with a file lock,
  so every sync process on this host shares it (two syncs writing to the ERP share the ERP's quota).
- **Retry** (tenacity): exponential backoff with jitter for 5xx, timeouts and dropped connections,
  honouring `Retry-After`; a 429 waits for its `Retry-After` without using up the retry budget (only
  a total wait cap bounds it).
- **Circuit breaker** (pybreaker): consecutive transient failures open the circuit; further calls fail
  fast with `CircuitOpenError`, so the engine stops calling a system that is down, records what it
  could not send as still queued, and ends the run cleanly.

A response that is not transient (2xx, or a 4xx other than 429) is returned to the caller: a 4xx is
the record's problem (rejected), not the system's, and does not count against the breaker.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pybreaker
from pyrate_limiter import Duration, Limiter, Rate, SQLiteBucket
from tenacity import RetryCallState, Retrying, retry_if_exception_type

log = logging.getLogger(__name__)

TRANSIENT_STATUSES = {500, 502, 503, 504}


class TransientError(Exception):
    """A failure worth retrying (5xx, timeout, connection error, 429)."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RateLimitedError(TransientError):
    """429: the destination asks us to wait; does not use up the retry budget nor trip the breaker."""


class CircuitOpenError(Exception):
    """The destination's circuit is open: nothing more is sent to it in this run."""

    def __init__(self, destination: str) -> None:
        super().__init__(f"circuit open for {destination}: it kept failing, the rest stays queued")
        self.destination = destination


@dataclass(frozen=True)
class ResiliencePolicy:
    requests_per_second: float = 20.0
    max_attempts: int = 5  # transient failures per request before giving up (429s not counted)
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 20.0
    max_rate_limit_wait_s: float = 300.0  # total time one request may spend waiting on 429s
    breaker_fail_max: int = 5  # consecutive transient failures that open the circuit
    breaker_reset_s: float = 30.0

    @classmethod
    def from_env(cls, destination: str, default_rps: float) -> ResiliencePolicy:
        """`SYNCLINE_<DESTINATION>_REQUESTS_PER_SECOND`, `..._MAX_ATTEMPTS`, `..._BREAKER_FAIL_MAX`."""
        prefix = f"SYNCLINE_{destination.upper()}_"

        def number(name: str, default: float) -> float:
            raw = os.environ.get(prefix + name)
            return float(raw) if raw else default

        return cls(
            requests_per_second=number("REQUESTS_PER_SECOND", default_rps),
            max_attempts=int(number("MAX_ATTEMPTS", cls.max_attempts)),
            backoff_initial_s=number("BACKOFF_INITIAL_S", cls.backoff_initial_s),
            breaker_fail_max=int(number("BREAKER_FAIL_MAX", cls.breaker_fail_max)),
            breaker_reset_s=number("BREAKER_RESET_S", cls.breaker_reset_s),
        )


def retry_after_seconds(response: httpx.Response) -> float | None:
    """`Retry-After` as seconds (delta or HTTP date), if the response has one."""
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


class _Budget:
    """tenacity stop: transient failures count, 429 waits only against a total wait cap."""

    def __init__(self, policy: ResiliencePolicy) -> None:
        self.policy = policy
        self.failures = 0
        self.rate_limited_wait = 0.0

    def __call__(self, state: RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RateLimitedError):
            return self.rate_limited_wait >= self.policy.max_rate_limit_wait_s
        self.failures += 1
        return self.failures >= self.policy.max_attempts

    def wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        hinted = getattr(error, "retry_after", None)
        if isinstance(error, RateLimitedError):
            delay = hinted if hinted is not None else 1.0
            self.rate_limited_wait += delay
            return delay + random.uniform(0, 0.05)
        backoff = min(
            self.policy.backoff_max_s, self.policy.backoff_initial_s * 2 ** max(0, self.failures - 1)
        )
        delay = max(hinted or 0.0, random.uniform(0, backoff))  # full jitter, never before Retry-After
        return delay


@dataclass
class CallStats:
    requests: int = 0  # logical requests (one per `Resilience.call`)
    attempts: int = 0  # HTTP attempts, retries included
    rate_limited: int = 0

    @property
    def retries(self) -> int:
        return self.attempts - self.requests


class _BreakerLog(pybreaker.CircuitBreakerListener):
    def __init__(self, destination: str, on_change: Callable[[str, str], None] | None) -> None:
        self.destination = destination
        self.on_change = on_change

    def state_change(self, cb, old_state, new_state) -> None:
        log.warning("circuit for %s: %s -> %s", self.destination, old_state.name, new_state.name)
        if self.on_change:
            self.on_change(self.destination, new_state.name)


@dataclass
class Resilience:
    """Rate limiter + retries + circuit breaker for one destination (one per process and destination)."""

    destination: str
    policy: ResiliencePolicy
    limiter_dir: Path
    on_circuit_change: Callable[[str, str], None] | None = None
    breaker: pybreaker.CircuitBreaker = field(init=False)
    limiter: Limiter = field(init=False)

    def __post_init__(self) -> None:
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=self.policy.breaker_fail_max,
            reset_timeout=self.policy.breaker_reset_s,
            exclude=[RateLimitedError],
            listeners=[_BreakerLog(self.destination, self.on_circuit_change)],
            name=self.destination,
        )
        self.limiter_dir.mkdir(parents=True, exist_ok=True)
        rate = _rate(self.policy.requests_per_second)
        bucket = SQLiteBucket.init_from_file(
            [rate],
            table=f"quota_{self.destination}_{rate.limit}_{rate.interval}",
            db_path=str(self.limiter_dir / "rate_limits.sqlite"),
            use_file_lock=True,
        )
        # 5 ms past the window, not the default 50: at a few requests a second the default costs 5% of the quota
        self.limiter = Limiter(bucket, buffer_ms=5)

    @property
    def circuit_open(self) -> bool:
        return self.breaker.current_state == pybreaker.STATE_OPEN

    def call(self, send: Callable[[], httpx.Response], stats: CallStats | None = None) -> httpx.Response:
        """Send with rate limit, retries and breaker; returns the final non-transient response.

        Raises `TransientError` when the budget is spent, `CircuitOpenError` when the circuit is open.
        """
        stats = stats if stats is not None else CallStats()
        stats.requests += 1
        budget = _Budget(self.policy)

        def attempt() -> httpx.Response:
            stats.attempts += 1
            self.limiter.try_acquire(self.destination)
            try:
                response = send()
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                raise TransientError(f"{type(exc).__name__}: {exc}") from exc
            if response.status_code == 429:
                stats.rate_limited += 1
                raise RateLimitedError(
                    "429 rate limited", status=429, retry_after=retry_after_seconds(response)
                )
            if response.status_code in TRANSIENT_STATUSES:
                raise TransientError(
                    f"{response.status_code} {response.text[:200]}",
                    status=response.status_code,
                    retry_after=retry_after_seconds(response),
                )
            return response

        def guarded() -> httpx.Response:
            try:
                return self.breaker.call(attempt)
            except pybreaker.CircuitBreakerError:
                raise CircuitOpenError(self.destination) from None

        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=budget,
            wait=budget.wait,
            reraise=True,
        )
        return retrying(guarded)


def _rate(per_second: float) -> Rate:
    """A pyrate Rate from requests/second (fractions as N per window, e.g. 0.5/s -> 1 per 2 s)."""
    if per_second >= 1:
        return Rate(int(round(per_second)), Duration.SECOND)
    return Rate(1, int(Duration.SECOND * (1 / per_second)))
