"""Sources and settings: one table of keys drives validation, defaults and the docs.

A sources file is TOML::

    [[source]]
    name = "路透"
    slug = "reuters"
    url = "https://feedx.net/rss/reuters.xml"

Optional keys are listed in ``SOURCE_KEYS``; ``[fetch]`` holds ``FETCH_KEYS``.
"""

from __future__ import annotations

import difflib
import logging
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, cast

from . import __version__
from .exceptions import ConfigError
from .transform.extract import selector_error
from .transform.images import DEFAULT_PROXY
from .types import Source

USER_AGENT: Final = f"newsmirror/{__version__} (+https://github.com/newsmirror/newsmirror)"


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
    Key(
        "link",
        ("link", "guid"),
        "link",
        "feed field with the article URL: `link` or `guid`; a relative link is resolved against `url`",
    ),
    Key(
        "fulltext",
        str,
        None,
        'fetch each article page for the body: `"auto"` finds it (the site\'s rule, else a generic '
        "extractor, then a quality gate that keeps the feed's body when the page's is no better), "
        "a CSS selector takes that element's inner HTML (re-serialised by an HTML5 parser, as the "
        "original's jsdom did)",
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
    Key(
        "images",
        ("proxy", "keep", "archive"),
        "proxy",
        "`proxy`: every image of a body (src, srcset, picture sources, lazy-loading attributes, video "
        "posters) is made absolute and rewritten through `image_proxy`, so that it loads where the "
        "image host is blocked; `archive`: each picture is also downloaded and kept on the images "
        "branch, and the body points at that copy (the proxy where it could not be kept); "
        "`keep`: as the source gave it",
    ),
    Key(
        "active",
        bool,
        True,
        "`false`: the source is no longer fetched, and its articles stay listed on the README and "
        "its list pages (an outlet whose feed ended; `sources remove` drops it from the README too)",
    ),
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
        USER_AGENT,
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
    Key(
        "image_proxy",
        str,
        DEFAULT_PROXY,
        'the image proxy of sources with `images = "proxy"`: `{host_path}` is the image\'s URL '
        "without its scheme, `{url}` the whole URL escaped as a query value",
    ),
    Key(
        "image_archive_branch",
        str,
        "images",
        'branch that keeps the pictures of sources with `images = "archive"`, at '
        "`<2 hex>/<2 hex>/<sha-256>.<ext>`",
    ),
    Key(
        "image_archive_repository",
        str,
        "",
        "path (from the archive's folder) of another git repository for that branch — a bare clone "
        "is enough — so that the archive's repository holds no picture; empty: the archive's own",
    ),
    Key(
        "image_archive_url",
        str,
        "",
        "where readers find the kept pictures: a body points at `<url>ab/cd/<sha-256>.jpg`; empty: "
        "GitHub's address of the branch when `origin` is on GitHub, else the bodies keep the proxy",
    ),
    Key("image_max_bytes", int, 5_000_000, "largest picture kept, in bytes", (1, 10**9)),
    Key("image_timeout", float, 20.0, "seconds allowed for downloading one picture", (0.1, 3600)),
    Key(
        "images_per_run",
        int,
        500,
        "most pictures one run downloads; the others keep the proxy, reported on their article",
        (0, 10**6),
    ),
)

log = logging.getLogger(__name__)
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class FetchSettings:
    concurrency: int = 16
    timeout: float = 30.0
    max_bytes: int = 20_000_000
    user_agent: str = USER_AGENT
    per_host: int = 4
    retries: int = 2
    retry_delay: float = 1.0
    redirect_runs: int = 3
    run_interval_minutes: int = 60
    max_postpone_hours: float = 24.0
    stale_days: float = 7.0
    image_proxy: str = DEFAULT_PROXY
    image_archive_branch: str = "images"
    image_archive_repository: str = ""
    image_archive_url: str = ""
    image_max_bytes: int = 5_000_000
    image_timeout: float = 20.0
    images_per_run: int = 500


@dataclass(frozen=True, slots=True)
class Config:
    sources: tuple[Source, ...]
    fetch: FetchSettings = FetchSettings()
    warnings: tuple[str, ...] = field(default=(), compare=False)
    """What the load found questionable but read anyway (unknown keys), for the command to show."""


# The nine sources duty-machine/news read, as it read them (most through feedx.net, dead since):
# the conformance cases replay them. A new archive's sources are the catalogue's (catalog.toml).
def _feedx(name: str, slug: str, feed: str) -> Source:
    return Source(name=name, slug=slug, url=f"https://feedx.net/rss/{feed}.xml", images="keep")


ORIGINAL_SOURCES: Final = (
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
        images="keep",
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
        images="keep",  # the original kept images as the source gave them (feedx proxied its own)
    ),
)


