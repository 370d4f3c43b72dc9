"""``TreeStore``: the archive's git working tree as the truth (``ArchiveStore``).

Layout (SPEC §1) plus newsmirror's state, all text, all committed::

    articles/<slug>/<id>.md                 one file per article (flat, the duty-machine layout)
    articles/<slug>/<YYYY>/<MM>/<DD>/<id>.md … or by date (the monthly layout)
    .newsmirror/archive.json                state format and layout
    .newsmirror/sources/<slug>.json         summary: count, lowest id, months, the listed records
    .newsmirror/records/<slug>/<YYYY-MM>.jsonl   one line per article: id, ms, title, link, guid, sha
    .newsmirror/keys/<slug>/<shard>.txt     identity keys (guid, link, id) hashed → id and month
    .newsmirror/legacy/<slug>.jsonl         2020-era files kept under other names
    .newsmirror/revisions/<slug>/<YYYY-MM>.jsonl, marks/<slug>.jsonl
    .newsmirror/status.json                 each source's fetch state (committed when it matters)

A run reads what its feeds ask about — a summary, the key shards its candidates hash to and the
month shards those keys name — and writes what changed, so its cost follows the feeds, not the
archive.  Every state file can be rebuilt from the article files (``reindex``): a damaged one
is, the moment it is read.  Writes go articles first, then state, after a journal (in the git
directory) that lets the next run finish or drop an interrupted write without a tree walk.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Final, TypeVar, cast

from ..archive_format import (
    LAYOUTS,
    UNDATED,
    Layout,
    article_body,
    article_path,
    content_hash,
    day_of,
    list_title,
    month_of,
    record_from_text,
    render_article,
)
from ..exceptions import StorageError
from ..schedule import SourceState
from ..types import Article, Known, Mark, Record, Revision, SourceSummary
from . import lines as L
from . import notes, scan
from .files import TreeFiles
from .head import Committed, NothingCommitted
from .journal import Journal
from .rebuild import Spill
from .shards import Shards
from .states import StateFiles

log = logging.getLogger(__name__)
T = TypeVar("T")

STATE_DIR: Final = ".newsmirror"
FORMAT: Final = 2
_SHARDS_AT_ONCE: Final = 256
"""Key shards re-spread per batch (a partial clone downloads a batch in one request)."""


class TreeStore:
    """``ArchiveStore`` over a directory (normally a git working tree).

    ``local``: a folder outside the tree for what is kept on this machine alone (the freshest
    fetch state, the journal, temporary files) — the git directory; None for a plain folder.
    """

    def __init__(
        self,
        root: Path,
        *,
        local: Path | None = None,
        layout: Layout = "monthly",
        committed: Committed | None = None,
    ) -> None:
        self.root = root
        self.local = local
        self.journal = Journal(None if local is None else local / "newsmirror-journal.jsonl")
        scratch = None if local is None else local / "newsmirror-tmp"
        self.head: Committed = committed if committed is not None else NothingCommitted()
        self.files = TreeFiles(root, scratch, before_first=self.journal.open, head=self.head)
        self.shards = Shards(self.files)
        self._committed = self.head.committed
        self.states = StateFiles(self.files, local, self._committed)
        self._layout_default = layout
        self._layout: Layout | None = None
        self._metas: dict[str, L.Meta] = {}
        self._reindexed: set[str] = set()

    # -- archive ---------------------------------------------------------------------------

    @property
    def layout(self) -> Layout:
        if self._layout is None:
            self._layout = self._read_layout()
        return self._layout

    def _read_layout(self) -> Layout:
        text = self.files.read(f"{STATE_DIR}/archive.json")
        if text is not None:
            try:
                layout = json.loads(text)["layout"]
                if layout in LAYOUTS:
                    return cast(Layout, layout)
            except (ValueError, KeyError, TypeError):
                pass
            log.warning("%s/archive.json: unreadable; taken as the flat layout", STATE_DIR)
            return "flat"
        # an archive made before the file existed, or a duty-machine tree: flat, as it is
        old = self.files.exists(scan.V1_INDEX) or self.files.exists("articles")
        return "flat" if old else self._layout_default

    def _keep_layout(self) -> None:
        """Write down the layout with the first article (a later version must not guess it)."""
        relative = f"{STATE_DIR}/archive.json"
        if self.files.exists(relative):
            self.files.changed.add(relative)  # committed with the first articles, if not already
        else:
            self.files.write(relative, _archive_json(self.layout))

    def archive_id(self) -> str:
        """A random id made once per archive and kept in it, the same in every clone."""
        relative = f"{STATE_DIR}/id"
        text = self.files.read(relative)
        if text is not None and text.strip():
            return text.strip()
        made = f"urn:uuid:{uuid.uuid4()}"
        self.files.write(relative, made + "\n")
        return made

    def changed_paths(self) -> tuple[str, ...]:
        """What was written or removed since the last commit (``settled``): what to stage."""
        return tuple(self.files.staged())

    def settled(self) -> None:
        """The changes are committed: forget them and the journal."""
        self.files.settle()
        self.journal.clear()

    def interrupted(self) -> bool:
        """Whether a run changed the tree and was stopped before its commit."""
        return self.journal.exists

    def recover(self) -> list[str]:
        """Finish what a killed run left: temporary files removed; the articles it had written
        kept and indexed, the ones a power loss left empty removed with their state lines.

        Articles are written before their state, the summary last: each journalled source's
        summary is put back as committed, and every journalled article indexed again (month and
        key lines are set once however often they are written) or, without its file, unindexed.
        """
        done = [f"removed the leftover {name}" for name in self.files.remove_leftovers()]
        if self.journal.exists:
            self.states.as_committed()
        entries = self.journal.entries()
        for slug in dict.fromkeys(e.slug for e in entries):
            self._summary_as_committed(slug)
        for entry in entries:
            done += self._replay(entry.slug, entry.record, entry.path)
        self.files.changed.update(self.journal.paths())  # staged by the next commit, whatever is there
        return done

    def _summary_as_committed(self, slug: str) -> None:
        relative = f"{STATE_DIR}/sources/{slug}.json"
        committed = self._committed(relative)
        self._metas.pop(slug, None)
        if committed is None:
            self.files.remove(relative)  # rebuilt from the tree when next read
        else:
            self.files.write(relative, committed.decode("utf-8", errors="replace"))

    def _replay(self, slug: str, record: Record, relative: str) -> list[str]:
        data = self.files.read_bytes(relative)
        if data:
            self._healing(slug, lambda: self._index(slug, [record], fresh_only=True))
            return [f"kept {relative}, written by an interrupted run"]
        self._healing(slug, lambda: self._unindex(slug, record))
        if data is None:
            return []
        self.files.remove(relative)
        return [f"removed the empty {relative}, left by a write that never reached the disk"]

    def _unindex(self, slug: str, record: Record) -> None:
        """Take the month and key lines of a record whose file never reached the disk away."""
        meta = self._meta(slug)
        month = record.month or UNDATED
        records = self._month(slug, month)
        if records.pop(record.id, None) is not None:
            self.files.write(f"{STATE_DIR}/records/{slug}/{month}.jsonl", L.records_text(records.values()))
        for line in L.key_lines(record):
            shard = L.shard_name(line.hashed, meta.digits)
            old = self._key_shard(slug, shard)
            if line in old:
                rest = [k for k in old if k != line]
                self.files.write(f"{STATE_DIR}/keys/{slug}/{shard}", L.key_text(rest))

    # -- states ----------------------------------------------------------------------------

    def load_states(self, *, lasting: bool = False) -> dict[str, SourceState]:
        return self.states.load(lasting=lasting)

    def save_states(self, states: Mapping[str, SourceState], *, lasting: bool) -> None:
        self.states.save(states, lasting=lasting)

    # -- pages -----------------------------------------------------------------------------

    def write_page(self, relative: str, text: str) -> bool:
        """Write a generated page (list, README) if its bytes differ; True when written."""
        return self.files.write(relative, text)

    # -- summaries and look-ups ------------------------------------------------------------

    def summary(self, slug: str) -> SourceSummary:
        return self._meta(slug).summary

    def _meta(self, slug: str) -> L.Meta:
        if slug not in self._metas:
            self._metas[slug] = self._load_meta(slug)
        return self._metas[slug]

    def _load_meta(self, slug: str) -> L.Meta:
        where = f"{STATE_DIR}/sources/{slug}.json"
        text = self.files.read(where)
        if text is None:
            return self.reindex(slug) if self._has_anything(slug) else L.Meta(SourceSummary())
        try:
            return L.parse_meta(text, where)
        except L.DamagedLine as e:
            log.warning("%s; rebuilding the state of %s from its article files", e, slug)
            return self.reindex(slug)

    def _has_anything(self, slug: str) -> bool:
        """Articles or an index of an older version to take the state from."""
        for relative in (f"{scan.V1_INDEX}/{slug}.jsonl", f"{STATE_DIR}/legacy/{slug}.jsonl"):
            if self.files.exists(relative):
                return True
        if self.head.leaves_out and self.files.exists(f"articles/{slug}"):
            return True  # committed, left out of this checkout
        try:
            with os.scandir(self.files.path(f"articles/{slug}")) as entries:
                return next(entries, None) is not None
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as e:
            raise StorageError(f"{self.root}/articles/{slug}: cannot list articles: {e}") from e

    def known(self, slug: str, keys: Collection[str], ids: Collection[int], free: int) -> Known:
        return self._healing(slug, lambda: self._known(slug, keys, ids, free))

    def _known(self, slug: str, keys: Collection[str], ids: Collection[int], free: int) -> Known:
        meta = self._meta(slug)
        asked = [*keys, *(L.id_key(i) for i in ids)]
        found = self._find_many(slug, asked)
        if self.head.leaves_out:
            self.shards.prefetch_for_new(slug, meta, asked, found)
        records = {r.id: r for r in found if r.path is None}
        legacy = tuple({r.id: r for r in found if r.path is not None}.values())
        taken = frozenset(i for i in ids if any(r.id == i for r in found))
        return Known(records, legacy, meta.summary.lowest_id, taken, self._free_ids(slug, free))

    def _free_ids(self, slug: str, count: int) -> tuple[int, ...]:
        free: list[int] = []
        start = 0
        while len(free) < count:
            batch = range(start, start + count * 2)
            used = {r.id for r in self._find_many(slug, [L.id_key(i) for i in batch])}
            free += [i for i in batch if i not in used]
            start += count * 2
        return tuple(free[:count])

    def _find(self, slug: str, key: str) -> list[Record]:
        return self._find_many(slug, [key])

    def _find_many(self, slug: str, keys: Iterable[str]) -> list[Record]:
        return self.shards.find_many(slug, self._meta(slug), keys)

    def _key_shard(self, slug: str, shard: str) -> list[L.KeyLine]:
        return self.shards.key_shard(slug, shard)

    def _month(self, slug: str, month: str) -> dict[int, Record]:
        return self.shards.month(slug, month)

    def _legacy(self, slug: str) -> list[Record]:
        return self.shards.legacy(slug)

    def _healing(self, slug: str, action: Callable[[], T]) -> T:
        """``action``; when a state file of ``slug`` turns out damaged, once more after a reindex."""
        try:
            return action()
        except L.DamagedLine as e:
            log.warning("%s; rebuilding the state of %s from its article files", e, slug)
            self._metas[slug] = self.reindex(slug)
            return action()

    # -- articles --------------------------------------------------------------------------

    def body(self, slug: str, article_id: int) -> str | None:
        text = self._healing(slug, lambda: self._text_of(slug, article_id))
        return None if text is None else article_body(text)

    def _text_of(self, slug: str, article_id: int) -> str | None:
        record = next((r for r in self._find(slug, L.id_key(article_id)) if r.path is None), None)
        if record is None:
            return None
        return self._article_text(article_path(slug, record, self.layout))

    def _article_text(self, relative: str) -> str | None:
        data = self.files.read_bytes(relative)
        if data is None:
            data = self._committed(relative)
        return None if data is None else data.decode("utf-8", errors="replace")

    def add(self, slug: str, articles: Sequence[Article], *, feed_dates: Mapping[int, str]) -> None:
        if not articles:
            return
        self._healing(slug, lambda: self._refuse_taken(slug, [a.id for a in articles]))
        texts = [(a, render_article(a)) for a in articles]
        records = [_record(a, text, feed_dates.get(a.id)) for a, text in texts]
        paths = [article_path(slug, r, self.layout) for r in records]
        committed = self.head.in_head([p for p in paths if not self.files.path(p).exists()])
        if committed:
            raise StorageError(
                f"{self.root}: refusing to overwrite committed article(s) {', '.join(sorted(committed))}"
            )
        self._keep_layout()
        self.journal.write(slug, records, paths)
        for (_, text), relative in zip(texts, paths, strict=True):
            self.files.create(relative, text)
        self._healing(slug, lambda: self._index(slug, records))

    def _refuse_taken(self, slug: str, ids: list[int]) -> None:
        taken = sorted({r.id for r in self._find_many(slug, [L.id_key(i) for i in ids])})
        if taken:
            raise StorageError(
                f"{self.root}: {slug}: refusing to overwrite archived article(s) {', '.join(map(str, taken))}"
            )

    def _index(
        self,
        slug: str,
        records: Sequence[Record],
        replaced: Sequence[Record] = (),
        *,
        fresh_only: bool = False,
    ) -> None:
        """Add ``records`` (new) and ``replaced`` (rewritten) to the state files of ``slug``;
        ``fresh_only``: leave out the new records its summary already counts."""
        meta = self._meta(slug)
        if fresh_only and slug in self._reindexed:
            return  # rebuilt from the files, these among them
        if fresh_only:
            counted = {r.id for r in meta.summary.listed}
            records = [r for r in records if r.id not in counted and not self._in_summary(slug, r)]
        by_month: dict[str, list[Record]] = defaultdict(list)
        for record in [*records, *replaced]:
            by_month[record.month or UNDATED].append(record)
        for month, changed in by_month.items():
            self._write_month(slug, month, changed)
        new_lines = [line for r in [*records, *replaced] for line in L.key_lines(r)]
        count = meta.key_lines + sum(len(L.key_lines(r)) for r in records)
        digits = max(meta.digits, L.digits_for(count))
        if digits != meta.digits:
            self._reshard_keys(slug, meta.digits, digits)
        self._add_key_lines(slug, digits, new_lines)
        summary = L.with_records(meta.summary, records, replaced)
        self._save_meta(slug, L.Meta(summary, digits, count))

    def _in_summary(self, slug: str, record: Record) -> bool:
        """Whether the committed summary counts ``record`` (its month line was committed)."""
        committed = self._committed(f"{STATE_DIR}/records/{slug}/{record.month or UNDATED}.jsonl")
        return committed is not None and f'{{"id":{record.id},'.encode() in committed

    def _write_month(self, slug: str, month: str, changed: Sequence[Record]) -> None:
        relative = f"{STATE_DIR}/records/{slug}/{month}.jsonl"
        records = self._month(slug, month)
        records.update({r.id: replace(r, month=month) for r in changed})
        self.files.write(relative, L.records_text(records.values()))

    def _add_key_lines(self, slug: str, digits: int, new_lines: Iterable[L.KeyLine]) -> None:
        by_shard: dict[str, list[L.KeyLine]] = defaultdict(list)
        for line in new_lines:
            by_shard[L.shard_name(line.hashed, digits)].append(line)
        for shard, lines in by_shard.items():
            old = self._key_shard(slug, shard)
            self.files.write(f"{STATE_DIR}/keys/{slug}/{shard}", L.key_text([*old, *lines]))

    def _reshard_keys(self, slug: str, old_digits: int, digits: int) -> None:
        """Spread a grown source's keys over 16× more shards (rare: a source of 8k, 131k, 2M keys).

        A new shard's name extends an old one's prefix, so the old shards are split one at a
        time: a run holds one shard's lines, whatever the source's size.
        """
        shards = [p for p in self.files.files_under(f"{STATE_DIR}/keys/{slug}") if p.endswith(".txt")]
        spread = 0
        for start in range(0, len(shards), _SHARDS_AT_ONCE):
            chunk = shards[start : start + _SHARDS_AT_ONCE]
            self.files.prefetch(chunk)  # in a partial clone: downloaded together
            for relative in chunk:
                lines = list(L.parse_key_lines(self.files.read(relative) or "", relative))
                self.files.remove(relative)
                by_shard: dict[str, list[L.KeyLine]] = defaultdict(list)
                for line in lines:
                    by_shard[L.shard_name(line.hashed, digits)].append(line)
                for shard, group in by_shard.items():
                    self.files.write(f"{STATE_DIR}/keys/{slug}/{shard}", L.key_text(group))
                spread += len(lines)
        log.info("%s: %d key lines spread from %d to %d digits", slug, spread, old_digits, digits)

    def _save_meta(self, slug: str, meta: L.Meta) -> None:
        self._metas[slug] = meta
        self.files.write(f"{STATE_DIR}/sources/{slug}.json", L.meta_text(meta))

    def replace(self, slug: str, articles: Sequence[Article], *, seen_ms: int) -> tuple[int, ...]:
        return self._healing(slug, lambda: self._replace(slug, articles, seen_ms))

    def _replace(self, slug: str, articles: Sequence[Article], seen_ms: int) -> tuple[int, ...]:
        current = {r.id: r for r in self._find_many(slug, [L.id_key(a.id) for a in articles])}
        missing = sorted(a.id for a in articles if a.id not in current or current[a.id].path is not None)
        if missing:
            raise StorageError(
                f"{self.root}: {slug}: no archived article {', '.join(map(str, missing))} to replace"
            )
        changed: list[Record] = []
        for article in articles:
            record = current[article.id]
            text = render_article(article)
            relative = article_path(slug, record, self.layout)
            old = None if record.sha == content_hash(text) else self._article_text(relative)
            if old is None or old == text:
                continue
            notes.keep_revision(self.files, slug, record, old, seen_ms)
            self.journal.note([relative])
            self.files.write(relative, text)
            changed.append(
                replace(_record(article, text, record.feed_date), month=record.month, day=record.day)
            )
        if changed:
            self._index(slug, [], changed)
        return tuple(r.id for r in changed)

    def remember(self, slug: str, feed_shas: Mapping[int, str]) -> None:
        self._healing(slug, lambda: self._remember(slug, feed_shas))

    def _remember(self, slug: str, feed_shas: Mapping[int, str]) -> None:
        found = self._find_many(slug, [L.id_key(i) for i in feed_shas])
        by_month: dict[str, list[Record]] = defaultdict(list)
        for record in found:
            if record.path is None and record.feed_sha != feed_shas[record.id]:
                by_month[record.month or UNDATED].append(replace(record, feed_sha=feed_shas[record.id]))
        for month, changed in by_month.items():
            self._write_month(slug, month, changed)
        if by_month:  # the summary's records stay what the month shards hold
            meta = self._meta(slug)
            learned = [replace(r, month=m) for m, group in by_month.items() for r in group]
            summary = L.with_records(meta.summary, [], learned)
            if summary != meta.summary:
                self._save_meta(slug, replace(meta, summary=summary))

    def records(self, slug: str, month: str | None = None) -> Iterator[Record]:
        months = [month] if month is not None else [*self.summary(slug).months]
        for name in months:
            yield from self._healing(slug, lambda name=name: list(self._month(slug, name).values()))  # type: ignore[misc]
        if month is None:
            yield from self._legacy(slug)

    def revisions(self, slug: str, article_id: int) -> tuple[Revision, ...]:
        record = next(iter(self._find(slug, L.id_key(article_id))), None)
        return () if record is None else notes.revisions(self.files, slug, record)

    def mark(self, slug: str, mark: Mark) -> None:
        if not self._find(slug, L.id_key(mark.article_id)):
            raise StorageError(f"{self.root}: {slug}: no archived article {mark.article_id} to mark")
        notes.add_mark(self.files, slug, mark)

    def marks(self, slug: str, article_id: int) -> tuple[Mark, ...]:
        return notes.marks(self.files, slug, article_id)

    # -- layouts ---------------------------------------------------------------------------

    def slugs(self) -> list[str]:
        """Every source this archive holds state for."""
        folder = self.files.path(f"{STATE_DIR}/sources")
        return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []

    def reshard(self, slugs: Iterable[str]) -> list[tuple[str, str]]:
        """Move a flat archive's article files into date folders; the moves (old, new).

        Every file is moved as it is (bytes, name); the state keeps each article's month, so
        nothing but the path changes.  Refused in a checkout that does not hold every file (a
        sparse one): git would record the ones left out as deleted.
        """
        if self.layout == "monthly":
            return []
        moves = [
            (article_path(slug, r, "flat"), article_path(slug, r, "monthly"))
            for slug in sorted(set(slugs))
            for r in self.records(slug)
            if r.path is None
        ]
        absent = [old for old, _ in moves if not self.files.path(old).is_file()]
        if absent:
            raise StorageError(
                f"{self.root}: {len(absent)} article files are not in this checkout ({absent[0]} …); "
                "reshard in a full checkout"
            )
        self.journal.note([path for move in moves for path in move])
        for old, new in moves:
            self.files.move(old, new)
        self._layout = "monthly"
        self.files.write(f"{STATE_DIR}/archive.json", _archive_json("monthly"))
        return moves

    # -- rebuilding from the tree ----------------------------------------------------------

    def reindex(self, slug: str) -> L.Meta:
        """Rebuild every state file of ``slug`` from its article files (the tree is the truth),
        keeping what only the state knows (guids, the feeds' dates) from any line that reads.

        The records go to temporary files as they are read (``rebuild.Spill``): memory holds one
        month or one sixteenth of the keys at a time, not the source's records."""
        self._reindexed.add(slug)
        # a sparse checkout trusts the lines of the files it leaves out, so keeps them whole;
        # a full one needs of a line only what the file does not say
        keep = None if self.head.leaves_out else _only_the_state_s
        kept = scan.readable_records(self.files, slug, keep)
        legacy = self._legacy(slug)
        with Spill(None if self.local is None else self.local / "newsmirror-tmp") as spill:
            for article_id, relative in scan.article_files(self.files, self.head, slug, self.layout):
                old = kept.pop(article_id, None)
                if old is not None and not self.files.path(relative).exists():
                    spill.add(old)  # not checked out (a sparse checkout): its state line is trusted
                else:
                    spill.add(self._record_of_file(article_id, relative, old))
            for record in legacy:
                spill.add_legacy(record)
            return self._rebuild(slug, spill)

    def _record_of_file(self, article_id: int, relative: str, old: Record | None) -> Record:
        """The record an article file gives, with what only the state knew from ``old``."""
        from_file = record_from_text(article_id, self._article_text(relative) or "")
        if old is not None:
            from_file = replace(from_file, guid=old.guid, feed_date=old.feed_date, body_from=old.body_from)
            from_file = replace(from_file, month=old.month or from_file.month)
        if self.layout == "monthly":
            month, day = scan.filed_under(relative)
            from_file = replace(from_file, month=month or from_file.month, day=day or from_file.day)
        return from_file

    def adopt_legacy(self, slug: str, legacy: Iterable[Record]) -> None:
        """Record article files kept outside ``articles/<slug>/`` (see ``SourceIndex.legacy``)."""
        ordered = sorted(legacy, key=lambda r: (r.path or "", r.id))
        self.files.write(f"{STATE_DIR}/legacy/{slug}.jsonl", "".join(L.record_line(r) for r in ordered))
        self._keep_layout()
        self._metas[slug] = self.reindex(slug)

    def _rebuild(self, slug: str, spill: Spill) -> L.Meta:
        for folder in ("records", "keys"):
            for relative in self.files.files_under(f"{STATE_DIR}/{folder}/{slug}"):
                self.files.remove(relative)
        self.files.remove(f"{scan.V1_INDEX}/{slug}.jsonl")
        for month, text in spill.months():
            self.files.write(f"{STATE_DIR}/records/{slug}/{month}.jsonl", text)
        digits = L.digits_for(spill.key_lines)
        for shard, text in spill.key_shards(digits):
            self.files.write(f"{STATE_DIR}/keys/{slug}/{shard}", text)
        meta = L.Meta(spill.summary(), digits, spill.key_lines)
        self._save_meta(slug, meta)
        return meta


def _record(article: Article, text: str, feed_date: str | None) -> Record:
    return Record(
        id=article.id,
        ms=article.ms,
        title=list_title(text),
        link=article.link,
        guid=article.guid,
        feed_date=feed_date,
        sha=content_hash(text),
        month=month_of(article.ms),
        day=day_of(article.ms),
        feed_sha=article.feed_sha,
        body_from=article.body_from,
    )


def _only_the_state_s(record: Record) -> Record:
    """What a reindex keeps of a readable state line whose file it reads: what the file lacks."""
    month = None if record.month is None else sys.intern(record.month)  # one string a month
    return Record(
        record.id,
        None,
        "",
        "",
        guid=record.guid,
        feed_date=record.feed_date,
        month=month,
        body_from=record.body_from,
    )


def _archive_json(layout: str) -> str:
    return json.dumps({"format": FORMAT, "layout": layout}, indent=1) + "\n"
