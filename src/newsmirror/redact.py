"""Secrets in feed URLs never reach anything newsmirror writes or prints.

A feed URL may carry credentials (``https://user:TOKEN@host/feed``) or a secret query parameter
(``?token=…``, ``?api_key=…``).  The archive is public — its ``status.json``, ``status.xml`` and
``status.md`` are pushed — and reports, ``--json`` and logs end up in CI logs, so every URL that
is stored or shown goes through ``redact_url`` (and free text through ``redact_text``): the
secret becomes ``***``.  The state keeps only redacted URLs; ``restore`` puts the configured
URL's secrets back into a stored one before it is fetched (a feed that moved keeps its token).
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit, urlunsplit

MASK: Final = "***"
# Query parameters whose value is a credential (matched on the lower-cased name).
_SECRET_PARAM: Final = re.compile(
    r"(?:^|[_-])(?:token|access[_-]?token|api[_-]?key|apikey|key|secret|client[_-]?secret|password|"
    r"passwd|pwd|auth|authorization|sig|signature|session|sessionid|credential|"
    r"private[_-]?token|x-amz-signature|x-amz-credential)$"
)
_URL_IN_TEXT: Final = re.compile(r"https?://[^\s\"'<>()\[\]]+", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` with its password (or token user name) and secret query values as ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _redact_unparsable(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = "&".join(_redacted_pair(pair) for pair in parts.query.split("&")) if parts.query else ""
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str) -> str:
    """Every http(s) URL inside ``text`` redacted (error messages, notes, log lines)."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group()), text)


def same_url(stored: str | None, configured: str) -> bool:
    """Whether a URL the state stored (redacted) is the configured one."""
    return stored is not None and stored in (configured, redact_url(configured))


def restore(stored: str, configured: str) -> str:
    """``stored`` (redacted) with the configured URL's secrets put back where they were masked.

    A masked part the configured URL has no value for cannot be restored: the configured URL is
    fetched instead (it redirects there again).
    """
    if MASK not in stored:
        return stored
    target, source = urlsplit(stored), urlsplit(configured)
    netloc = target.netloc
    if netloc.startswith(f"{MASK}@"):
        if "@" not in source.netloc:
            return configured
        netloc = source.netloc.rsplit("@", 1)[0] + "@" + netloc.split("@", 1)[1]
    secrets = dict(_split(pair) for pair in source.query.split("&") if pair)
    pairs = []
    for pair in target.query.split("&") if target.query else []:
        name, value = _split(pair)
        if value == MASK:
            if name not in secrets:
                return configured
            value = secrets[name]
        pairs.append(f"{name}={value}" if "=" in pair else name)
    return urlunsplit((target.scheme, netloc, target.path, "&".join(pairs), target.fragment))


def _split(pair: str) -> tuple[str, str]:
    name, _, value = pair.partition("=")
    return name, value


def _redacted_pair(pair: str) -> str:
    name, sep, value = pair.partition("=")
    if sep and value and _SECRET_PARAM.search(name.lower()):
        return f"{name}={MASK}"
    return pair


def _redact_unparsable(url: str) -> str:
    """A URL ``urlsplit`` refuses (an invalid port, brackets): mask everything after the host."""
    scheme, sep, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}{sep}{host}/{MASK}" if sep else MASK
