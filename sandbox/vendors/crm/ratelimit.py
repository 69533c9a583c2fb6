"""HubSpot's X-HubSpot-RateLimit-* headers: a private app's burst (per 10 s), secondly and daily quotas.

The sandbox counts the requests it serves so the remaining numbers are real; it only refuses
requests when a quota is injected through the fault API (the shared pipeline decides that).
"""

from __future__ import annotations

import time
from collections import deque

BURST_MAX = 100
BURST_INTERVAL_MS = 10_000
SECONDLY_MAX = 10
DAILY_MAX = 250_000


class RateLimitCounter:
    def __init__(self) -> None:
        self._recent: deque[float] = deque()  # monotonic times of requests in the last burst interval
        self._day = 0
        self._day_count = 0

    def record(self) -> None:
        now = time.monotonic()
        self._recent.append(now)
        while self._recent and now - self._recent[0] >= BURST_INTERVAL_MS / 1000:
            self._recent.popleft()
        today = int(time.time() // 86_400)
        if today != self._day:
            self._day, self._day_count = today, 0
        self._day_count += 1

    def _in_last(self, seconds: float) -> int:
        now = time.monotonic()
        return sum(1 for t in self._recent if now - t < seconds)

    def headers(
        self,
        burst_max: int = BURST_MAX,
        burst_remaining: int | None = None,
        interval_ms: int = BURST_INTERVAL_MS,
    ) -> dict[str, str]:
        if burst_remaining is None:
            burst_remaining = max(0, burst_max - len(self._recent))
        return {
            "X-HubSpot-RateLimit-Daily": str(DAILY_MAX),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, DAILY_MAX - self._day_count)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(interval_ms),
            "X-HubSpot-RateLimit-Max": str(burst_max),
            "X-HubSpot-RateLimit-Remaining": str(burst_remaining),
            "X-HubSpot-RateLimit-Secondly": str(SECONDLY_MAX),
            "X-HubSpot-RateLimit-Secondly-Remaining": str(max(0, SECONDLY_MAX - self._in_last(1.0))),
        }
