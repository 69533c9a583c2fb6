"""Deterministic vendor ids derived from truth keys, so every vendor can name the others' records."""

from __future__ import annotations

import hashlib
import uuid

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=12).digest(), "big")


def stripe_id(prefix: str, key: str) -> str:
    """e.g. stripe_id("in", "I0000001-1-1") -> "in_1Q...", 14 base62 chars like Stripe's."""
    n, chars = _digest(f"{prefix}:{key}"), []
    for _ in range(14):
        n, r = divmod(n, 62)
        chars.append(_ALPHABET[r])
    return f"{prefix}_1{''.join(chars)}"


def numeric_id(key: str, digits: int = 11) -> int:
    """HubSpot / Zendesk style numeric ids."""
    return 10 ** (digits - 1) + _digest(key) % (9 * 10 ** (digits - 1))


def guid(key: str) -> str:
    """Business Central style GUIDs."""
    return str(uuid.UUID(int=_digest(key) << 32 | (_digest(key + "#") & 0xFFFFFFFF)))
