"""Pieces shared by the command modules."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..catalog import move_text, moves, takeover_sources
from ..config import ARCHIVE_CONFIG, Config
from ..core import Archive
from ..exceptions import ConfigError
from ..scaffold import BUILTIN_CONFIG, render_config
from ..sources import RunSources, sources_for_run
from . import actions

ARCHIVE_HELP = "the archive (default: here when this folder is one, else ./archive)"


def default_archive(here: Path | None = None) -> Path:
    """``.`` when the current folder is an archive (a clone of one: git and its newsmirror.toml),
    else ``./archive``, where ``run`` creates a new one: a command typed inside an archive acts
    on it, never on an ``archive/`` nested in it."""
    folder = here or Path(".")
    return (
        Path(".") if (folder / ".git").exists() and (folder / ARCHIVE_CONFIG).is_file() else Path("archive")
    )


def existing_archive(path: Path) -> Archive:
    """The archive at ``path``; commands that only read or adjust one never create it."""
    if not (path / ".git").exists():
        raise ConfigError(f"{path}: not a newsmirror archive (no git repository)")
    return Archive(path)


def run_sources(archive: Path, sources: Path | None, *, taking_over: bool = False) -> RunSources:
    """The sources the archive at ``archive`` runs (``--sources`` or its own file, with the
    ``NEWSMIRROR_*`` variables); the file's warnings shown on stderr (and in the Actions log).
    ``taking_over``: ``import``, which gives a duty-machine archive the built-in sources."""
    chosen = sources_for_run(
        archive,
        sources,
        environ=os.environ,
        builtin_text=render_config(Config(takeover_sources()) if taking_over else BUILTIN_CONFIG),
        builtin_label="original's outlets at their own feeds (the catalogue)"
        if taking_over
        else "built-in sources",
        taking_over=taking_over,
    )
    for warning in (*chosen.config.warnings, *(move_text(m) for m in moves(chosen.config))):
        print(f"newsmirror: {warning}", file=sys.stderr)
        if actions.in_actions():
            sys.stdout.write(actions.command("warning", warning, title="newsmirror: sources file"))
    return chosen


def archive_and_config(
    archive: Path, sources: Path | None, clock: Callable[[], datetime] | None
) -> tuple[Archive, Config]:
    """An existing archive (reading time from ``clock`` when given) and its sources."""
    found = existing_archive(archive)
    if clock is not None:
        found.clock = clock
    return found, run_sources(archive, sources).config
