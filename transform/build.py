"""The full transformation outside Dagster: dbt (pre-identity) -> identity -> dbt (marts) -> publish."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from transform.dbt_cli import POST_IDENTITY_SELECTION, PRE_IDENTITY_SELECTION
from transform.dbt_session import DbtBuildFailed, DbtSession
from transform.identity_step import IdentityRun, resolve_identities
from transform.publish import publish_read_copy
from warehouse import Warehouse

__all__ = ["DbtBuildFailed", "TransformRun", "targeted_transform", "transform"]


@dataclass
class TransformRun:
    identity: IdentityRun | None = None
    dbt_results: dict[str, int] = field(default_factory=dict)  # status -> count
    published: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # step -> wall time
    node_seconds: dict[str, float] = field(default_factory=dict)  # dbt node -> execution time

    @property
    def dbt_seconds(self) -> float:
        return sum(s for step, s in self.seconds.items() if step.startswith("dbt"))


def transform(
    warehouse: Warehouse | None = None,
    *,
    full_refresh: bool = False,
    publish: bool = True,
    progress: Callable[[str], None] | None = None,
) -> TransformRun:
    warehouse = warehouse or Warehouse.from_env()
    say = progress or (lambda message: None)
    dbt = DbtSession(warehouse, progress=say)
    run = TransformRun(seconds=dbt.seconds, node_seconds=dbt.node_seconds)
    say("dbt: loading the project ...")
    dbt.parse()
    _merge(run.dbt_results, dbt.build("dbt pre-identity", PRE_IDENTITY_SELECTION, full_refresh=full_refresh))
    say("identity resolution ...")
    run.identity = resolve_identities(warehouse, progress=say)
    run.seconds["identity"] = run.identity.seconds
    _merge(run.dbt_results, dbt.build("dbt marts", POST_IDENTITY_SELECTION, full_refresh=full_refresh))
    dbt.remember_build()
    if publish:
        started = time.perf_counter()
        published = publish_read_copy(warehouse)
        run.published = str(published) if published else None
        run.seconds["publish"] = time.perf_counter() - started
    return run


def targeted_transform(
    warehouse: Warehouse, select: list[str], *, progress: Callable[[str], None] | None = None
) -> TransformRun:
    """Only the selected models (with their tests), no identity step, then publish: the event path's
    rebuild when the change cannot create or merge customers (identity stays as the last full build
    left it). The hourly pipeline rebuilds everything."""
    say = progress or (lambda message: None)
    dbt = DbtSession(warehouse, progress=say)
    run = TransformRun(seconds=dbt.seconds, node_seconds=dbt.node_seconds)
    dbt.parse()
    _merge(run.dbt_results, dbt.build("dbt targeted", select))
    started = time.perf_counter()
    published = publish_read_copy(warehouse)
    run.published = str(published) if published else None
    run.seconds["publish"] = time.perf_counter() - started
    return run


def _merge(total: dict[str, int], part: dict[str, int]) -> None:
    for key, value in part.items():
        total[key] = total.get(key, 0) + value
