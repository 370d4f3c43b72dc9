"""Is this feed item an article the archive already has?  Pure helpers for ``decide``.

Feeds get identity wrong in ways that would lose articles or duplicate them, so a guid or
link is a *hint*, confirmed by the content:

* **Links are compared by a key**, not as served: the scheme (a site that moves to https),
  tracking parameters (``utm_*``, ``fbclid`` …), a trailing slash and the host's case do not
  make a new article.  The file keeps the link exactly as the feed served it.
* **A match must be the same story.**  Guids that are feed positions (``item-0`` … reused by
  the next articles), a constant guid, or one link shared by every item (a live blog whose
  link is the home page) would make new articles look known.  So the evidence is weighed
  (``Identity.look_up``):

  1. the same title, the same guid and the same link: the same article, nothing read (a
     feed without guids has its bodies compared: a daily "每日简报" under one link);
  2. the same WordPress post number (``?p=``) in a ``post-id`` source: the same article;
  3. bodies, when both have enough text to tell (not a one-line "read more", and not a
     ``fulltext`` source, whose archived body is the page and the feed's only an excerpt):
     the same text — edited, extended, or one an excerpt of the other — is the same article,
     different text is a different one, whatever the titles say (a daily "每日简报");
  4. else the titles: mostly the same words is the same article (a corrected title).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from selectolax.lexbor import LexborHTMLParser

from .types import Candidate, Known, Source

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
TITLE_SIMILAR: Final = 0.8
"""Dice similarity of title tokens at or above which two titles are the same story."""
BODY_SIMILAR: Final = 0.5
BODY_CONTAINED: Final = 0.8
"""An excerpt (a feed's summary) whose tokens are this much inside the archived full text."""
_BODY_CHARS: Final = 6000
MIN_BODY_TOKENS: Final = 12
"""Fewer tokens than this ("Continue reading", "点击阅读全文") tell nothing about the story."""
MAX_BODY_CHECKS: Final = 10
"""A link shared by thousands of articles (a live blog's home page) must not read them all."""
_POST_NUMBER = re.compile(r"\?p=(\d{1,18})(?!\d)")


def post_number(guid: str | None) -> int | None:
    """The WordPress post number of a guid (``?p=650486``); None without one, or when it is too
    long to be one (and would make absurd file names)."""
    match = _POST_NUMBER.search(guid or "")
    return int(match.group(1)) if match else None


BodyOf = Callable[[int], str | None]
"""An archived article's body by id (None when there is no such file): read from the store,
and only for a doubtful match."""


def no_body(_article_id: int) -> str | None:
    """``BodyOf`` of an archive whose bodies are not to be read."""
    return None


@dataclass(frozen=True, slots=True)
class Story:
    """What a match is weighed against: an archived article, or an earlier item of this feed."""

    id: int
    """The article id, or the item's position in the feed."""
    title: str
    guid: str | None
    link: str
    body: str | None = None
    """An item's body; None for an archived article (read with ``body_of`` only when needed)."""
    readable: bool = False
    """An archived article whose body ``body_of(id)`` reads (a legacy file under another name is not)."""
    feed_sha: str | None = None
    """The hash of the feed body an archived article was made from."""

    @property
    def in_feed(self) -> bool:
        return self.body is not None


@dataclass(frozen=True, slots=True)
class Match:
    """The outcome of a look-up: the same story, or only a shared guid or link (a collision)."""

    same: Story | None
    collided: Story | None


@dataclass(slots=True)
class Identity:
    """Stories by guid key and link key (several per key: guids get reused), and the rules that
    confirm a match (see the module docstring)."""

    source: Source
    body_of: BodyOf = field(default=no_body)
    by_key: dict[str, list[Story]] = field(default_factory=dict)

    @classmethod
    def of_archive(cls, source: Source, index: Known, body_of: BodyOf) -> Identity:
        identity = cls(source, body_of)
        for record in index.records.values():
            story = Story(
                record.id, record.title, record.guid, record.link, readable=True, feed_sha=record.feed_sha
            )
            identity.add(story)
        for record in index.legacy:
            identity.add(Story(record.id, record.title, record.guid, record.link))
        return identity

    @classmethod
    def of_feed(cls, source: Source) -> Identity:
        return cls(source)

    def add(self, story: Story) -> None:
        for key in _keys(story.link, story.guid):
            self.by_key.setdefault(key, []).append(story)

    def add_item(self, candidate: Candidate) -> None:
        c = candidate
        self.add(Story(c.position, c.title, c.guid, c.link, c.body_html))

    def look_up(self, candidate: Candidate) -> Match:
        matches = self._matches(candidate)
        for story in matches:  # rule 1 first: it needs no body, and it is the common case
            if story.title == candidate.title and _same_keys(story, candidate):
                return Match(story, None)
        for story in matches[:MAX_BODY_CHECKS]:
            if self._same_story(story, candidate):
                return Match(story, None)
        return Match(None, matches[0] if matches else None)

    def _matches(self, candidate: Candidate) -> list[Story]:
        """Stories sharing the guid (first: the stronger hint) or the link key."""
        found: dict[int, Story] = {}
        for key in _keys(candidate.link, candidate.guid):
            for story in self.by_key.get(key, ()):
                found.setdefault(story.id, story)
        return list(found.values())

    def _same_story(self, story: Story, candidate: Candidate) -> bool:
        if self.source.ids == "post-id":
            number = post_number(candidate.guid)
            if number is not None and number == post_number(story.guid):
                return True
        verdict = self._bodies_verdict(story, candidate)
        return same_title(story.title, candidate.title) if verdict is None else verdict

    def _bodies_verdict(self, story: Story, candidate: Candidate) -> bool | None:
        if story.feed_sha is not None and story.feed_sha == feed_body_hash(candidate.body_html):
            # the very body it was archived from, nothing to read; unless too short to tell
            return True if len(tokens(body_text(candidate.body_html))) >= MIN_BODY_TOKENS else None
        if self.source.fulltext is not None and not story.in_feed:
            return None  # the archived page against the feed's excerpt tells nothing sure
        body = self.body_of(story.id) if story.readable else story.body
        if not body or not candidate.body_html:
            return None
        return bodies_verdict(body, candidate.body_html)


def feed_body_hash(body_html: str) -> str:
    """A short hash of an item's body as the feed gave it."""
    return hashlib.blake2b(body_html.encode("utf-8"), digest_size=10).hexdigest()


def _same_keys(story: Story, candidate: Candidate) -> bool:
    """Both have a guid, and guid and link are the same."""
    if story.guid is None or candidate.guid is None:
        return False
    return _keys(story.link, story.guid) == _keys(candidate.link, candidate.guid)


def identity_keys(link: str, guid: str | None) -> tuple[str, ...]:
    """The keys a story is found by: its guid's (``g …``), then its link's (``l …``)."""
    return _keys(link, guid)


@lru_cache(maxsize=1 << 16)  # a candidate is looked up in the feed, then in the archive
def _keys(link: str, guid: str | None) -> tuple[str, ...]:
    guid_part = (f"g {guid_key(guid)}",) if guid else ()
    return (*guid_part, f"l {link_key(link)}") if link else guid_part


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


def tokens(text: str) -> frozenset[str]:
    """Bigrams of adjacent CJK characters (a lone one as itself) plus words of other scripts,
    lower-cased."""
    result: set[str] = set()
    previous, previous_end = "", -1
    for match in _TOKENS.finditer(text.lower()):
        token = match.group()
        if len(token) > 1 or token < _CJK_START:
            result.add(token)
            previous = ""
            continue
        result.add(previous + token if previous and match.start() == previous_end else token)
        previous, previous_end = token, match.end()
    return frozenset(result)


# A title is compared against several archived ones; bodies (thousands of characters) are not cached.
_title_tokens = lru_cache(maxsize=4096)(tokens)


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
    """Titles of one story: the same, one inside the other (``甲`` and ``甲（更新）``), or all but a
    word or two alike (a corrected typo).  Strict on purpose: titles decide only when there
    are no bodies to compare, and calling two stories one would lose an article."""
    first, second = a.strip().lower(), b.strip().lower()
    if first == second or (min(len(first), len(second)) >= 1 and (first in second or second in first)):
        return True
    words, other = _title_tokens(a), _title_tokens(b)
    if {w for w in words if w.isdigit()} != {w for w in other if w.isdigit()}:
        return False  # "每日一语 6.12" and "6.13", "day 100" and "day 101": a series, not an edit
    return dice(words, other) >= TITLE_SIMILAR


def same_body(a: str, b: str) -> bool:
    """Bodies (HTML) that tell the same story: similar, or one an excerpt of the other."""
    return bodies_verdict(a, b) is True


def bodies_verdict(a: str, b: str) -> bool | None:
    """True for bodies telling the same story, False for different ones, None when either is
    too short to tell."""
    first, second = tokens(body_text(a)), tokens(body_text(b))
    if len(first) < MIN_BODY_TOKENS or len(second) < MIN_BODY_TOKENS:
        return None
    return dice(first, second) >= BODY_SIMILAR or contained(first, second) >= BODY_CONTAINED


def body_text(html: str) -> str:
    """The readable text of a body (the first few thousand characters are enough to compare)."""
    if "<" not in html and "&" not in html:
        return html[:_BODY_CHARS]
    text = LexborHTMLParser(html[: _BODY_CHARS * 4]).text(separator=" ")
    return text[:_BODY_CHARS]
