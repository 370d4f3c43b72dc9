"""Writing files into the archive's tree: atomic, deterministic, remembered for the commit.

Every write goes to a temporary file first, then is renamed into place; the temporary files
live in one folder outside the tree (``<git dir>/newsmirror-tmp``), so a killed run's leftovers
are removed without walking the archive.  Every path written or removed is remembered: the
commit stages exactly those, never the whole tree.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from ..exceptions import StorageError

TEMP_MARK = ".tmp-"


class TreeFiles:
    """Reads and writes under ``root``; temporary files in ``scratch`` (made when needed)."""

    def __init__(
        self, root: Path, scratch: Path | None, *, before_first: Callable[[], None] | None = None
    ) -> None:
        self.root = root
        self.scratch = scratch
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
            return None
        except OSError as e:
            raise StorageError(f"{path}: cannot read: {e}") from e

    def write(self, relative: str, text: str) -> bool:
        """Write ``text`` unless the file already holds it; True when written."""
        data = text.encode("utf-8")
        if self.read_bytes(relative) == data:
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
        if not path.exists():
            return
        if self._before_first is not None and not self.changed:
            self._before_first()
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except OSError as e:
            raise StorageError(f"{path}: cannot remove: {e}") from e
        self.changed.add(relative)

    def move(self, old: str, new: str) -> None:
        """Rename a file within the tree (refusing to replace one at ``new``)."""
        source, target = self.path(old), self.path(new)
        if self._before_first is not None and not self.changed:
            self._before_first()
        self._folder(target.parent)
        try:
            os.link(source, target)
            os.unlink(source)
        except OSError as e:
            raise StorageError(f"{source}: cannot move to {target}: {e}") from e
        self.changed.update((old, new))

    def remove_leftovers(self) -> list[str]:
        """Delete the temporary files a killed run left; what was removed."""
        found: list[str] = []
        if self.scratch is not None and self.scratch.is_dir():
            found = sorted(p.name for p in self.scratch.iterdir())
            shutil.rmtree(self.scratch, ignore_errors=True)
            self._made.discard(self.scratch)  # made again by the next write
        # Versions before 0.9 wrote them beside their files: the root, lists/ and .newsmirror/
        for folder in (self.root, self.root / "lists", self.root / ".newsmirror"):
            if folder.is_dir():
                for path in folder.glob(f".*{TEMP_MARK}*"):
                    if path.is_file():
                        path.unlink(missing_ok=True)
                        found.append(str(path.relative_to(self.root)))
        return found

    def _temp(self, path: Path, data: bytes) -> str:
        """``data`` in a temporary file on the same filesystem as ``path``."""
        if self._before_first is not None and not self.changed:
            self._before_first()
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
