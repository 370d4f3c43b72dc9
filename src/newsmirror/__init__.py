"""newsmirror: a censorship-resistant git archive of news feeds (duty-machine compatible)."""

from .config import BUILTIN_SOURCES, Config, FetchSettings, load_config
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
__version__ = "0.1.0"
