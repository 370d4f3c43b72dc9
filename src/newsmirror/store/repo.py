"""The archive's working tree as the source of truth.

Layout (SPEC §1) plus newsmirror's own state, all text, all committed::

    articles/<slug>/<id>.md          one file per article (byte-exact format)
    lists/<站名>.md                   list pages
    README.md                        front page
    .newsmirror/index/<slug>.jsonl   one line per article: id, ms, title, link, guid
    .newsmirror/status.json          outcome of each source's last fetch

The index is a cache of what the article files say plus the guid (which the files do not
carry).  Files present but missing from the index are read and added; index lines whose
file is gone are dropped.  So a fresh clone, an imported duty-machine tree or a tree left
by a killed run all continue correctly.  Every write is atomic (temp file + rename).
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar

from ..exceptions import StorageError
from ..render import list_title
from ..types import Record, SourceIndex

log = logging.getLogger(__name__)
T = TypeVar("T")

STATE_DIR = ".newsmirror"
# Any id the schemes can give: countdown ids are below 2^20, post ids below 2^60 (decide.post_id).
ARTICLE_NAME = re.compile(r"^(0|[1-9][0-9]{0,18})\.md$")
_TIMESTAMP = re.compile(r"<!--(-?\d+)-")  # a pre-1970 date gives a negative ms
_LINK_LINE = re.compile(r"\]\(([A-Za-z][A-Za-z0-9+.\-]*:[^\n]*)\)[ \t\r]*$", re.M)
TEMP_MARK = ".tmp-"


class RepoStore:
    """``ArchiveStore`` over a directory (normally a git working tree)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: set[Path] = set()

    # -- paths -----------------------------------------------------------------------------

    def article_dir(self, slug: str) -> Path:
        return self.root / "articles" / slug

    def article_path(self, slug: str, article_id: int) -> Path:
        return Path(f"{self.root}/articles/{slug}/{article_id}.md")

    def _index_path(self, slug: str) -> Path:
        return self.root / STATE_DIR / "index" / f"{slug}.jsonl"

    # -- index -----------------------------------------------------------------------------

    def _legacy_path(self, slug: str) -> Path:
        return self.root / STATE_DIR / "legacy" / f"{slug}.jsonl"

    def load_index(self, slug: str) -> SourceIndex:
        saved = self._read_saved_index(slug)
        present = set(self._article_ids(slug))
        records = {i: saved[i] for i in present if i in saved}
        for article_id in present - records.keys():
            records[article_id] = self._record_from_file(slug, article_id)
        return SourceIndex(records=records, legacy=self._read_legacy(slug))

    def save_legacy(self, slug: str, records: Iterable[Record]) -> None:
        """Record article files kept outside ``articles/<slug>/`` (see ``SourceIndex.legacy``)."""
        ordered = sorted(records, key=lambda r: (r.path or "", r.id))
        self._write_if_changed(self._legacy_path(slug), "".join(_record_line(r) for r in ordered))

    def _read_legacy(self, slug: str) -> tuple[Record, ...]:
        """Legacy records whose file still exists (the tree is the truth)."""
        records = _read_record_file(self._legacy_path(slug))
        return tuple(r for _, r in records if r.path is not None and (self.root / r.path).exists())

    def save_index(self, slug: str, index: SourceIndex) -> None:
        lines = [_record_line(index.records[i]) for i in sorted(index.records, reverse=True)]
        self._write_if_changed(self._index_path(slug), "".join(lines))

    def _read_saved_index(self, slug: str) -> dict[int, Record]:
        """The saved index, or nothing when it is damaged: the records are then read from the
        article files (the tree is the truth; only the guids the files do not carry are lost)."""
        try:
            return dict(_read_record_file(self._index_path(slug)))
        except StorageError as e:
            if isinstance(e.__cause__, OSError):  # unreadable, not damaged: that is for the caller
                raise
            log.warning("%s; rebuilding the index of %s from its article files", e, slug)
            return {}

    def _article_ids(self, slug: str) -> Iterator[int]:
        folder = self.article_dir(slug)
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return
        except OSError as e:
            raise StorageError(f"{folder}: cannot list articles: {e}") from e
        for name in names:
            match = ARTICLE_NAME.match(name)
            if match:
                yield int(match.group(1))

    def _record_from_file(self, slug: str, article_id: int) -> Record:
        text = self.read_article(slug, article_id) or ""
        return record_from_text(article_id, text)

    # -- articles --------------------------------------------------------------------------

    def read_article(self, slug: str, article_id: int) -> str | None:
        path = self.article_path(slug, article_id)
        try:
            return path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StorageError(f"{path}: cannot read article: {e}") from e

    def create_article(self, slug: str, article_id: int, text: str) -> None:
        path = self.article_path(slug, article_id)
        temp = self._write_temp(path, text.encode("utf-8"))
        try:
            os.link(temp, path)  # atomic, and fails rather than replace an existing file
        except FileExistsError as e:
            if not _empty_file(path):
                raise StorageError(f"{path}: refusing to overwrite an existing article file") from e
            # An article is never empty: this one is what a power loss left of a write whose
            # data never reached the disk (nothing commits a file before it is synced).
            os.replace(temp, path)
        except OSError:
            self._create_without_links(path, temp)
        finally:
            with suppress(FileNotFoundError):
                os.unlink(temp)

    @staticmethod
    def _create_without_links(path: Path, temp: str) -> None:
        """For filesystems without hard links; safe because the archive lock excludes other writers."""
        if path.exists() and not _empty_file(path):
            raise StorageError(f"{path}: refusing to overwrite an existing article file")
        try:
            os.replace(temp, path)
        except OSError as e:
            raise StorageError(f"{path}: cannot write: {e}") from e

    def replace_article(self, slug: str, article_id: int, text: str) -> None:
        self._write_bytes(self.article_path(slug, article_id), text.encode("utf-8"))

    # -- pages and status ------------------------------------------------------------------

    def write_page(self, relative: str, text: str) -> bool:
        return self._write_if_changed(self.root / relative, text)

    def load_status(self) -> Mapping[str, Any]:
        path = self.root / STATE_DIR / "status.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError as e:  # not JSON, not UTF-8: start over rather than stop every run
            log.warning("%s: unreadable, every source starts with a fresh state: %s", path, e)
            return {}
        except OSError as e:
            raise StorageError(f"{path}: cannot read status: {e}") from e
        return data if isinstance(data, dict) else {}

    def save_status(self, status: Mapping[str, Any]) -> None:
        text = json.dumps(status, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        self._write_if_changed(self.root / STATE_DIR / "status.json", text)

    def archive_id(self) -> str:
        """A random id made once per archive and kept in it, the same in every clone."""
        path = self.root / STATE_DIR / "id"
        try:
            return path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            made = f"urn:uuid:{uuid.uuid4()}"
            self._write_if_changed(path, made + "\n")
            return made
        except OSError as e:
            raise StorageError(f"{path}: cannot read: {e}") from e

    # -- housekeeping ----------------------------------------------------------------------

    def remove_leftovers(self) -> list[Path]:
        """Delete temporary files a killed run left behind; returns what was removed."""
        removed = []
        for folder in (self.root / "articles", self.root / "lists", self.root / STATE_DIR):
            if folder.is_dir():
                for path in folder.rglob(f".*{TEMP_MARK}*"):
                    path.unlink(missing_ok=True)
                    removed.append(path)
        # README.md, status.md and status.xml are written beside themselves, in the root
        for path in self.root.glob(f".*{TEMP_MARK}*"):
            if path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed

    def _write_if_changed(self, path: Path, text: str) -> bool:
        data = text.encode("utf-8")
        try:
            if path.read_bytes() == data:
                return False
        except FileNotFoundError:
            pass
        except OSError as e:
            raise StorageError(f"{path}: cannot read: {e}") from e
        self._write_bytes(path, data)
        return True

    def _write_bytes(self, path: Path, data: bytes) -> None:
        temp = self._write_temp(path, data)
        try:
            os.replace(temp, path)
        except OSError as e:
            os.unlink(temp)
            raise StorageError(f"{path}: cannot write: {e}") from e

    def _write_temp(self, path: Path, data: bytes) -> str:
        """Write ``data`` beside ``path`` under a temporary name (removed by the next run if left)."""
        folder = path.parent
        temp = f"{folder}/.{path.name}{TEMP_MARK}{os.getpid()}"
        try:
            if folder not in self._made:
                folder.mkdir(parents=True, exist_ok=True)
                self._made.add(folder)
            with open(temp, "wb") as out:
                out.write(data)
        except OSError as e:
            with suppress(FileNotFoundError):
                os.unlink(temp)
            raise StorageError(f"{path}: cannot write: {e}") from e
        return temp


def _empty_file(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size == 0
    except OSError:
        return False


def record_from_text(article_id: int, text: str) -> Record:
    """What an article file says about itself (for files newsmirror did not index)."""
    stamp = _TIMESTAMP.search(text)
    link = _LINK_LINE.search(text)
    return Record(
        id=article_id,
        ms=int(stamp.group(1)) if stamp else None,
        title=list_title(text),
        link=link.group(1) if link else "",
    )


def _read_record_file(path: Path) -> list[tuple[int, Record]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        raise StorageError(f"{path}: cannot read index: {e}") from e
    return list(_parse_record_lines(text, path))


def _record_line(record: Record) -> str:
    fields: dict[str, object] = {"id": record.id, "ms": record.ms, "title": record.title, "link": record.link}
    if record.guid is not None:
        fields["guid"] = record.guid
    if record.path is not None:
        fields["path"] = record.path
    if record.feed_date is not None:
        fields["feed_date"] = record.feed_date
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")) + "\n"


def _typed(value: Any, kind: type[T]) -> T:
    """``value`` when it is a ``kind``, else TypeError: a hand-edited or damaged line
    (``"ms": "soon"``, ``"title": null``) must not reach the numbering or the lists."""
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"{value!r} is not {kind.__name__}")
    return value


def _optional(value: Any, kind: type[T]) -> T | None:
    return None if value is None else _typed(value, kind)


def _parse_record_lines(text: str, path: Path) -> Iterator[tuple[int, Record]]:
    # JSON escapes \n and \r but not U+2028 or U+0085, which str.splitlines() would split on
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
            record = Record(
                id=_typed(fields["id"], int),
                ms=_optional(fields.get("ms"), int),
                title=_typed(fields["title"], str),
                link=_typed(fields["link"], str),
                guid=_optional(fields.get("guid"), str),
                path=_optional(fields.get("path"), str),
                feed_date=_optional(fields.get("feed_date"), str),
            )
        except (ValueError, KeyError, TypeError) as e:
            raise StorageError(f"{path}:{number}: bad index line: {e}") from e
        yield record.id, record
