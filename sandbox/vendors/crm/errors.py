"""HubSpot's error envelope: {status: "error", message, correlationId, category[, context]}."""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.vendor import JSONResponse

CATEGORY_BY_STATUS = {
    400: "VALIDATION_ERROR",
    401: "INVALID_AUTHENTICATION",
    403: "MISSING_SCOPES",
    404: "OBJECT_NOT_FOUND",
    405: "VALIDATION_ERROR",
    409: "CONFLICT",
    429: "RATE_LIMITS",
}
AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
    "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
RATE_LIMIT_MESSAGE = "You have reached your ten_secondly_rolling limit."


def category_for(status: int, code: str) -> str:
    """Handlers pass HubSpot categories (VALIDATION_ERROR, ...) as the code; the shared pipeline
    passes its own generic codes, which map by status."""
    if code.isupper():
        return code
    return CATEGORY_BY_STATUS.get(status, "INTERNAL_ERROR" if status >= 500 else "VALIDATION_ERROR")


def error_response(status: int, category: str, message: str, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    if status == 429:
        # What HubSpot adds to its 429s, so clients can tell the burst from the daily limit.
        body.update(message=RATE_LIMIT_MESSAGE, errorType="RATE_LIMIT", policyName="TEN_SECONDLY_ROLLING")
    body.update(extra)
    return JSONResponse(body, status_code=status)


def batch_error(
    category: str, message: str, context: dict[str, list[str]], status: str = "error"
) -> dict[str, Any]:
    """One entry of a batch response's errors[] (StandardError in the official clients)."""
    return {
        "status": status,
        "category": category,
        "message": message,
        "context": context,
        "links": {},
        "errors": [],
    }
