"""Links: resolve against the feed URL and serialise as a WHATWG URL (``new URL(x).href``)."""

from __future__ import annotations

import ada_url

ALLOWED_SCHEMES = ("http:", "https:")


class BadLink(ValueError):
    """The link cannot be made into an http(s) URL."""


def normalize_link(raw: str, base: str) -> str:
    """The WHATWG serialisation of ``raw`` resolved against ``base``.

    Absolute links come out exactly as ``new URL(raw).href`` did in the original; relative
    ones are resolved against the feed's URL instead of failing.  Schemes other than http(s)
    (``javascript:``, ``data:``) are refused: an archive link must be a page.
    """
    if "\x00" in raw:
        raise BadLink("link contains a NUL character")
    try:
        url = ada_url.URL(raw, base)
    except ValueError as e:
        raise BadLink(f"not a valid URL: {raw[:200]!r}") from e
    if url.protocol not in ALLOWED_SCHEMES:
        raise BadLink(f"unsupported link scheme {url.protocol!r}")
    return str(url.href)