def settings_reference() -> str:
    """The README's settings reference (Markdown), generated from the key tables; a test keeps
    the README's copy equal to it, and ``newsmirror config reference`` prints it."""
    lines = [
        "Each `[[source]]` table of `newsmirror.toml`:",
        "",
        "| key | type | default | meaning |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{k.name}` | {_kind_text(k)} | {_default_text(k)} | {_cell(k.doc)} |" for k in SOURCE_KEYS]
    lines += [
        "",
        "The `[fetch]` table, for every source; each key can also be set by its environment variable, "
        "which wins over the file:",
        "",
        "| key | environment variable | type | default | range | meaning |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| `{k.name}` | `{env_name(k)}` | {_kind_text(k)} | {_default_text(k)} | "
        f"{_bounds_text(k)} | {_cell(k.doc)} |"
        for k in FETCH_KEYS
    ]
    return "\n".join(lines) + "\n"


_TYPE_NAMES: Final[dict[type, str]] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
}
"""How errors and the settings reference name a key's type."""


def _kind_text(key: Key) -> str:
    if isinstance(key.kind, tuple):
        return " or ".join(f"`{choice}`" for choice in key.kind)
    return {str: "string", int: "integer", float: "number", bool: "`true` or `false`"}[key.kind]


def _default_text(key: Key) -> str:
    if key.default is None:
        return "—"
    if isinstance(key.default, bool):
        return f"`{str(key.default).lower()}`"
    return f"`{key.default!r}`" if isinstance(key.default, str) else f"`{_number(key.default)}`"


def _bounds_text(key: Key) -> str:
    return "—" if key.bounds is None else f"{_number(key.bounds[0])} – {_number(key.bounds[1])}"


def _number(value: float) -> str:
    """As a TOML file would hold it: ``20000000``, not ``2e+07``; ``0.1``; ``30``."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


ARCHIVE_CONFIG = "newsmirror.toml"
"""The sources file an archive carries at its root: the sources in effect, committed."""

ENV_PREFIX: Final = "NEWSMIRROR_"
"""``NEWSMIRROR_<KEY>`` sets a ``[fetch]`` key for one process, over the file (a CI secret, a
one-off run); see ``env_name``."""


def env_name(key: Key) -> str:
    return f"{ENV_PREFIX}{key.name.upper()}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a sources file, with where it is written when that can be found."""

    message: str
    warning: bool = False
    key: str | None = None
    table: tuple[str, int] | None = None
    """``("source", n)`` for the n-th ``[[source]]`` (from 1), ``("fetch", 0)``, None for the file."""
    line: int | None = None

    def shown(self, origin: str) -> str:
        where = origin if self.line is None else f"{origin}:{self.line}"
        return f"{where}: {'warning: ' if self.warning else ''}{self.message}"


class _Problems:
    """What a check found: errors stop a load, warnings are logged."""

    def __init__(self) -> None:
        self.found: list[Problem] = []
        self.table: tuple[str, int] | None = None

    def error(self, message: str, key: str | None = None) -> None:
        self.found.append(Problem(message, key=key, table=self.table))

    def warn(self, message: str, key: str | None = None) -> None:
        self.found.append(Problem(message, warning=True, key=key, table=self.table))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.found if not p.warning]


def load_config(path: Path, *, environ: Mapping[str, str] | None = None) -> Config:
    """Read a sources file, with the ``NEWSMIRROR_*`` variables of ``environ`` over its
    ``[fetch]``.  ConfigError naming the file, line and key of every error; warnings (unknown
    keys) are logged."""
    config, problems = _checked_file(path, environ or {})
    return _outcome(config, problems, str(path))


def _outcome(config: Config | None, problems: _Problems, origin: str) -> Config:
    if problems.errors or config is None:
        raise ConfigError("\n".join(p.shown(origin) for p in problems.errors))
    warnings = tuple(p.shown(origin) for p in problems.found if p.warning)
    for warning in warnings:
        log.warning("%s", warning)
    return replace(config, warnings=warnings)


def check_config(path: Path, *, environ: Mapping[str, str] | None = None) -> list[Problem]:
    """Every error and warning in the sources file at ``path`` (``newsmirror config check``)."""
    return _checked_file(path, environ or {})[1].found


def _checked_file(path: Path, environ: Mapping[str, str]) -> tuple[Config | None, _Problems]:
    problems = _Problems()
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        line = re.search(r"\(at line (\d+)", str(e))
        problems.found.append(Problem(f"cannot read sources file: {e}", line=line and int(line[1])))
        return None, problems
    config = _parse(data, problems, environ)
    problems.found = [replace(p, line=_line_of(text, p.table, p.key)) for p in problems.found]
    return config, problems


def parse_config(
    data: dict[str, Any], *, origin: str = "sources", environ: Mapping[str, str] | None = None
) -> Config:
    """The config a parsed TOML document gives; ConfigError listing every error."""
    problems = _Problems()
    return _outcome(_parse(data, problems, environ or {}), problems, origin)


