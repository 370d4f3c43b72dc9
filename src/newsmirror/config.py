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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar, cast

from .exceptions import ConfigError
from .transform.extract import selector_error
from .types import Source

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Key:
    """One setting: its name, accepted type or values, default and meaning."""

    name: str
    kind: type | tuple[str, ...]
    default: Any
    doc: str
    bounds: tuple[float, float] | None = None
    """Inclusive range of a number: infinities, NaN and values that would stall or crash a run
    (``concurrency = 0`` waits forever, a postponement of 10^300 hours cannot be added to a date)."""


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
    Key("concurrency", int, 16, "requests in flight at once", (1, 1000)),
    Key("timeout", float, 30.0, "seconds allowed for one whole request", (0.1, 3600)),
    Key("max_bytes", int, 20_000_000, "largest response body accepted, in bytes", (1, 10**10)),
    Key(
        "user_agent",
        str,
        "newsmirror/0.1 (+https://github.com/newsmirror/newsmirror)",
        "User-Agent header sent with every request; name your archive and a contact URL",
    ),
    Key("per_host", int, 4, "requests in flight at once to one host", (1, 1000)),
    Key("retries", int, 2, "extra attempts after a transient failure (connection, timeout, 5xx)", (0, 10)),
    Key("retry_delay", float, 1.0, "seconds before the first retry; doubled each time, with jitter", (0, 60)),
    Key(
        "redirect_runs",
        int,
        3,
        "runs in a row a permanent redirect (301/308) must be seen before the "
        "source's URL is updated in the archive's state",
        (1, 1000),
    ),
    Key(
        "run_interval_minutes",
        int,
        60,
        "how often the archive runs; a postponement (Retry-After, "
        "max-age) ending before the next run is not recorded",
        (1, 7 * 24 * 60),
    ),
    Key(
        "max_postpone_hours",
        float,
        24.0,
        "longest a source is postponed (Retry-After, max-age, Expires, backoff); a postponement "
        "saved further ahead (a clock that ran ahead) is ignored",
        (0.1, 24 * 365),
    ),
    Key("stale_days", float, 7.0, "a source with no new article for this many days is stale", (0.1, 999)),
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
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: cannot read sources file: {e}") from e
    try:
        return parse_config(data, origin=str(path))
    except SettingError as e:
        line = _line_of(text, e.table, e.key)
        if line is None:
            raise
        raise ConfigError(e.message.replace(f"{path}:", f"{path}:{line}:", 1)) from e


class SettingError(ConfigError):
    """A setting's value is refused; ``key`` and the table say where it is written."""

    def __init__(self, message: str, key: str, table: tuple[str, int] | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.table = table
        """``("source", n)`` for the n-th ``[[source]]`` (from 1), ``("fetch", 0)``."""


def _line_of(text: str, table: tuple[str, int] | None, key: str) -> int | None:
    """The line where ``key`` is written in that table of the TOML text (None if not found)."""
    if table is None:
        return None
    kind, number = table
    current, seen = "", 0
    assignment = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for line_number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            current = "source" if stripped.startswith("[[source]]") else stripped.strip("[] ")
            seen += current == "source"
        elif current == kind and (kind != "source" or seen == number) and assignment.match(line):
            return line_number
    return None


def parse_config(data: dict[str, Any], *, origin: str = "sources") -> Config:
    unknown = set(data) - {"source", "fetch"}
    if unknown:
        raise ConfigError(f"{origin}: unknown top-level keys: {', '.join(sorted(unknown))}")
    tables = data.get("source", [])
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{origin}: needs at least one [[source]] table")
    sources = tuple(
        _in_table(("source", i + 1), _source, table, f"{origin}: source #{i + 1}")
        for i, table in enumerate(tables)
    )
    _check_unique(sources, origin)
    where = f"{origin}: [fetch]"
    fetch = FetchSettings(**_in_table(("fetch", 0), _validated, data.get("fetch", {}), FETCH_KEYS, where))
    return Config(sources=sources, fetch=fetch)


def _in_table(table: tuple[str, int], check: Callable[..., T], *args: Any) -> T:
    """``check(*args)``, its refusals marked with the table they are about (for the line)."""
    try:
        return check(*args)
    except SettingError as e:
        e.table = table
        raise


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
            message = f"{where}: {key.name} must be one of {', '.join(key.kind)}, not {value!r}"
            raise SettingError(message, key.name)
        return value
    if key.kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, key.kind) or (key.kind is int and isinstance(value, bool)):
        raise SettingError(f"{where}: {key.name} must be {key.kind.__name__}, not {value!r}", key.name)
    if key.bounds is not None and not key.bounds[0] <= cast(float, value) <= key.bounds[1]:  # False for NaN
        low, high = key.bounds
        message = f"{where}: {key.name} must be between {low:g} and {high:g}, not {value!r}"
        raise SettingError(message, key.name)
    return value


# A name or slug becomes a file name (``lists/<name>.md``, ``.newsmirror/index/<slug>.jsonl``):
# at most 255 bytes on the file systems archives live on, less the longest suffix.
_NAME_BYTES: Final = 240
_CONTROLS: Final = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")


def _check_source_values(values: dict[str, Any], where: str) -> None:
    slug, name, url = values["slug"], values["name"], values["url"]
    if not _SLUG.fullmatch(slug):  # fullmatch: "$" would let "abc\n" through
        raise SettingError(f"{where}: slug must be letters, digits, '-' or '_'", "slug")
    if not name.strip() or "/" in name or _CONTROLS.search(name):
        raise SettingError(f"{where}: name must be non-empty, without '/' or control characters", "name")
    for key, text in (("name", name), ("slug", slug)):
        if len(text.encode("utf-8")) > _NAME_BYTES:
            message = f"{where}: {key} is {len(text.encode())} bytes of UTF-8; file names allow {_NAME_BYTES}"
            raise SettingError(message, key)
    if not re.match(r"^https?://[^\s]+$", url) or _CONTROLS.search(url):
        raise SettingError(f"{where}: url must be an http:// or https:// URL without spaces", "url")
    if values.get("require_category") is not None:
        try:
            re.compile(values["require_category"])
        except re.error as e:
            message = f"{where}: require_category is not a valid regex: {e}"
            raise SettingError(message, "require_category") from e
    if values.get("fulltext") is not None:
        problem = selector_error(values["fulltext"])
        if problem is not None:
            raise SettingError(f"{where}: fulltext is not a CSS selector: {problem}", "fulltext")


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
