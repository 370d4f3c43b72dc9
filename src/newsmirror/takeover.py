"""Take over an existing duty-machine archive checkout in place (``newsmirror import``).

The tree is read, never changed: no article file is rewritten, renamed or moved.  What is
written is newsmirror's state, so that the next ``newsmirror run`` continues the archive:

* ``articles/<slug>/<id>.md`` (2020-10 on) → the store's records of ``<slug>``
  (``TreeStore.reindex``: ``.newsmirror/records``, ``keys`` and ``sources``);
* ``articles/<站名>/<id>_<title>.md`` and ``<id>.md`` (2020-06..10), and titled names found
  in ``articles/<slug>/`` → ``.newsmirror/legacy/<slug>.jsonl``: never archived again, their
  ids never reused, not listed.

Names are taken from ``os.scandir`` as they are (newlines, ``\\``, ``?``, ``#``, ``%``…); files
are decoded as UTF-8 with replacement.  Whatever is not an article by its name is reported as
stray and left alone.  The state is committed alone (the state files written), and only when
it changed, so importing twice is a no-op.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

from . import publish
from .archive_format import ARTICLE_NAME, record_from_text
from .config import ARCHIVE_CONFIG, Config
from .core import Archive
from .exceptions import ConfigError, StorageError
from .git import git_dir
from .render.own_text import OWN_TEXT, kept_from_readme
from .repo import ensure_repo
from .store import TreeStore
from .types import Record, Source

# What TreeStore indexes in articles/<slug>/ is ARTICLE_NAME (canonical ids).
# Any other article name of the original: leading digits, then nothing or "_<title>".
_LEGACY_NAME = re.compile(r"^([0-9]+)(?:_.*)?\.md$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class SourceReport:
    """What the takeover found for one source (paths relative to the archive, POSIX)."""

    slug: str
    name: str
    current: int
    """``articles/<slug>/<id>.md`` files."""
    legacy: int
    """2020-era files: ``articles/<站名>/…`` and titled names in ``articles/<slug>/``."""
    undated: int
    """Article files without a ``<!--ms-->`` first line (the old CDT import format)."""
    stray: tuple[str, ...]
    """Entries of the source's folders that are not article names (left alone, not indexed)."""
    duplicates: tuple[tuple[str, ...], ...]
    """Groups of article files sharing one link (the RFI rolling window left these)."""
    lowest_id: int | None
    """Over both eras; a ``countdown`` run continues below it."""
    newest_ms: int | None

    @property
    def articles(self) -> int:
        return self.current + self.legacy


@dataclass(frozen=True, slots=True)
class TakeoverReport:
    """The outcome of ``newsmirror import``."""

    root: str
    sources: tuple[SourceReport, ...]
    unknown_folders: tuple[str, ...]
    """Folders under ``articles/`` that belong to no configured source."""
    unknown_files: tuple[str, ...]
    """Files directly under ``articles/``."""
    commit: str | None
    own_text_lines: int = 0
    """Lines of the previous README kept in ``OWN_TEXT`` (0: none kept, or kept before)."""

    @property
    def articles(self) -> int:
        return sum(s.articles for s in self.sources)


def check_archive_tree(root: Path) -> None:
    """Refuse anything but a directory holding an ``articles/`` folder."""
    if not root.is_dir():
        raise ConfigError(f"{root}: not a directory (expected a duty-machine archive checkout)")
    if not (root / "articles").is_dir():
        raise ConfigError(f"{root}: no articles/ folder here; is this a duty-machine archive checkout?")


def take_over(
    root: Path, config: Config, *, commit: bool = True, sources_text: str | None = None
) -> TakeoverReport:
    """Index the archive at ``root`` for ``config``'s sources; commit the state unless told not to.
    ``sources_text`` is written as its sources file (``newsmirror.toml``) in the same commit.

    Raises ConfigError (not an archive tree), StorageError (unreadable file, unwritable state),
    PublishError (git failed), ArchiveLockedError (a run holds the archive).
    """
    check_archive_tree(root)
    if commit:
        ensure_repo(root)
    with _locked(root):
        local = git_dir(root) if (root / ".git").exists() else None
        store = TreeStore(root, local=local)
        sources = tuple(_take_over_source(store, s) for s in config.sources)
        if sources_text is not None:
            store.files.write(ARCHIVE_CONFIG, sources_text)
        kept = _keep_own_text(root, store)
        folders, files = _unknown_entries(root, config.sources)
        sha = publish.commit(root, commit_message(sources), store.changed_paths()) if commit else None
        store.settled()
    return TakeoverReport(str(root), sources, folders, files, sha, own_text_lines=kept)


def _keep_own_text(root: Path, store: TreeStore) -> int:
    """Keep what the archive's README says beyond its list links, for the README newsmirror
    writes from the next run on; the number of lines kept.  Once kept, it is the owner's to edit."""
    readme = root / "README.md"
    if store.files.exists(OWN_TEXT) or not readme.is_file():
        return 0
    try:
        text = readme.read_bytes().decode("utf-8", errors="replace")
    except OSError as e:
        raise StorageError(f"{readme}: cannot be read: {e.strerror}") from e
    kept = kept_from_readme(text)
    if kept:
        store.files.write(OWN_TEXT, kept)
    return kept.count("\n")


