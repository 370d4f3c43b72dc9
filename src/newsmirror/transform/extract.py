"""Full text: the inner HTML of one element of an article page.

Pages are parsed and re-serialised by an HTML5 parser (lexbor, via selectolax), as jsdom did
for the original: quotes normalised, void elements without ``/``, entities decoded except
``&nbsp;``, mis-nested markup repaired.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser


class NoMatch(LookupError):
    """The selector matched nothing on the page."""


def selector_error(selector: str) -> str | None:
    """Why ``selector`` is no CSS selector lexbor can use, or None (checked when the sources
    file is read, not on every article of every run)."""
    try:
        LexborHTMLParser("<p></p>").css_first(selector)
    except Exception as e:  # selectolax raises its own SelectolaxError (not importable typed)
        return str(e) or type(e).__name__
    return None


def inner_html(page: str, selector: str) -> str:
    """The serialised children of the first element matching ``selector``."""
    node = LexborHTMLParser(page).css_first(selector)
    if node is None:
        raise NoMatch(f"no element matches {selector!r}")
    return node.inner_html or ""
