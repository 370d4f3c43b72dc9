"""A new archive repository, ready for GitHub Actions (``newsmirror init``).

The files it writes (``ARCHIVE_FILES``)::

    newsmirror.toml                    the sources and fetch settings, every setting written out
    README.md                          the front page, as a run writes it before any article
    requirements.txt                   the package the workflow installs
    .github/workflows/newsmirror.yml   hourly ``newsmirror run --push`` on GitHub Actions

then one commit, ``newsmirror: new archive``.  It never overwrites a file: a directory that
already holds one of these is refused whole.  Nothing here prints; ``newsmirror.cli.init``
reports.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

import jinja2

from . import publish
from .config import ARCHIVE_CONFIG, BUILTIN_SOURCES, FETCH_KEYS, SOURCE_KEYS, Config
from .exceptions import ConfigError, PublishError, RenderError
from .render import readme_row, render_readme
from .repo import ensure_repo
from .store.files import TreeFiles
from .types import Source

README: Final = "README.md"
REQUIREMENTS: Final = "requirements.txt"
WORKFLOW: Final = ".github/workflows/newsmirror.yml"
ARCHIVE_FILES: Final = (ARCHIVE_CONFIG, README, REQUIREMENTS, WORKFLOW)
DEFAULT_PACKAGE: Final = "newsmirror>=0.1"
INITIAL_COMMIT: Final = "newsmirror: new archive\n"
DOCS_URL: Final = "https://github.com/newsmirror/newsmirror#sources-file"
BUILTIN_CONFIG: Final = Config(sources=BUILTIN_SOURCES)

_TOML_ESCAPES: Final = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
_TOML_SPECIAL = re.compile(r'["\\\x00-\x1f\x7f]')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class WorkflowSettings:
    """What the GitHub Actions workflow pins: action versions, Python, schedule, limits."""

    checkout: str = "actions/checkout@v7"
    setup_python: str = "actions/setup-python@v7"
    python_version: str = "3.11"
    minute: int = 17
    """Minute of every hour the run starts; not :00, when GitHub's scheduler is busiest."""
    timeout_minutes: int = 30
    concurrency_group: str = "newsmirror-archive"

    @property
    def cron(self) -> str:
        return f"{self.minute} * * * *"


@dataclass(frozen=True, slots=True)
class NewArchive:
    """What ``init_archive`` made."""

    root: Path
    files: tuple[str, ...]
    commit: str
    package: str


def init_archive(
    root: Path,
    *,
    package: str = DEFAULT_PACKAGE,
    config: Config = BUILTIN_CONFIG,
    workflow: WorkflowSettings = WorkflowSettings(),
) -> NewArchive:
    """Create ``root`` (when missing) as a git repository holding ``ARCHIVE_FILES``, committed once.

    Raises ``ConfigError`` when ``root`` is not a directory, already holds one of the files, or
    ``package`` is not one requirement line; nothing is touched then.
    """
    _check_free(root)
    texts = archive_files(package=package, config=config, workflow=workflow)
    ensure_repo(root)
    files = TreeFiles(root, None)
    for relative, text in texts.items():
        files.write(relative, text)
    return NewArchive(root=root, files=tuple(texts), commit=_commit(root, tuple(texts)), package=package)


def archive_files(
    *,
    package: str = DEFAULT_PACKAGE,
    config: Config = BUILTIN_CONFIG,
    workflow: WorkflowSettings = WorkflowSettings(),
) -> dict[str, str]:
    """Every file of a new archive, by path relative to its root."""
    return {
        ARCHIVE_CONFIG: render_config(config),
        README: render_readme(readme_row(s.name, 0, None, "—") for s in config.sources),
        REQUIREMENTS: render_requirements(package),
        WORKFLOW: render_workflow(workflow),
    }


def render_config(config: Config) -> str:
    """``newsmirror.toml``: a commented header, ``[fetch]``, then one ``[[source]]`` per source.

    Every setting is written out, defaults included, so the file shows what can be changed;
    ``load_config`` reads it back to ``config``.
    """
    fetch = [(k.name, getattr(config.fetch, k.name)) for k in FETCH_KEYS]
    return _template("newsmirror.toml.j2").render(
        docs_url=DOCS_URL,
        source_keys=SOURCE_KEYS,
        fetch_keys=FETCH_KEYS,
        fetch=fetch,
        sources=[list(_source_values(s)) for s in config.sources],
    )


def _source_values(source: Source) -> Iterator[tuple[str, object]]:
    """(key, value) in the key table's order; an unset optional key (None) has no TOML form."""
    for key in SOURCE_KEYS:
        value = getattr(source, key.name)
        if value is not None:
            yield key.name, value


def render_requirements(package: str) -> str:
    if not package.strip() or _CONTROL.search(package):
        raise ConfigError(f"package: must be one pip requirement on one line, not {package!r}")
    return _template("requirements.txt.j2").render(package=package.strip())


def render_workflow(settings: WorkflowSettings) -> str:
    return _template("workflow.yml.j2").render(
        checkout=settings.checkout,
        setup_python=settings.setup_python,
        python_version=settings.python_version,
        minute=settings.minute,
        cron=settings.cron,
        timeout_minutes=settings.timeout_minutes,
        concurrency_group=settings.concurrency_group,
    )


def toml_value(value: object) -> str:
    """``value`` as TOML: bool, int, float, str, or a list of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _toml_float(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise RenderError(f"cannot write {value!r} ({type(value).__name__}) as a TOML value")


def _toml_float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)  # "24.0", "1e-05": both TOML floats


def toml_string(text: str) -> str:
    """A TOML string that reads back as ``text``.

    A literal string ('…') when ``text`` has backslashes and can be one (no ``'``, no control
    characters), so that a regular expression reads as written; else a basic string.
    """
    if "\\" in text and "'" not in text and not _CONTROL.search(text):
        return f"'{text}'"
    return '"' + _TOML_SPECIAL.sub(_toml_escape, text) + '"'


def _toml_escape(match: re.Match[str]) -> str:
    char = match.group()
    return _TOML_ESCAPES.get(char, f"\\u{ord(char):04X}")


def comment(text: str) -> str:
    """``text`` as an indented TOML/YAML comment, wrapped at 100 columns."""
    return textwrap.fill(
        text,
        width=100,
        initial_indent="#   ",
        subsequent_indent="#     ",
        break_long_words=False,
        break_on_hyphens=False,
    )


def _check_free(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root}: exists and is not a directory")
    taken = [str(root / name) for name in ARCHIVE_FILES if _exists(root / name)]
    if taken:
        raise ConfigError(f"{', '.join(taken)}: already there; newsmirror init never overwrites a file")


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()  # a dangling link is taken too


def _commit(root: Path, paths: Sequence[str]) -> str:
    """Commit exactly ``paths`` (other staged changes of an existing repository stay staged)."""
    sha = publish.commit(root, INITIAL_COMMIT, paths)
    if sha is None:
        raise PublishError(f"{root}: the new archive's files were not committed")
    return sha


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("newsmirror.render", "templates"),
        autoescape=False,  # TOML, YAML and pip requirements, not HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["toml"] = toml_value
    environment.filters["comment"] = comment
    return environment


def _template(name: str) -> jinja2.Template:
    return _environment().get_template(name)
