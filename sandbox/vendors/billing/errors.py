"""Stripe's error envelope: {"error": {type, code, message, param?, doc_url?}} and its status codes."""

from __future__ import annotations

from sandbox.vendor import JSONResponse

DOCS = "https://stripe.com/docs/error-codes"
NO_KEY_MESSAGE = (
    "You did not provide an API key. You need to provide your API key in the Authorization header, "
    "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication "
    "for details, or we can help at https://support.stripe.com/."
)


class StripeError(Exception):
    """Raised by handlers; rendered by `error_response` in Stripe's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param


def error_response(
    status: int,
    message: str,
    *,
    type_: str,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict = {"type": type_, "message": message}
    if code:
        body["code"] = code
        body["doc_url"] = f"{DOCS}#{code.replace('_', '-')}"
    if param:
        body["param"] = param
    response = JSONResponse({"error": body}, status_code=status, headers=headers)
    if status == 429 or status >= 500:
        response.headers["Stripe-Should-Retry"] = "true"
    return response


def from_exception(exc: StripeError) -> JSONResponse:
    return error_response(exc.status, exc.message, type_=exc.type, code=exc.code, param=exc.param)


def invalid(
    message: str, param: str | None = None, code: str | None = None, status: int = 400
) -> StripeError:
    return StripeError(status, message, code=code, param=param)


def missing(label: str, object_id: str, param: str | None = None) -> StripeError:
    return StripeError(404, f"No such {label}: '{object_id}'", code="resource_missing", param=param)


def unknown_parameter(name: str) -> StripeError:
    return StripeError(400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name)


def masked_key(key: str) -> str:
    """sk_test_syncline -> sk_test_****line, as Stripe shows a wrong key."""
    if len(key) <= 12:
        return key[:3] + "*" * max(0, len(key) - 7) + key[-4:]
    return key[:8] + "*" * (len(key) - 12) + key[-4:]
