"""Frozen values that flow through the pipeline: fetch → parse → decide → transform → store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

BodyField = Literal["description", "content"]
LinkField = Literal["link", "guid"]
IdScheme = Literal["countdown", "post-id"]
ImageMode = Literal["proxy", "keep", "archive"]

FIRST_ID = 0xFFFFF
"""Ids count down from here: the first article of an empty folder gets FIRST_ID - 1."""


@dataclass(frozen=True, slots=True)
class Source:
    """One configured news source (a ``[[source]]`` table of the sources file)."""

    name: str
    slug: str
    url: str
    body: BodyField = "description"
    link: LinkField = "link"
    fulltext: str | None = None
    require_category: str | None = None
    ids: IdScheme = "countdown"
    refresh: bool = False
    images: ImageMode = "proxy"
    """``proxy``: image references rewritten through the ``image_proxy`` template; ``keep``."""
    active: bool = True
    """False: not fetched any more; its articles stay listed (an outlet whose feed ended)."""

    @property
    def listed_by_date(self) -> bool:
        """List pages by timestamp; post-id sources (CDT) keep the original's id order."""
        return self.ids == "countdown"


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a feed as the feed states it (no normalisation yet)."""

    title: str | None
    link: str | None
    guid: str | None
    published: str | None
    description: str | None
    content: str | None
    categories: tuple[str, ...] = ()
    media_description: str | None = None
    """``media:description`` (Media RSS; YouTube-style feeds carry the text only there)."""


@dataclass(frozen=True, slots=True)
class Feed:
    """A parsed feed document."""

    format: str
    title: str | None
    entries: tuple[Entry, ...]
    recovered: str | None = None
    """The fault a lenient parse survived (the strict parse failed over it); None when strict."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A feed entry made ready for deciding: link resolved, title stripped, date read."""

    title: str
    link: str
    guid: str | None
    ms: int | None
    body_html: str
    position: int
    feed_date: str | None = None
    """The item's date as the feed wrote it (kept in the index when it is not believed)."""

    @property
    def label(self) -> str:
        """How reports name this item: its place in the feed and the start of its title."""
        return f"item {self.position + 1} ({self.title[:80]})"


@dataclass(frozen=True, slots=True)
class Skipped:
    """An entry that was not archived, and why."""

    what: str
    reason: str


@dataclass(frozen=True, slots=True)
class Record:
    """What the archive knows of one article file: enough to dedup, number and list it."""

    id: int
    ms: int | None
    title: str
    link: str
    guid: str | None = None
    path: str | None = None
    """Set for files outside ``articles/<slug>/<id>.md`` (the 2020 era's titled names)."""
    feed_date: str | None = None
    """The date the feed gave, when the file's timestamp is not it (a sentinel such as
    ``0001-01-01``, a date before 1990 or days ahead: the article is dated when first seen)."""
    sha: str | None = None
    """The content hash of the article as stored (``archive_format.content_hash``): an unchanged
    article is recognised without reading its file.  None for records made before hashes."""
    month: str | None = None
    """The month (``YYYY-MM``, GMT+8) the article was first archived under, fixed for life: its
    place in the state shards and, in the monthly layout, its folder.  None when undated."""
    day: int | None = None
    """The day of that month the article was filed under, fixed for life like ``month``: its
    folder in the monthly layout (``articles/<slug>/<YYYY>/<MM>/<DD>/``).  None when undated."""
    feed_sha: str | None = None
    """The hash of the feed's body the article was made from (``identity.feed_body_hash``): the
    same item served again is known without reading the archived file."""
    body_from: str | None = None
    """Which path produced the body: ``feed``, or from the page ``selector``, ``rule <site>``,
    ``trafilatura``, ``readability`` (``transform.fulltext``).  None for records made before."""


@dataclass(frozen=True, slots=True)
class Known:
    """What the archive knows that bears on one feed's candidates (``ArchiveStore.known``).

    Not every record of the source: those sharing a guid or link key with a candidate, the
    ids asked about that are taken, and the numbering bounds.  ``decide`` needs no more.
    """

    records: Mapping[int, Record] = field(default_factory=dict)
    legacy: tuple[Record, ...] = ()
    lowest_id: int | None = None
    """The numerically lowest id of the source (countdown numbering continues below it)."""
    taken: frozenset[int] = frozenset()
    """Of the ids asked about (post ids the candidates would get), those already used."""
    free_ids: tuple[int, ...] = ()
    """The lowest unused ids, as many as asked for (post ids that collide take these)."""


@dataclass(frozen=True, slots=True)
class SourceSummary:
    """One source in brief, kept up to date on every write: what lists, the README and the
    numbering need without reading the source's records."""

    articles: int = 0
    lowest_id: int | None = None
    listed: tuple[Record, ...] = ()
    """The records a list page can show: the 300 newest by date and the 300 lowest ids (the
    list order of post-id sources), newest first."""
    months: Mapping[str, int] = field(default_factory=dict)
    """Article count per month (``YYYY-MM``; ``undated`` for records without a timestamp)."""

    def newest_ms(self, now_ms: int | None = None) -> int | None:
        """The newest timestamp; with ``now_ms``, none more than two days after it counts."""
        limit = None if now_ms is None else now_ms + 2 * 86_400_000
        times = [r.ms for r in self.listed if r.ms is not None and (limit is None or r.ms <= limit)]
        return max(times, default=None)


