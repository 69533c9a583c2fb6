"""General-purpose party matcher: deterministic keys first, then Splink, then stable golden ids.

Plain Python (no Dagster, no dbt). The single entry point is `identity.match.match_parties`;
it is imported lazily so `import identity.schema` stays light (no Splink import).
"""

from __future__ import annotations

from typing import Any

__all__ = ["MatchResult", "match_parties"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from identity import match

        return getattr(match, name)
    raise AttributeError(f"module 'identity' has no attribute {name!r}")