def _locked(root: Path) -> AbstractContextManager[None]:
    """The archive's run lock when it is a git repository (``--no-commit`` may import a plain tree)."""
    return Archive(root).locked() if (root / ".git").exists() else nullcontext()


# -- one source ------------------------------------------------------------------------------


def _take_over_source(store: TreeStore, source: Source) -> SourceReport:
    legacy, stray = _scan_source(store.root, source)
    store.adopt_legacy(source.slug, legacy)
    return _report(source, store, stray)


def _scan_source(root: Path, source: Source) -> tuple[list[Record], list[str]]:
    """Legacy records and stray names of the source's folders (``<slug>`` and ``<站名>``)."""
    legacy: list[Record] = []
    stray: list[str] = []
    for folder, is_slug_folder in _source_folders(root, source):
        for name, is_dir in _entries(root / folder):
            relative = f"{folder}/{name}" + ("/" if is_dir else "")
            kind = "stray" if is_dir else _kind(name, is_slug_folder)
            if kind == "legacy":
                legacy.append(_legacy_record(root, relative, name))
            elif kind == "stray":
                stray.append(relative)
    return legacy, sorted(stray)


def _source_folders(root: Path, source: Source) -> Iterator[tuple[str, bool]]:
    """``articles/<slug>``, then ``articles/<站名>`` unless it is the same folder (``BBC`` on macOS)."""
    slug_folder, name_folder = f"articles/{source.slug}", f"articles/{source.name}"
    yield slug_folder, True
    if name_folder != slug_folder and not _same_folder(root / slug_folder, root / name_folder):
        yield name_folder, False


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _entries(folder: Path) -> list[tuple[str, bool]]:
    """(name, is a directory) of every entry, sorted; none when the folder does not exist."""
    try:
        with os.scandir(folder) as scan:
            return sorted((e.name, e.is_dir()) for e in scan)
    except FileNotFoundError:
        return []
    except OSError as e:
        raise StorageError(f"{folder}: cannot list: {e}") from e


def _kind(name: str, is_slug_folder: bool) -> str:
    """``current`` (RepoStore indexes it), ``legacy`` (2020-era name) or ``stray``."""
    if is_slug_folder and ARTICLE_NAME.match(name):
        return "current"
    return "legacy" if _LEGACY_NAME.match(name) else "stray"


def _legacy_record(root: Path, relative: str, name: str) -> Record:
    match = _LEGACY_NAME.match(name)
    assert match is not None  # only called for legacy names
    path = root / relative
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as e:
        raise StorageError(f"{path}: cannot read article: {e}") from e
    return replace(record_from_text(int(match.group(1)), text), path=relative)


def _report(source: Source, store: TreeStore, stray: list[str]) -> SourceReport:
    """What the import found in a source, read month by month (never the whole source at once)."""
    current = legacy = undated = 0
    lowest: int | None = None
    newest: int | None = None
    links: Counter[int] = Counter()
    for record in store.records(source.slug):
        legacy += record.path is not None
        undated += record.ms is None
        lowest = record.id if lowest is None else min(lowest, record.id)
        if record.ms is not None:
            newest = record.ms if newest is None else max(newest, record.ms)
        if record.link:
            links[hash(record.link)] += 1
        current += record.path is None
    shared = {h for h, count in links.items() if count > 1}
    del links
    return SourceReport(
        slug=source.slug,
        name=source.name,
        current=current,
        legacy=legacy,
        undated=undated,
        stray=tuple(stray),
        duplicates=_duplicates(source.slug, store, shared) if shared else (),
        lowest_id=lowest,
        newest_ms=newest,
    )


def _duplicates(slug: str, store: TreeStore, shared: set[int]) -> tuple[tuple[str, ...], ...]:
    """Files sharing one link (among those whose link's hash is ``shared``), each group sorted,
    groups in order of their first file."""
    by_link: dict[str, list[str]] = defaultdict(list)
    for record in store.records(slug):
        if record.link and hash(record.link) in shared:
            by_link[record.link].append(record.path or f"articles/{slug}/{record.id}.md")
    return tuple(sorted(tuple(sorted(paths)) for paths in by_link.values() if len(paths) > 1))


# -- the rest of articles/ -------------------------------------------------------------------


def _unknown_entries(root: Path, sources: Iterable[Source]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Folders under ``articles/`` that belong to no source, and files lying there directly."""
    known = {f"articles/{folder}" for s in sources for folder in (s.slug, s.name)}
    entries = [(f"articles/{name}", is_dir) for name, is_dir in _entries(root / "articles")]
    folders = tuple(f"{path}/" for path, is_dir in entries if is_dir and path not in known)
    files = tuple(path for path, is_dir in entries if not is_dir)
    return folders, files


# -- commit ----------------------------------------------------------------------------------


def commit_message(sources: Iterable[SourceReport]) -> str:
    """``newsmirror: take over the archive (N articles indexed)``, then one line per source."""
    found = [s for s in sources if s.articles]
    head = f"newsmirror: take over the archive ({sum(s.articles for s in found)} articles indexed)"
    lines = [f"{s.name} ({s.slug}): {s.current} current + {s.legacy} from 2020" for s in found]
    return "\n".join([head, "", *lines]).rstrip() + "\n"
