"""Pieces shared by the command modules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..config import Config, config_path_for, load_config
from ..core import Archive
from ..exceptions import ConfigError


def existing_archive(path: Path) -> Archive:
    """The archive at ``path``; commands that only read or adjust one never create it."""
    if not (path / ".git").exists():
        raise ConfigError(f"{path}: not a newsmirror archive (no git repository)")
    return Archive(path)


def archive_and_config(
    archive: Path, sources: Path | None, clock: Callable[[], datetime] | None
) -> tuple[Archive, Config]:
    """An existing archive (reading time from ``clock`` when given) and its sources file."""
    found = existing_archive(archive)
    if clock is not None:
        found.clock = clock
    return found, load_config(config_path_for(archive, sources))
