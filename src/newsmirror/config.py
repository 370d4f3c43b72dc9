"""Sources and settings: one table of keys drives validation, defaults and the docs.

A sources file is TOML::

    [[source]]
    name = "路透"
    slug = "reuters"
    url = "https://feedx.net/rss/reuters.xml"

Optional keys are listed in ``SOURCE_KEYS``; ``[fetch]`` holds ``FETCH_KEYS``.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from .exceptions import ConfigError
from .types import Source


@dataclass(frozen=True, slots=True)
class Key:
    """One setting: its name, accepted type or values, default and meaning."""

    name: str
    kind: type | tuple[str, ...]
    default: Any
    doc: str


SOURCE_KEYS: Final = (
    Key("name", str, None, "站名: the source's name; its list page is `lists/<name>.md` (required)"),
    Key("slug", str, None, "folder under `articles/` (required; letters, digits, `-`, `_`)"),
    Key("url", str, None, "feed URL, http or https (required)"),
    Key(
        "body",
        ("description", "content"),
        "description",
        "feed field with the article HTML: `description` (RSS description, Atom summary, "
        "JSON Feed summary) or `content` (`content:encoded`, Atom content, JSON Feed content_html); "
        "falls back to the other when missing",
    ),
    Key("link", ("link", "guid"), "link", "feed field with the article URL: `link` or `guid`"),
    Key(
        "fulltext",
        str,
        None,
        "CSS selector: fetch each article page and use that element's inner HTML as the body",
    ),
    Key(
        "require_category",
        str,
        None,
        "regular expression; keep only items with at least one category matching it",
    ),
    Key(
        "ids",
        ("countdown", "post-id"),
        "countdown",
        "`countdown`: ids count down from 1048574 in date order; `post-id`: id = 1048575 XOR the "
        "WordPress post number of the guid's `?p=` (as the original did for CDT)",
    ),
    Key("refresh", bool, False, "re-read items already archived and rewrite a file when its content changed"),
)

RETIRED_SOURCE_KEYS: Final = {
    "late_window_hours": (
        float,
        "no longer used: every unseen item is archived, whatever its date (accepted in old sources files)",
    ),
}
"""Keys of earlier versions: still accepted (type-checked) in a sources file, and ignored."""

FETCH_KEYS: Final = (
    Key("concurrency", int, 16, "requests in flight at once"),
    Key("timeout", float, 30.0, "seconds allowed for one whole request"),
    Key("max_bytes", int, 20_000_000, "largest response body accepted, in bytes"),
    Key(
        "user_agent",
        str,
        "newsmirror/0.1 (+https://github.com/newsmirror/newsmirror)",
        "User-Agent header sent with every request; name your archive and a contact URL",
    ),
    Key("per_host", int, 4, "requests in flight at once to one host"),
    Key("retries", int, 2, "extra attempts after a transient failure (connection, timeout, 5xx)"),
    Key("retry_delay", float, 1.0, "seconds before the first retry; doubled each time, with jitter"),
    Key(
        "redirect_runs",
        int,
        3,
        "runs in a row a permanent redirect (301/308) must be seen before the "
        "source's URL is updated in the archive's state",
    ),
    Key(
        "run_interval_minutes",
        int,
        60,
        "how often the archive runs; a postponement (Retry-After, "
        "max-age) ending before the next run is not recorded",
    ),
    Key(
        "max_postpone_hours",
        float,
        24.0,
        "longest a source is postponed (Retry-After, max-age, Expires, backoff); a postponement "
        "saved further ahead (a clock that ran ahead) is ignored",
    ),
    Key("stale_days", float, 7.0, "a source with no new article for this many days is flagged stale"),
)

log = logging.getLogger(__name__)
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class FetchSettings:
    concurrency: int = 16
    timeout: float = 30.0
    max_bytes: int = 20_000_000
    user_agent: str = "newsmirror/0.1 (+https://github.com/newsmirror/newsmirror)"
    per_host: int = 4
    retries: int = 2
    retry_delay: float = 1.0
    redirect_runs: int = 3
    run_interval_minutes: int = 60
    max_postpone_hours: float = 24.0
    stale_days: float = 7.0


@dataclass(frozen=True, slots=True)
class Config:
    sources: tuple[Source, ...]
    fetch: FetchSettings = FetchSettings()


def _feedx(name: str, slug: str, feed: str) -> Source:
    return Source(name=name, slug=slug, url=f"https://feedx.net/rss/{feed}.xml")


BUILTIN_SOURCES: Final = (
    _feedx("路透", "reuters", "reuters"),
    _feedx("纽约时报", "nyt", "nytimes"),
    _feedx("美国之音", "voa", "mgzy1"),
    _feedx("金融时报", "ft", "ft"),
    _feedx("BBC", "bbc", "bbc"),
    _feedx("法广", "rfi", "rfi"),
    _feedx("德国之声", "dw", "dw"),
    Source(
        name="自由亚洲电台",
        slug="rfa",
        url="https://www.rfa.org/mandarin/yataibaodao/rss2.xml",
        body="content",
        link="guid",
    ),
    Source(
        name="中国数字时代",
        slug="cdt",
        url="https://chinadigitaltimes.net/chinese/feed/",
        fulltext="div.post-content",
        # the original's JavaScript test: ©, ®, U+2000–U+3300, or a surrogate pair led by
        # \ud83c–\ud83e (U+1F000–U+1FBFF, the emoji planes)
        require_category=r"[\u00a9\u00ae\u2000-\u3300\U0001F000-\U0001FBFF]",
        ids="post-id",
        refresh=True,
    ),
)


ARCHIVE_CONFIG = "newsmirror.toml"
"""The sources file an archive carries at its root (written by ``newsmirror init``)."""


def config_path_for(archive: Path, explicit: Path | None) -> Path | None:
    """The sources file a run uses: ``--sources``, else the archive's own, else none (built-ins)."""
    if explicit is not None:
        return explicit
    own = archive / ARCHIVE_CONFIG
    return own if own.is_file() else None


