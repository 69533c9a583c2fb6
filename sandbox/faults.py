"""Fault injection per system: outages, latency, 5xx rates, 429 quotas, malformed bodies.

Configured at runtime through `POST /_admin/faults`; randomness is seeded so a test that injects a
20% error rate sees the same sequence every run.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

MALFORMED_MODES = ("truncate", "rename_field", "retype_field")


@dataclass
class FaultConfig:
    outage: bool = False
    latency_ms: int = 0
    error_rate: float = 0.0  # share of requests answered with `error_status`
    error_status: int = 503
    rate_limit_quota: int | None = None  # requests per window before 429
    rate_limit_window_s: float = 10.0
    malformed: str | None = None  # one of MALFORMED_MODES
    malformed_field: str | None = None  # field to rename/retype (default: vendor's choice)
    malformed_rate: float = 1.0
    path_prefix: str = ""  # only requests whose path starts with this are affected
    job_stage_ms: int = 250  # async bulk jobs (Zendesk job_status) spend this long queued, then working
    seed: int = 0

    @classmethod
    def parse(cls, body: dict[str, Any]) -> FaultConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(body) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}; known: {sorted(known)}")
        config = cls(**body)
        if config.malformed is not None and config.malformed not in MALFORMED_MODES:
            raise ValueError(f"malformed must be one of {MALFORMED_MODES}")
        if not 0 <= config.error_rate <= 1 or not 0 <= config.malformed_rate <= 1:
            raise ValueError("rates must be between 0 and 1")
        return config


@dataclass
class FaultState:
    config: FaultConfig = field(default_factory=FaultConfig)
    rng: random.Random = field(default_factory=random.Random)
    window_start: float = 0.0
    window_count: int = 0
    injected: dict[str, int] = field(default_factory=dict)

    def configure(self, config: FaultConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.window_start, self.window_count = time.monotonic(), 0
        self.injected = {}

    def applies(self, path: str) -> bool:
        return path.startswith(self.config.path_prefix)

    def count(self, kind: str) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1

    def rate_limit(self) -> tuple[bool, int, int, float]:
        """-> (limited, quota, remaining, seconds until the window resets)."""
        quota = self.config.rate_limit_quota
        now = time.monotonic()
        window = self.config.rate_limit_window_s
        if now - self.window_start >= window:
            self.window_start, self.window_count = now, 0
        reset = max(0.0, window - (now - self.window_start))
        if quota is None:
            return False, 0, 0, reset
        self.window_count += 1
        remaining = max(0, quota - self.window_count)
        return self.window_count > quota, quota, remaining, reset

    def describe(self) -> dict[str, Any]:
        return {"config": asdict(self.config), "injected": dict(self.injected)}


def first_record_list(body: Any) -> list[dict] | None:
    """The list of records in a vendor envelope (data / value / results / tickets / ...)."""
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                return value
    return None


def malform(body_bytes: bytes, parsed: Any, mode: str, field_name: str | None) -> bytes:
    """Corrupt a JSON response the way real APIs occasionally do."""
    import orjson

    if mode == "truncate":
        return body_bytes[: max(1, len(body_bytes) // 2)]
    records = first_record_list(parsed)
    if not records:
        return body_bytes
    target = field_name or next(
        (k for k, v in records[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)), None
    )
    target = target or next(iter(records[0]))
    for record in records:
        if target not in record:
            continue
        if mode == "rename_field":
            record[f"{target}_v2"] = record.pop(target)
        elif mode == "retype_field":
            value = record[target]
            if isinstance(value, str):
                record[target] = 12345
            elif isinstance(value, (int, float)):
                record[target] = f"{value} units"
            else:
                record[target] = "corrupted"
    return orjson.dumps(parsed)
