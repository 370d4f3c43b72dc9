"""Render stage: list pages, the archive's README and status pages (one Jinja2 environment).

Byte-exact with the duty-machine archive (SPEC §4).  Pages are rendered from the store after
it has been written (``pages.render_pages``); the article file itself is the archive's format
(``archive_format``), not a page.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import jinja2

from ..archive_format import Layout, link_from_list, month_day, newest_first
from ..moments import display_ms
from ..schedule import display
from ..transform.text import one_line
from ..types import Record

LIST_SIZE = 300
# Node's legacy url.resolve escaped these in the list link path (space → %20).
_PATH_SAFE = "/!$&()*+,-.:;=@_~[]%#?"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("newsmirror.render", "templates"),
        # Markdown keeps titles as the feed gave them; XML (the status feed) is escaped
        autoescape=_is_xml,
        keep_trailing_newline=True,
        trim_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _is_xml(name: str | None) -> bool:
    return name is not None and ".xml" in name


@cache
def _template(name: str) -> jinja2.Template:
    return _environment().get_template(name)


@dataclass(frozen=True, slots=True)
class _ListEntry:
    date: str
    title: str
    file: str


def render_list(
    name: str, slug: str, records: Iterable[Record], *, by_date: bool = True, layout: Layout = "flat"
) -> str:
    """``lists/<name>.md``: the 300 newest articles, newest first.

    ``by_date``: by timestamp, ties (and undated files) in id order — an item archived late
    takes the next id but is listed where its date puts it.  Otherwise in numeric id order, as
    the original listed CDT's post-id files (``0.md`` first).
    """
    key = newest_first if by_date else _by_id
    newest = sorted(records, key=key)[:LIST_SIZE]
    entries = [list_entry(slug, r, layout, "" if r.ms is None else f"{month_day(r.ms)} ") for r in newest]
    return _template("list.md.j2").render(name=name, slug=slug, entries=entries)


def _by_id(record: Record) -> int:
    return record.id


def list_entry(slug: str, record: Record, layout: Layout, date: str) -> _ListEntry:
    """One entry of a page listing articles (``date``: as that page shows dates, with its space)."""
    file = urllib.parse.quote(link_from_list(slug, record, layout), safe=_PATH_SAFE)
    return _ListEntry(date=date, title=link_text(record.title), file=file)


def link_text(title: str) -> str:
    """A title as the text of a Markdown link: one line, and no ``](`` that would end it.

    One line also for titles read from files written before titles were cleaned; dropping a
    control character can join a "]" and a "(" that must not end the link text.
    """
    return one_line(title).replace("](", "\\]\\(")


@dataclass(frozen=True, slots=True)
class ReadmeRow:
    name: str
    href: str
    count: int
    newest: str
    status: str
    months_href: str


def readme_row(name: str, count: int, newest_ms: int | None, status: str) -> ReadmeRow:
    newest = display_ms(newest_ms)
    href = "lists/" + urllib.parse.quote(f"{name}.md")
    months = "lists/" + urllib.parse.quote(f"{name}/README.md")
    return ReadmeRow(_cell(name), href, count, newest, _cell(status), months)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_readme(rows: Iterable[ReadmeRow], headlines: Iterable[object] = (), own_text: str = "") -> str:
    """The front page: a row per source, the newest headlines across sources (``browse``), then
    the archive's own text (``own_text.OWN_TEXT``)."""
    return _template("readme.md.j2").render(
        title="抓取新闻媒体文章 · newsmirror",
        intro="每小时存档的新闻文章，按来源列出。Hourly archive of news articles, by source.",
        rows=list(rows),
        headlines=list(headlines),
        own_text=own_text.strip(),
        list_size=LIST_SIZE,
    )


@dataclass(frozen=True, slots=True)
class StatusRow:
    name: str
    href: str
    status: str
    failures: int
    newest: str
    notes: str


def status_row(name: str, status: str, failures: int, newest: str, notes: str) -> StatusRow:
    href = "lists/" + urllib.parse.quote(f"{name}.md")
    return StatusRow(_cell(name), href, _cell(status), failures, newest, _cell(notes))


def render_status_page(rows: Iterable[StatusRow]) -> str:
    return _template("status.md.j2").render(rows=list(rows))


def render_status_feed(
    problems: Iterable[object], *, feed_id: str, updated: str, heartbeat: str | None = None
) -> str:
    """``status.xml``: an Atom feed with one entry per current problem; its ``updated``, its
    subtitle (for people) and ``nm:last-successful-run`` (RFC 3339, for monitors) carry the last
    successful run, the heartbeat a monitor watches."""
    return _template("status.xml.j2").render(
        title="newsmirror: problems of this archive",
        feed_id=feed_id,
        updated=updated,
        heartbeat=heartbeat,
        heartbeat_shown=display(heartbeat) if heartbeat else None,
        problems=list(problems),
    )
