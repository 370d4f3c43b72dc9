"""Writing files into the archive's tree: atomic, deterministic, remembered for the commit.

Every write goes to a temporary file first, then is renamed into place; the temporary files
live in one folder outside the tree (``<git dir>/newsmirror-tmp``), so a killed run's leftovers
are removed without walking the archive.  Every path written or removed is remembered: the
commit stages exactly those, never the whole tree.

A checkout may leave committed files out (the generated workflow's holds only the summaries):
such a file reads as HEAD holds it, fetched when first asked for (``prefetch`` fetches many in
one request), and a write compares with HEAD's object id, so an unchanged page is not even
downloaded.  What is written lands in the tree and is committed as usual.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path

from ..exceptions import StorageError
from .head import Committed, NothingCommitted

TEMP_MARK = ".tmp-"


class TreeFiles:
    """Reads and writes under ``root``; temporary files in ``scratch`` (made when needed)."""

    def __init__(
        self,
        root: Path,
        scratch: Path | None,
        *,
        before_first: Callable[[], None] | None = None,
        head: Committed | None = None,
    ) -> None:
        self.root = root
        self.scratch = scratch
        self.head: Committed = head if head is not None else NothingCommitted()
        self._from_head: dict[str, bytes | None] = {}
        self._head_ids: dict[str, str | None] = {}
        self._listings: dict[str, set[str]] = {}
        self.removed: set[str] = set()
        """Paths this process removed (a file left out of the checkout among them)."""
        self._before_first = before_first
        """Called once before the first change (the store notes that the tree is being changed)."""
        self.changed: set[str] = set()
        """Paths (relative, ``/``-separated) written or removed since the last ``settled``."""
        self._made: set[Path] = set()
        self._written = 0
        self._devices: dict[Path, bool] = {}

    def path(self, relative: str) -> Path:
        return Path(f"{self.root}/{relative}")

    def read(self, relative: str) -> str | None:
        """The file's text (bad UTF-8 replaced), None when there is none."""
        data = self.read_bytes(relative)
        return None if data is None else data.decode("utf-8", errors="replace")

    def read_bytes(self, relative: str) -> bytes | None:
        path = self.path(relative)
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return self._left_out(relative)
        except OSError as e:
            raise StorageError(f"{path}: cannot read: {e}") from e

    def _leaves_out(self, relative: str) -> bool:
        """Whether ``relative``, absent from the tree, may be a file the checkout left out."""
        return self.head.leaves_out and relative not in self.changed

    def _left_out(self, relative: str) -> bytes | None:
        if not self._leaves_out(relative):
            return None
        if relative not in self._from_head:
            if not self._in_head(relative):
                return None  # known from its folder's listing: nothing to download
            self.prefetch([relative])
        return self._from_head.get(relative)

    def _in_head(self, relative: str) -> bool:
        """Whether HEAD has ``relative``, from its folder's listing (one git call a folder)."""
        folder, _, name = relative.rpartition("/")
        if folder not in self._listings:
            self._listings[folder] = self.head.listing(folder)
        return name in self._listings[folder]

    def prefetch(self, paths: Iterable[str]) -> None:
        """Read those of ``paths`` the checkout left out from HEAD, together: a partial clone
        downloads them in one request instead of one each. Raises StorageError."""
        wanted = [
            p
            for p in dict.fromkeys(paths)
            if p not in self._from_head and self._leaves_out(p) and not self.path(p).exists()
        ]
        if wanted:
            found = self.head.blobs(wanted)
            self._from_head.update((p, found.get(p)) for p in wanted)

    def forget(self, relative: str) -> None:
        """Drop what was read of ``relative`` from HEAD (a reindex reads each shard once)."""
        self._from_head.pop(relative, None)

    def exists(self, relative: str) -> bool:
        """Whether the file or folder is there: in the tree, or committed and left out of it."""
        if self.path(relative).exists():
            return True
        return self._leaves_out(relative) and self._in_head(relative)

    def files_under(self, folder: str) -> list[str]:
        """Every file under ``folder``: the tree's, and those committed that it leaves out."""
        base = self.path(folder)
        found = {p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file()}
        if self.head.leaves_out:
            found.update(p for p in self.head.names(folder) if p not in self.changed)
        return sorted(found)

    def know_ids(self, paths: Iterable[str]) -> None:
        """Learn HEAD's object ids of those of ``paths`` left out of the checkout, together, so
        that writing them compares without downloading them (pages written every run)."""
        wanted = [p for p in dict.fromkeys(paths) if p not in self._head_ids and self._leaves_out(p)]
        wanted = [p for p in wanted if not self.path(p).exists()]
        if wanted:
            entries = self.head.entries(wanted)
            self._head_ids.update((p, _blob_id_of(entries.get(p))) for p in wanted)

    def staged(self) -> list[str]:
        """The paths to commit: those written, and those removed; a file merely left out of
        the checkout is not taken for removed (git would record it deleted)."""
        return sorted(
            p for p in self.changed if not self.head.leaves_out or p in self.removed or self.path(p).exists()
        )

    def settle(self) -> None:
        """What was written is committed: forget it (and what HEAD held before)."""
        self.changed.clear()
        self.removed.clear()
        self._from_head.clear()
        self._head_ids.clear()
        self._listings.clear()

    def holds(self, relative: str, data: bytes) -> bool:
        """Whether the file already holds ``data`` (left out of the checkout: HEAD's does)."""
        path = self.path(relative)
        try:
            return path.read_bytes() == data
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError as e:
            raise StorageError(f"{path}: cannot read: {e}") from e
        if not self._leaves_out(relative):
            return False
        if relative in self._from_head:
            return self._from_head[relative] == data
        if relative not in self._head_ids:
            if not self._in_head(relative):
                return False
            self.know_ids([relative])
        oid = self._head_ids.get(relative)
        return oid is not None and oid == _git_blob_id(data, len(oid))

    def write(self, relative: str, text: str) -> bool:
        """Write ``text`` unless the file already holds it; True when written."""
        return self.write_bytes(relative, text.encode("utf-8"))

    def write_bytes(self, relative: str, data: bytes) -> bool:
        """Write ``data`` unless the file already holds it; True when written."""
        if self.holds(relative, data):
            return False
        path = self.path(relative)
        temp = self._temp(path, data)
        try:
            os.replace(temp, path)
        except OSError as e:
            with suppress(FileNotFoundError):
                os.unlink(temp)
            raise StorageError(f"{path}: cannot write: {e}") from e
        self.changed.add(relative)
        return True

    def create(self, relative: str, text: str) -> None:
        """Write a new file; StorageError rather than replace one that exists (an empty file is
        what a power loss left of a write that never reached the disk, and is replaced)."""
        path = self.path(relative)
        temp = self._temp(path, text.encode("utf-8"))
        try:
            os.link(temp, path)  # atomic, and fails rather than replace an existing file
        except FileExistsError as e:
            if not _empty_file(path):
                raise StorageError(f"{path}: refusing to overwrite an existing article file") from e
            os.replace(temp, path)
        except OSError:
            self._create_without_links(path, temp)
        finally:
            with suppress(FileNotFoundError):
                os.unlink(temp)
        self.changed.add(relative)

    @staticmethod
    def _create_without_links(path: Path, temp: str) -> None:
        """For filesystems without hard links; safe because the run lock excludes other writers."""
        if path.exists() and not _empty_file(path):
            raise StorageError(f"{path}: refusing to overwrite an existing article file")
        try:
            os.replace(temp, path)
        except OSError as e:
            raise StorageError(f"{path}: cannot write: {e}") from e

    def remove(self, relative: str) -> None:
        path = self.path(relative)
        self._from_head.pop(relative, None)
        if not path.exists():
            if self.exists(relative):  # committed, left out of the checkout: removed all the same
                self._note_first()
                self.changed.add(relative)
                self.removed.add(relative)
            return
        self._note_first()
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except OSError as e:
            raise StorageError(f"{path}: cannot remove: {e}") from e
        self.changed.add(relative)
        self.removed.add(relative)

    def _note_first(self) -> None:
        if self._before_first is not None and not self.changed:
            self._before_first()

    def move(self, old: str, new: str) -> None:
        """Rename a file within the tree (refusing to replace one at ``new``)."""
        source, target = self.path(old), self.path(new)
        self._note_first()
        self._folder(target.parent)
        try:
            os.link(source, target)
            os.unlink(source)
        except OSError as e:
            raise StorageError(f"{source}: cannot move to {target}: {e}") from e
        self.changed.update((old, new))
        self.removed.add(old)

    def remove_leftovers(self) -> list[str]:
        """Delete the temporary files a killed run left; what was removed."""
        found: list[str] = []
        if self.scratch is not None and self.scratch.is_dir():
            found = sorted(p.name for p in self.scratch.iterdir())
            shutil.rmtree(self.scratch, ignore_errors=True)
            self._made.discard(self.scratch)  # made again by the next write
        # Archives of state format 1 had them beside their files: the root, lists/ and .newsmirror/
        for folder in (self.root, self.root / "lists", self.root / ".newsmirror"):
            if folder.is_dir():
                for path in folder.glob(f".*{TEMP_MARK}*"):
                    if path.is_file():
                        path.unlink(missing_ok=True)
                        found.append(str(path.relative_to(self.root)))
        return found

    def _temp(self, path: Path, data: bytes) -> str:
        """``data`` in a temporary file on the same filesystem as ``path``."""
        self._note_first()
        self._folder(path.parent)
        if self.scratch is not None and self._beside_scratch(path.parent):
            self._folder(self.scratch)
            self._written += 1
            return _write_new(f"{self.scratch}/{os.getpid()}-{self._written}", data, path)
        return _write_new(f"{path.parent}/.{path.name}{TEMP_MARK}{os.getpid()}", data, path)

    def _beside_scratch(self, folder: Path) -> bool:
        """Whether a file in ``scratch`` can be renamed into ``folder`` (the same filesystem)."""
        assert self.scratch is not None
        if folder not in self._devices:
            self._folder(self.scratch)
            self._devices[folder] = _same_device(self.scratch, folder)
        return self._devices[folder]

    def _folder(self, folder: Path) -> None:
        if folder in self._made:
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"{folder}: cannot make the folder: {e}") from e
        self._made.add(folder)


def _write_new(temp: str, data: bytes, target: Path) -> str:
    try:
        with open(temp, "wb") as out:
            out.write(data)
    except OSError as e:
        with suppress(FileNotFoundError):
            os.unlink(temp)
        if e.errno == errno.ENAMETOOLONG:
            raise StorageError(f"{target}: cannot write: the name is too long") from e
        raise StorageError(f"{target}: cannot write: {e}") from e
    return temp


def _same_device(a: Path, b: Path) -> bool:
    try:
        return os.stat(a).st_dev == os.stat(b).st_dev
    except OSError:
        return False


def _empty_file(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size == 0
    except OSError:
        return False


def _blob_id_of(entry: tuple[str, str] | None) -> str | None:
    return entry[1] if entry is not None and entry[0] == "blob" else None


def _git_blob_id(data: bytes, length: int) -> str:
    """The id git gives a file of ``data`` (SHA-1, or SHA-256 in a repository that uses it)."""
    digest = hashlib.sha1 if length == 40 else hashlib.sha256
    return digest(b"blob %d\0" % len(data) + data).hexdigest()
