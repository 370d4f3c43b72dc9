"""newsmirror: a censorship-resistant git archive of news feeds (duty-machine compatible)."""

__version__ = "0.1.0"  # the one version source (pyproject.toml reads it); first, for the modules below

from .catalog import BUILTIN_SOURCES
from .config import Config, FetchSettings, load_config
from .core import Archive, open_archive
from .exceptions import (
    ArchiveLockedError,
    ConfigError,
    FetchError,
    NewsmirrorError,
    ParseError,
    PublishError,
    RenderError,
    StorageError,
)
from .types import RunResult, Source, SourceResult

__all__ = [
    "BUILTIN_SOURCES",
    "Archive",
    "ArchiveLockedError",
    "Config",
    "ConfigError",
    "FetchError",
    "FetchSettings",
    "NewsmirrorError",
    "ParseError",
    "PublishError",
    "RenderError",
    "RunResult",
    "Source",
    "SourceResult",
    "StorageError",
    "load_config",
    "open_archive",
]
