"""The sources' fetching state in the tree (``.newsmirror/status.json``, committed when it is worth
it) and on this machine (``<git dir>/newsmirror-status.json``, after every run)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..archive_format import content_hash
from ..exceptions import StorageError
from ..schedule import SourceState
from .files import TreeFiles

log = logging.getLogger(__name__)

STATUS = ".newsmirror/status.json"
LOCAL = "newsmirror-status.json"


class StateFiles:
    """``files``: the tree; ``local``: the folder of this machine's state (None: none kept);
    ``committed``: a file's bytes at HEAD."""

    def __init__(
        self, files: TreeFiles, local: Path | None, committed: Callable[[str], bytes | None]
    ) -> None:
        self.files, self.local, self._committed = files, local, committed

    def load(self, *, lasting: bool = False) -> dict[str, SourceState]:
        """The committed states (``lasting``), or this machine's fresher ones (validators and
        times a run did not commit) when they were saved over the committed ones still there
        (a pull that brought another writer's states makes this machine's stale)."""
        committed_text = self.files.read(STATUS)
        committed = _states_of(committed_text, warn=True)
        if lasting or self.local is None:
            return committed
        local = self._read_local()
        if not isinstance(local, dict) or local.get("based_on") != _digest(committed_text):
            return committed
        fresher = local.get("states")
        if not isinstance(fresher, dict):
            return committed
        return {**committed, **{str(k): SourceState.from_json(v) for k, v in fresher.items()}}

    def _read_local(self) -> Any:
        assert self.local is not None
        try:
            return json.loads((self.local / LOCAL).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def save(self, states: Mapping[str, SourceState], *, lasting: bool) -> None:
        text = _states_text(states)
        if lasting or self.local is None:
            self.files.write(STATUS, text)
        if self.local is not None:
            local = {"based_on": _digest(self.files.read(STATUS)), "states": json.loads(text)}
            path = self.local / LOCAL
            try:
                path.write_text(json.dumps(local, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            except OSError as e:  # a read-only or full .git: a storage error, not a crash
                raise StorageError(f"{path}: cannot write the local state: {e}") from e

    def as_committed(self) -> None:
        """Forget the fetch state of a run that did not finish: its validators would make the
        feeds answer 304, and the pages of what it stored would never be rendered."""
        committed = self._committed(STATUS)
        if committed is None:
            self.files.remove(STATUS)
        else:
            self.files.write(STATUS, committed.decode("utf-8", errors="replace"))
        if self.local is not None:
            (self.local / LOCAL).unlink(missing_ok=True)


def _states_of(text: str | None, *, warn: bool) -> dict[str, SourceState]:
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except ValueError as e:  # not JSON: start over rather than stop every run
        if warn:
            log.warning("%s: unreadable, every source starts with a fresh state: %s", STATUS, e)
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(slug): SourceState.from_json(value) for slug, value in data.items()}


def _digest(text: str | None) -> str:
    return "none" if text is None else content_hash(text)


def _states_text(states: Mapping[str, SourceState]) -> str:
    data = {slug: state.to_json() for slug, state in sorted(states.items())}
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
