"""Is this feed item an article the archive already has?  Pure helpers for ``decide``.

Feeds get identity wrong in ways that would lose articles or duplicate them, so a guid or
link is a *hint*, confirmed by the content:

* **Links are compared by a key**, not as served: the scheme (a site that moves to https),
  tracking parameters (``utm_*``, ``fbclid`` …), a trailing slash and the host's case do not
  make a new article.  The file keeps the link exactly as the feed served it.
* **A match must be the same story.**  Guids that are feed positions (``item-0`` … reused by
  the next articles), a constant guid, or one link shared by every item (a live blog whose
  link is the home page) would make new articles look known.  An item matched by guid or
  link is the same article only when its title, or failing that its body, is close to the
  archived one's — edits (a corrected title, an updated body) keep the match, an unrelated
  article does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

from selectolax.lexbor import LexborHTMLParser

# Query parameters that only say where a click came from (analytics, ads, newsletters).
_TRACKING_PREFIXES: Final = ("utm_", "hmsr", "spm", "_hs", "mtm_", "pk_")
_TRACKING_NAMES: Final = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gclsrc",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref_src",
        "cmpid",
        "ocid",
        "at_medium",
        "at_campaign",
        "wt.mc_id",
    }
)
_URLISH = re.compile(r"^https?://", re.IGNORECASE)

# A CJK character, or a run of letters/digits of another script (a word).
_TOKENS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]|[^\W_]+")
_CJK_START = "\u3400"
TITLE_SIMILAR: Final = 0.6
"""Dice similarity of title tokens at or above which two titles are the same story."""
BODY_SIMILAR: Final = 0.5
BODY_CONTAINED: Final = 0.8
"""An excerpt (a feed's summary) whose tokens are this much inside the archived full text."""
_BODY_CHARS: Final = 6000


def link_key(link: str) -> str:
    """The form of ``link`` that identity compares: no scheme, no tracking, no trailing slash.

    Links reach here already serialised as WHATWG URLs (``transform.urls``, and the archive's
    files), so plain string steps suffice: no parse per link on every run over the whole index.
    """
    scheme, sep, rest = link.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return link
    rest, hash_sep, fragment = rest.partition("#")
    rest, _, query = rest.partition("?")
    authority, slash, path = rest.partition("/")
    key = f"//{authority.lower()}{slash}{path}".rstrip("/") + _without_tracking(query)
    return key + hash_sep + fragment


def guid_key(guid: str) -> str:
    """A guid that is a URL is compared like a link (guid = link feeds that move to https)."""
    return link_key(guid) if _URLISH.match(guid) else guid


def _without_tracking(query: str) -> str:
    if not query:
        return ""
    kept = [p for p in query.split("&") if p and not _is_tracking(p.split("=", 1)[0].lower())]
    return "?" + "&".join(kept) if kept else ""


def _is_tracking(name: str) -> bool:
    return name in _TRACKING_NAMES or name.startswith(_TRACKING_PREFIXES)


@lru_cache(maxsize=4096)  # titles are compared against several archived ones
def tokens(text: str) -> frozenset[str]:
    """CJK character bigrams plus words of other scripts, lower-cased."""
    found = _TOKENS.findall(text.lower())
    result: set[str] = set()
    previous = ""
    for token in found:
        is_cjk = len(token) == 1 and token >= _CJK_START
        if not is_cjk:
            result.add(token)
            previous = ""
            continue
        result.add(previous + token if previous else token)
        previous = token
    return frozenset(result)


def dice(a: Iterable[str], b: Iterable[str]) -> float:
    first, second = set(a), set(b)
    if not first or not second:
        return 0.0
    return 2 * len(first & second) / (len(first) + len(second))


def contained(part: frozenset[str], whole: frozenset[str]) -> float:
    """How much of the smaller token set is inside the larger one."""
    small, large = (part, whole) if len(part) <= len(whole) else (whole, part)
    if not small:
        return 0.0
    return len(small & large) / len(small)


def same_title(a: str, b: str) -> bool:
    if a.strip() == b.strip():
        return True
    return dice(tokens(a), tokens(b)) >= TITLE_SIMILAR


def same_body(a: str, b: str) -> bool:
    """Bodies (HTML) that tell the same story: similar, or one an excerpt of the other."""
    first, second = tokens(body_text(a)), tokens(body_text(b))
    if not first or not second:
        return False
    return dice(first, second) >= BODY_SIMILAR or contained(first, second) >= BODY_CONTAINED


def body_text(html: str) -> str:
    """The readable text of a body (the first few thousand characters are enough to compare)."""
    if "<" not in html and "&" not in html:
        return html[:_BODY_CHARS]
    text = LexborHTMLParser(html[: _BODY_CHARS * 4]).text(separator=" ")
    return text[:_BODY_CHARS]
