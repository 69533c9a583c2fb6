"""A vendor refusing the credentials fails at once, naming the setting to fix and never the secret."""

from __future__ import annotations

import pytest
from requests import HTTPError

from ingestion.errors import CredentialsRejectedError, find_cause
from sandbox.client import SandboxAdmin

WRONG_SECRET = "wrong-secret-zqxwv"
# Stripe echoes a refused key masked, `wrong-se*******qxwv`: neither piece may show either.
SECRET_PIECES = (WRONG_SECRET, WRONG_SECRET[:8], WRONG_SECRET[-4:])
# (system, credential to spoil, env var the error must name)
SPOILED = [
    ("billing", "api_key", "SOURCES__BILLING__API_KEY"),
    ("support", "token", "SOURCES__SUPPORT__TOKEN"),
    ("crm", "access_token", "SOURCES__CRM__ACCESS_TOKEN"),
    ("erp", "access_token", "SOURCES__ERP__ACCESS_TOKEN"),
]


def _messages(exc: BaseException | None) -> str:
    """Every message of the exception chain (what a log or a trace would show)."""
    texts, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        texts.append(f"{type(exc).__name__}: {exc}")
        exc = exc.__cause__ or exc.__context__
    return "\n".join(texts)


@pytest.mark.parametrize(("system", "key", "env_var"), SPOILED)
def test_wrong_credentials_name_the_setting_not_the_secret(
    run, fresh_sandbox: SandboxAdmin, system: str, key: str, env_var: str
) -> None:
    with pytest.raises(Exception) as failure:
        run(system, config={key: WRONG_SECRET})
    error = find_cause(failure.value, CredentialsRejectedError)
    assert error is not None, _messages(failure.value)
    assert error.status == 401 and error.source == system
    assert env_var in str(error) and f"sources.{system}.{key}" in str(error)
    assert find_cause(error, HTTPError).response.status_code == 401
    messages = _messages(failure.value)
    assert not [piece for piece in SECRET_PIECES if piece in messages], messages
