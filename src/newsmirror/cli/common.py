"""Pieces shared by the command modules."""

from __future__ import annotations

from pathlib import Path

from ..core import Archive
from ..exceptions import ConfigError


def existing_archive(path: Path) -> Archive:
    """The archive at ``path``; commands that only read or adjust one never create it."""
    if not (path / ".git").exists():
        raise ConfigError(f"{path}: not a newsmirror archive (no git repository)")
    return Archive(path)