def load_config(path: Path | None) -> Config:
    """Read a sources file, or return the built-in sources when ``path`` is None."""
    if path is None:
        return Config(sources=BUILTIN_SOURCES)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: cannot read sources file: {e}") from e
    return parse_config(data, origin=str(path))


def parse_config(data: dict[str, Any], *, origin: str = "sources") -> Config:
    unknown = set(data) - {"source", "fetch"}
    if unknown:
        raise ConfigError(f"{origin}: unknown top-level keys: {', '.join(sorted(unknown))}")
    tables = data.get("source", [])
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{origin}: needs at least one [[source]] table")
    sources = tuple(_source(t, f"{origin}: source #{i + 1}") for i, t in enumerate(tables))
    _check_unique(sources, origin)
    fetch = FetchSettings(**_validated(data.get("fetch", {}), FETCH_KEYS, f"{origin}: [fetch]"))
    _check_fetch_values(fetch, f"{origin}: [fetch]")
    return Config(sources=sources, fetch=fetch)


def _source(table: Any, where: str) -> Source:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    values = _validated(_without_retired(table, where), SOURCE_KEYS, where)
    for required in ("name", "slug", "url"):
        if values.get(required) is None:
            raise ConfigError(f"{where}: missing required key {required!r}")
    _check_source_values(values, f"{where} ({values['slug']})")
    return Source(**values)


def _without_retired(table: dict[str, Any], where: str) -> dict[str, Any]:
    for name, (kind, doc) in RETIRED_SOURCE_KEYS.items():
        if name in table:
            _checked(Key(name, kind, None, doc), table[name], where)
            log.info("%s: %s is %s", where, name, doc)
    return {k: v for k, v in table.items() if k not in RETIRED_SOURCE_KEYS}


def _validated(table: dict[str, Any], keys: tuple[Key, ...], where: str) -> dict[str, Any]:
    known = {k.name: k for k in keys}
    unknown = set(table) - set(known)
    if unknown:
        raise ConfigError(f"{where}: unknown keys: {', '.join(sorted(unknown))}")
    values = {k.name: k.default for k in keys if k.default is not None}
    for name, value in table.items():
        values[name] = _checked(known[name], value, where)
    return values


def _checked(key: Key, value: Any, where: str) -> Any:
    if isinstance(key.kind, tuple):
        if value not in key.kind:
            raise ConfigError(f"{where}: {key.name} must be one of {', '.join(key.kind)}, not {value!r}")
        return value
    if key.kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, key.kind) or (key.kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: {key.name} must be {key.kind.__name__}, not {value!r}")
    return value


def _check_source_values(values: dict[str, Any], where: str) -> None:
    if not _SLUG.match(values["slug"]):
        raise ConfigError(f"{where}: slug must be letters, digits, '-' or '_'")
    if not values["name"].strip() or "/" in values["name"] or "\x00" in values["name"]:
        raise ConfigError(f"{where}: name must be non-empty and contain no '/'")
    if not re.match(r"^https?://", values["url"]):
        raise ConfigError(f"{where}: url must start with http:// or https://")
    if values.get("require_category") is not None:
        try:
            re.compile(values["require_category"])
        except re.error as e:
            raise ConfigError(f"{where}: require_category is not a valid regex: {e}") from e


# Bounds of the numeric [fetch] keys: inclusive low, high (inf, nan and negatives would crash or
# stall a run: a postponement of 10^300 hours cannot even be added to a date).
_FETCH_BOUNDS: Final = {
    "concurrency": (1, 1000),
    "timeout": (0.1, 3600.0),
    "max_bytes": (1, 10**10),
    "per_host": (1, 1000),
    "retries": (0, 10),
    "retry_delay": (0.0, 600.0),
    "redirect_runs": (1, 1000),
    "run_interval_minutes": (1, 7 * 24 * 60),
    "max_postpone_hours": (0.1, 24.0 * 365),
    "stale_days": (0.1, 3650.0),
}


def _check_fetch_values(fetch: FetchSettings, where: str) -> None:
    for name, (low, high) in _FETCH_BOUNDS.items():
        value = getattr(fetch, name)
        if not low <= value <= high:  # also false for nan
            raise ConfigError(f"{where}: {name} must be between {low:g} and {high:g}, not {value!r}")


def _check_unique(sources: tuple[Source, ...], origin: str) -> None:
    for attr in ("slug", "name"):
        seen: set[str] = set()
        for s in sources:
            value = getattr(s, attr)
            if value in seen:
                raise ConfigError(f"{origin}: two sources share the {attr} {value!r}")
            seen.add(value)


def select_sources(config: Config, only: list[str] | None) -> Config:
    """Keep the sources named in ``only`` (slugs); error on a slug that does not exist."""
    if not only:
        return config
    slugs = {s.slug for s in config.sources}
    missing = [o for o in only if o not in slugs]
    if missing:
        raise ConfigError(f"--only: no source with slug {', '.join(missing)}")
    return Config(sources=tuple(s for s in config.sources if s.slug in only), fetch=config.fetch)
