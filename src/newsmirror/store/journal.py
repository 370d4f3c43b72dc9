"""The journal: what a run is about to write, kept until it is committed.

Written (and synced) before any article file of a batch, removed after the commit.  A run that
finds one was interrupted: the articles it names are kept or dropped file by file
(``TreeStore.recover``), without walking the archive.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import StorageError
from ..types import Record
from . import lines as L

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Entry:
    slug: str
    record: Record
    path: str


class Journal:
    """A JSON-lines file outside the tree (None: a folder without git, nothing to journal)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def write(self, slug: str, records: Sequence[Record], paths: Sequence[str]) -> None:
        if self.path is None:
            return
        lines = (
            json.dumps(
                {"slug": slug, "path": path, "record": json.loads(L.record_line(r, with_month=True))},
                ensure_ascii=False,
            )
            + "\n"
            for r, path in zip(records, paths, strict=True)
        )
        try:
            with open(self.path, "a", encoding="utf-8") as out:
                out.writelines(lines)
                out.flush()
                os.fsync(out.fileno())
        except OSError as e:
            raise StorageError(f"{self.path}: cannot write the journal: {e}") from e

    def open(self) -> None:
        """Note that the tree is being changed (the journal exists until the commit)."""
        if self.path is None or self.path.exists():
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
            os.fsync(fd)
            os.close(fd)
        except OSError as e:
            raise StorageError(f"{self.path}: cannot write the journal: {e}") from e

    @property
    def exists(self) -> bool:
        return self.path is not None and self.path.exists()

    def note(self, paths: Sequence[str]) -> None:
        """Files about to be rewritten (their articles already indexed): committed by the next
        run if this one is stopped."""
        if self.path is None:
            return
        try:
            with open(self.path, "a", encoding="utf-8") as out:
                out.writelines(json.dumps({"path": p}, ensure_ascii=False) + "\n" for p in paths)
                out.flush()
                os.fsync(out.fileno())
        except OSError as e:
            raise StorageError(f"{self.path}: cannot write the journal: {e}") from e

    def entries(self) -> list[Entry]:
        """The articles the journal holds; a line a kill cut short is passed over."""
        if self.path is None:
            return []
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as e:
            raise StorageError(f"{self.path}: cannot read the journal: {e}") from e
        found = []
        for line in text.split("\n"):
            try:
                data = json.loads(line)
                record = L.record_from_fields(data["record"], None)
                found.append(Entry(str(data["slug"]), record, str(data["path"])))
            except (ValueError, KeyError, TypeError):
                continue
        return found

    def paths(self) -> list[str]:
        """Every path named, articles written and files rewritten."""
        if self.path is None or not self.path.exists():
            return []
        found = []
        for line in self.path.read_text(encoding="utf-8", errors="replace").split("\n"):
            try:
                found.append(str(json.loads(line)["path"]))
            except (ValueError, KeyError, TypeError):
                continue
        return found

    def clear(self) -> None:
        if self.path is not None:
            with suppress(FileNotFoundError):
                self.path.unlink()
