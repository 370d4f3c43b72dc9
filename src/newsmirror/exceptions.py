"""The whole error tree of newsmirror: one root, resource-keyed subclasses.

Every error that crosses a stage boundary is one of these, chained to its
cause (``raise ... from e``).  Each carries a stable ``code`` that reports and
``--json`` output use, so that scripts can match on it.
"""

from __future__ import annotations

from datetime import datetime

from .redact import redact_text, redact_url


class NewsmirrorError(Exception):
    """Root of every error newsmirror raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConfigError(NewsmirrorError):
    """The sources file or a setting is invalid."""

    code = "config_error"


class SourceError(NewsmirrorError):
    """A failure that belongs to one source (names it in the message)."""

    def __init__(self, slug: str, message: str, *, code: str | None = None) -> None:
        super().__init__(f"{slug}: {message}", code=code)
        self.slug = slug
        self.reason = message


class FetchError(SourceError):
    """A URL could not be fetched (network, HTTP status, size, time)."""

    code = "fetch_error"

    def __init__(self, slug: str, url: str, message: str, *, code: str | None = None) -> None:
        # a feed URL's credentials must not reach a report, a log or the public archive
        shown = redact_url(url)
        super().__init__(slug, f"{redact_text(message)} ({shown})", code=code)
        self.url = shown
        self.retry_at: datetime | None = None
        """When the server asked to be tried again (``Retry-After`` of a 429 or 503)."""


class ParseError(SourceError):
    """A fetched document is not a feed we can read."""

    code = "parse_error"


class ItemError(SourceError):
    """One feed item cannot be archived; the rest of the source goes on."""

    code = "bad_item"


class StorageError(NewsmirrorError):
    """The archive on disk is unreadable, inconsistent or not writable."""

    code = "storage_error"


class ArchiveLockedError(StorageError):
    """Another run holds the archive's lock."""

    code = "locked"


class RenderError(NewsmirrorError):
    """A page or file could not be rendered."""

    code = "render_error"


class PublishError(NewsmirrorError):
    """git commit or push failed."""

    code = "publish_error"


class InstallError(NewsmirrorError):
    """What an archive installs (newsmirror's wheel, the lock) cannot be found or made."""

    code = "install_error"