def _line_of(text: str, table: tuple[str, int] | None, key: str | None) -> int | None:
    """The line where ``key`` is written in that table of the TOML text; the table's header when
    the key is not there (a missing key); None when neither is found."""
    if table is None:
        return None
    kind, number = table
    current, seen, header = "", 0, None
    assignment = re.compile(rf"^\s*[\"']?{re.escape(key or '')}[\"']?\s*=")
    for line_number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            current = "source" if stripped.startswith("[[source]]") else stripped.strip("[] ")
            seen += current == "source"
            if current == kind and (kind != "source" or seen == number):
                header = line_number
        elif key and current == kind and (kind != "source" or seen == number) and assignment.match(line):
            return line_number
    return header


def _parse(data: dict[str, Any], problems: _Problems, environ: Mapping[str, str]) -> Config | None:
    unknown = set(data) - {"source", "fetch"}
    if unknown:
        problems.warn(f"unknown top-level keys, ignored: {', '.join(sorted(unknown))}")
    tables = data.get("source", [])
    if not isinstance(tables, list) or not tables:
        problems.error("needs at least one [[source]] table")
        tables = []
    sources: list[tuple[int, Source]] = []
    for number, table in enumerate(tables, 1):
        problems.table = ("source", number)
        source = _source(table, f"source #{number}", problems)
        if source is not None:
            sources.append((number, source))
    problems.table = None
    _check_unique(sources, problems)
    problems.table = ("fetch", 0)
    fetch_table = data.get("fetch", {})
    if not isinstance(fetch_table, dict):
        problems.error("[fetch] must be a table")
        fetch_table = {}
    fetch = _fetch_settings(fetch_table, environ, problems)
    problems.table = None
    if problems.errors:
        return None
    return Config(sources=tuple(s for _, s in sources), fetch=fetch)


def _fetch_settings(table: dict[str, Any], environ: Mapping[str, str], problems: _Problems) -> FetchSettings:
    values = _validated(table, FETCH_KEYS, "[fetch]", problems)
    saved, problems.table = problems.table, None
    for key in FETCH_KEYS:
        name = env_name(key)
        if name in environ:
            value = _from_env(key, environ[name], problems)
            if value is not None:
                values[key.name] = value
    known = {env_name(k) for k in FETCH_KEYS}
    for name in sorted(n for n in environ if n.startswith(ENV_PREFIX) and n not in known):
        problems.warn(f"{name}: not a setting newsmirror knows, ignored")
    problems.table = saved
    proxy = str(values.get("image_proxy", DEFAULT_PROXY))
    if ("{host_path}" not in proxy and "{url}" not in proxy) or not proxy.startswith(("http://", "https://")):
        problems.error(
            f"[fetch]: image_proxy must be an http(s) URL with {{host_path}} or {{url}}, not {proxy!r}"
        )
        values["image_proxy"] = DEFAULT_PROXY
    _check_image_archive(values, problems)
    return FetchSettings(**values)


_BRANCH: Final = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/-]+(?<![./])$")


def _check_image_archive(values: dict[str, Any], problems: _Problems) -> None:
    branch = str(values.get("image_archive_branch", "images"))
    if not _BRANCH.match(branch) or branch.endswith(".lock"):
        problems.error(f"[fetch]: image_archive_branch must be a branch name, not {branch!r}")
        values["image_archive_branch"] = "images"
    url = str(values.get("image_archive_url", ""))
    if url and not url.startswith(("http://", "https://")):
        problems.error(f"[fetch]: image_archive_url must be an http(s) URL, not {url!r}")
        values["image_archive_url"] = ""
    elif url and not url.endswith("/"):
        values["image_archive_url"] = url + "/"


def _from_env(key: Key, text: str, problems: _Problems) -> Any:
    """A setting's value from its variable's text, checked as the file's would be; None if refused."""
    where = env_name(key)
    value: Any = text
    try:
        if key.kind is int:
            value = int(text)
        elif key.kind is float:
            value = float(text)
        elif key.kind is bool:
            value = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}[
                text.strip().lower()
            ]
    except (ValueError, KeyError):
        kind = _TYPE_NAMES[key.kind] if isinstance(key.kind, type) else "one of " + ", ".join(key.kind)
        problems.error(f"{where}={text!r}: {key.name} must be {kind}")
        return None
    before = len(problems.found)
    checked = _checked(key, value, where, problems)
    return None if len(problems.found) > before else checked


