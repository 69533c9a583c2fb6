"""Ingestion errors that say which source, resource and page failed (never a bare KeyError)."""

from __future__ import annotations


class IngestionError(RuntimeError):
    """Base class: a source could not be read completely; what was loaded before stays intact."""


class MalformedPageError(IngestionError):
    """A page was not valid JSON, or its records broke the resource's contract (schema drift)."""

    def __init__(self, source: str, resource: str, page: int, url: str, detail: str) -> None:
        self.source, self.resource, self.page, self.url, self.detail = source, resource, page, url, detail
        super().__init__(f"{source}.{resource}: malformed page {page} ({url}): {detail}")


class SourceUnavailableError(IngestionError):
    """The vendor kept failing (outage, 5xx, 429) after every retry."""

    def __init__(self, source: str, resource: str, page: int, url: str, detail: str) -> None:
        self.source, self.resource, self.page, self.url = source, resource, page, url
        super().__init__(f"{source}.{resource}: unavailable at page {page} ({url}): {detail}")


def find_cause(exc: BaseException | None, kind: type[BaseException]) -> BaseException | None:
    """dlt wraps source errors (PipelineStepFailed, ResourceExtractionError): find ours inside."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


class SettingMissingError(IngestionError):
    """A connection setting is set nowhere (env, `.dlt/secrets.toml`, `.dlt/config.toml`)."""

    def __init__(self, path: str, how_to_set: str) -> None:
        self.path = path
        super().__init__(f"{path} is not set: set {how_to_set}")


class CredentialsRejectedError(IngestionError):
    """The vendor refused the credentials (401) or their permissions (403): retrying cannot help.

    The message names the settings to fix and never the secret itself."""

    def __init__(
        self, source: str, resource: str, status: int, url: str, detail: str, settings: list[str]
    ) -> None:
        self.source, self.resource, self.status, self.url, self.settings = (
            source,
            resource,
            status,
            url,
            settings,
        )
        refusal = (
            "refused the credentials"
            if status == 401
            else "accepted the credentials but refused access (missing permission or scope)"
        )
        super().__init__(
            f"{source}.{resource}: the vendor {refusal}, HTTP {status} ({url}): {detail}. "
            f"Check {'; '.join(settings)}"
        )