@dataclass(frozen=True, slots=True)
class Revision:
    """An earlier content of an article, kept when the article is rewritten."""

    article_id: int
    seen_ms: int
    """When this content was replaced."""
    sha: str
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class Mark:
    """Something noticed about an archived article (``deleted`` at the source, …)."""

    article_id: int
    kind: str
    ms: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class SourceIndex:
    """Every article file of one source: ``records`` by id, plus ``legacy`` files elsewhere.

    Legacy records (``articles/<站名>/<id>_<title>.md`` of a taken-over archive) count for
    identity and id numbering — never archived again, their ids never reused — but are not
    listed on the list page, as the original did not list them after 2020-10.
    """

    records: Mapping[int, Record] = field(default_factory=dict)
    legacy: tuple[Record, ...] = ()

    def lowest_id(self) -> int | None:
        ids = [*self.records, *(r.id for r in self.legacy)]
        return min(ids) if ids else None

    def newest_ms(self, now_ms: int | None = None) -> int | None:
        """The newest article's timestamp; with ``now_ms``, files dated more than two days after it
        do not count (a date of 9999 archived by an older version must not read as the newest
        article, nor switch the stale alarm off for good)."""
        limit = None if now_ms is None else now_ms + 2 * 86_400_000
        times = [
            r.ms
            for r in (*self.records.values(), *self.legacy)
            if r.ms is not None and (limit is None or r.ms <= limit)
        ]
        return max(times) if times else None

    @property
    def size(self) -> int:
        return len(self.records) + len(self.legacy)

    def known(self, free: int = 64) -> Known:
        """Everything, as ``Known``: decide over a whole index held in memory (tests, import)."""
        taken = frozenset({*self.records, *(r.id for r in self.legacy)})
        free_ids = tuple(i for i in range(len(taken) + free) if i not in taken)[:free]
        return Known(self.records, self.legacy, self.lowest_id(), taken, free_ids)


@dataclass(frozen=True, slots=True)
class Planned:
    """A decision: write ``candidate`` as article ``id`` dated ``ms`` (new, or a refresh of a known one)."""

    id: int
    candidate: Candidate
    is_new: bool
    ms: int


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do with one source's feed."""

    writes: tuple[Planned, ...]
    known: int
    skipped: tuple[Skipped, ...]
    collisions: tuple[str, ...] = ()
    """Items that share a guid or link with an archived (or earlier) article but are a different
    story: archived as new articles, and reported."""
    learned: Mapping[int, str] = field(default_factory=dict)
    """Archived articles found to be an item whose body hash their record lacked (from before
    hashes were kept): id → the item's body hash, remembered so that it is not read again."""


@dataclass(frozen=True, slots=True)
class Article:
    """An article ready to be rendered to its file."""

    id: int
    ms: int
    title: str
    link: str
    guid: str | None
    body: str
    feed_sha: str | None = None
    """The hash of the feed body it was made from (kept in its record)."""
    body_from: str | None = None
    """Which path produced the body (kept in its record): ``feed``, ``selector``, ``rule <site>``,
    ``trafilatura`` or ``readability``."""


@dataclass(frozen=True, slots=True)
class SourceResult:
    """The outcome of one source in one run. Failures are values, not exceptions."""

    slug: str
    name: str
    ok: bool
    new: tuple[int, ...] = ()
    updated: tuple[int, ...] = ()
    unchanged: int = 0
    skipped: tuple[Skipped, ...] = ()
    error_code: str | None = None
    error: str | None = None
    articles: int | None = None
    newest_ms: int | None = None
    outcome: str = "updated"
    """``updated`` (fetched and archived), ``not_modified`` (304), ``postponed``, ``disabled``
    or ``failed``."""
    notes: tuple[str, ...] = ()
    recovered: str | None = None
    """The fault the feed had, when a lenient parse recovered its items (also in ``notes``)."""
    months: tuple[str, ...] = ()
    """The months (``YYYY-MM``) whose articles this run added or changed: their pages are rendered."""


@dataclass(frozen=True, slots=True)
class PushResult:
    remote: str
    ok: bool
    message: str = ""


@dataclass(frozen=True, slots=True)
class RunResult:
    """The outcome of ``newsmirror run``."""

    sources: tuple[SourceResult, ...]
    commit: str | None = None
    pushes: tuple[PushResult, ...] = ()
    pictures: str = ""
    """What the run did with pictures (``images = "archive"``), a line; empty when nothing."""

    @property
    def failed(self) -> tuple[SourceResult, ...]:
        return tuple(s for s in self.sources if not s.ok)

    @property
    def new_count(self) -> int:
        return sum(len(s.new) for s in self.sources)