def _source(table: Any, where: str, problems: _Problems) -> Source | None:
    if not isinstance(table, dict):
        problems.error(f"{where}: must be a table")
        return None
    before = len(problems.errors)
    values = _validated(_without_retired(table, where, problems), SOURCE_KEYS, where, problems)
    for required in ("name", "slug", "url"):
        if values.get(required) is None and required not in table:
            problems.error(f"{where}: missing required key {required!r}")
    if len(problems.errors) > before:
        return None
    _check_source_values(values, f"{where} ({values['slug']})", problems)
    return None if len(problems.errors) > before else Source(**values)


def _without_retired(table: dict[str, Any], where: str, problems: _Problems) -> dict[str, Any]:
    for name, (kind, doc) in RETIRED_SOURCE_KEYS.items():
        if name in table:
            _checked(Key(name, kind, None, doc), table[name], where, problems)
            log.info("%s: %s is %s", where, name, doc)
    return {k: v for k, v in table.items() if k not in RETIRED_SOURCE_KEYS}


def _validated(
    table: dict[str, Any], keys: tuple[Key, ...], where: str, problems: _Problems
) -> dict[str, Any]:
    """The table's values over the keys' defaults; an unknown key is a warning, a bad value an
    error (and its default is kept, so that every other key is still checked)."""
    known = {k.name: k for k in keys}
    for name in sorted(set(table) - set(known)):
        problems.warn(f"{where}: unknown key {name!r}, ignored" + _did_you_mean(name, known), name)
    values = {k.name: k.default for k in keys if k.default is not None}
    for name, value in table.items():
        if name in known:
            checked = _checked(known[name], value, where, problems)
            if checked is not None:
                values[name] = checked
    return values


def _did_you_mean(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _checked(key: Key, value: Any, where: str, problems: _Problems) -> Any:
    """``value`` if the key accepts it (an int as a float); else None and the error noted."""
    if isinstance(key.kind, tuple):
        if value not in key.kind:
            problems.error(
                f"{where}: {key.name} must be one of {', '.join(key.kind)}, not {value!r}", key.name
            )
            return None
        return value
    if key.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, key.kind) or (key.kind is int and isinstance(value, bool)):
        problems.error(f"{where}: {key.name} must be {_TYPE_NAMES[key.kind]}, not {value!r}", key.name)
        return None
    if key.bounds is not None and not key.bounds[0] <= cast(float, value) <= key.bounds[1]:  # False for NaN
        low, high = key.bounds
        problems.error(f"{where}: {key.name} must be between {low:g} and {high:g}, not {value!r}", key.name)
        return None
    return value


# A name or slug becomes a file name (``lists/<name>.md``, ``.newsmirror/index/<slug>.jsonl``):
# at most 255 bytes on the file systems archives live on, less the longest suffix.
_NAME_BYTES: Final = 240
_CONTROLS: Final = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")


def _check_source_values(values: dict[str, Any], where: str, problems: _Problems) -> None:
    slug, name, url = values["slug"], values["name"], values["url"]
    if not _SLUG.fullmatch(slug):  # fullmatch: "$" would let "abc\n" through
        problems.error(f"{where}: slug must be letters, digits, '-' or '_'", "slug")
    if not name.strip() or "/" in name or _CONTROLS.search(name):
        problems.error(f"{where}: name must be non-empty, without '/' or control characters", "name")
    for key, text in (("name", name), ("slug", slug)):
        if len(text.encode("utf-8")) > _NAME_BYTES:
            size = len(text.encode())
            problems.error(f"{where}: {key} is {size} bytes of UTF-8; file names allow {_NAME_BYTES}", key)
    if not re.match(r"^https?://[^\s]+$", url) or _CONTROLS.search(url):
        problems.error(f"{where}: url must be an http:// or https:// URL without spaces", "url")
    if values.get("require_category") is not None:
        try:
            re.compile(values["require_category"])
        except re.error as e:
            problems.error(f"{where}: require_category is not a valid regex: {e}", "require_category")
    if values.get("fulltext") not in (None, "auto"):
        problem = selector_error(values["fulltext"])
        if problem is not None:
            problems.error(f'{where}: fulltext is neither "auto" nor a CSS selector: {problem}', "fulltext")


def _check_unique(sources: list[tuple[int, Source]], problems: _Problems) -> None:
    for attr in ("slug", "name"):
        seen: set[str] = set()
        for number, source in sources:
            value = getattr(source, attr)
            if value in seen:
                problems.table = ("source", number)
                problems.error(f"two sources share the {attr} {value!r}", attr)
            seen.add(value)
    problems.table = None


def select_sources(config: Config, only: list[str] | None) -> Config:
    """Keep the sources named in ``only`` (slugs); error on a slug that does not exist."""
    if not only:
        return config
    slugs = {s.slug for s in config.sources}
    missing = [o for o in only if o not in slugs]
    if missing:
        raise ConfigError(f"--only: no source with slug {', '.join(missing)}")
    return Config(sources=tuple(s for s in config.sources if s.slug in only), fetch=config.fetch)
