"""A new archive repository, ready for GitHub Actions (``newsmirror init``).

The files it writes (``ARCHIVE_FILES``, then the wheel)::

    newsmirror.toml                    the sources and fetch settings, every setting written out
    README.md                          the front page, as a run writes it before any article
    requirements.txt                   what the workflow installs, every file pinned by sha256
    .github/workflows/newsmirror.yml   hourly ``newsmirror run --push`` on GitHub Actions
    .github/dependabot.yml             newer actions and dependencies, as pull requests
    .newsmirror/install/newsmirror-<version>-py3-none-any.whl   newsmirror itself (``deploy``)

then one commit, ``newsmirror: new archive``.  It never overwrites a file: a directory that
already holds one of these is refused whole.  ``upgrade_archive`` replaces the wheel and the
lock (and the workflow files) with the running newsmirror's.  Nothing here prints;
``newsmirror.cli.init`` and ``newsmirror.cli.upgrade`` report.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Final

import jinja2
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from . import publish
from .catalog import BUILTIN_SOURCES
from .config import ARCHIVE_CONFIG, FETCH_KEYS, SOURCE_KEYS, Config
from .deploy import REQUIREMENTS, WHEEL_DIR, Wheel, dependency_lock, installed_wheel, wheel_line
from .exceptions import ConfigError, PublishError, RenderError
from .render import readme_row, render_readme
from .repo import ensure_repo
from .store.files import TreeFiles
from .types import Source

README: Final = "README.md"
WORKFLOW: Final = ".github/workflows/newsmirror.yml"
DEPENDABOT: Final = ".github/dependabot.yml"
ARCHIVE_FILES: Final = (ARCHIVE_CONFIG, README, REQUIREMENTS, WORKFLOW, DEPENDABOT)
UPKEEP_FILES: Final = (WORKFLOW, DEPENDABOT)
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
class Pin:
    """An action pinned by full commit id, the release it is written with as a comment (the form
    Dependabot keeps up to date): a tag can be moved to other code, a commit cannot."""

    action: str
    commit: str
    release: str

    def __str__(self) -> str:
        return f"{self.action}@{self.commit} # {self.release}"


@dataclass(frozen=True, slots=True)
class WorkflowSettings:
    """What the GitHub Actions workflow pins: actions, Python, schedule, limits."""

    checkout: Pin = Pin("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1")
    setup_python: Pin = Pin("actions/setup-python", "5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0")
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
    wheel: Wheel


@dataclass(frozen=True, slots=True)
class Upgrade:
    """What ``upgrade_archive`` did: the wheels before and after, the files it changed."""

    root: Path
    before: str | None
    """The archive-relative path of the wheel requirements.txt installed, if it named one."""
    wheel: Wheel
    changed: tuple[str, ...]
    commit: str | None


def init_archive(
    root: Path,
    *,
    wheel: Wheel,
    config: Config = BUILTIN_CONFIG,
    workflow: WorkflowSettings = WorkflowSettings(),
) -> NewArchive:
    """Create ``root`` (when missing) as a git repository holding ``ARCHIVE_FILES`` and ``wheel``,
    committed once.

    Raises ``ConfigError`` when ``root`` is not a directory or already holds one of the files;
    nothing is touched then.
    """
    _check_free(root, wheel)
    texts = archive_files(wheel=wheel, config=config, workflow=workflow)
    ensure_repo(root)
    files = TreeFiles(root, None)
    for relative, text in texts.items():
        files.write(relative, text)
    files.write_bytes(wheel.path, wheel.data)
    paths = (*texts, wheel.path)
    return NewArchive(root=root, files=paths, commit=_commit(root, paths, INITIAL_COMMIT), wheel=wheel)


def archive_files(
    *,
    wheel: Wheel,
    config: Config = BUILTIN_CONFIG,
    workflow: WorkflowSettings = WorkflowSettings(),
) -> dict[str, str]:
    """Every text file of a new archive, by path relative to its root."""
    return {
        ARCHIVE_CONFIG: render_config(config),
        README: render_readme(readme_row(s.name, 0, None, "—") for s in config.sources),
        REQUIREMENTS: render_requirements(wheel),
        WORKFLOW: render_workflow(workflow),
        DEPENDABOT: render_dependabot(),
    }


def upgrade_archive(
    root: Path,
    wheel: Wheel,
    *,
    upkeep: bool = True,
    older: bool = False,
    workflow: WorkflowSettings = WorkflowSettings(),
) -> Upgrade:
    """Make ``root`` install ``wheel`` with the lock shipped with the running newsmirror, and (with
    ``upkeep``) rewrite the workflow and the Dependabot file as this version writes them; commit.

    The wheels requirements.txt no longer names leave the tree (git history keeps them).  Nothing
    is committed when the archive already installs exactly this.  ConfigError, before anything
    is written, when ``wheel`` is older than the one installed and ``older`` is not set.
    """
    if not (root / ARCHIVE_CONFIG).is_file() and not (root / REQUIREMENTS).is_file():
        raise ConfigError(f"{root}: not an archive (no {ARCHIVE_CONFIG}, no {REQUIREMENTS})")
    files = TreeFiles(root, None)
    before = installed_wheel(files.read(REQUIREMENTS) or "")
    if before is not None and not older:
        _refuse_older(before, wheel)
    texts = {REQUIREMENTS: render_requirements(wheel)}
    if upkeep:
        texts |= {WORKFLOW: render_workflow(workflow), DEPENDABOT: render_dependabot()}
    changed = [relative for relative, text in texts.items() if files.write(relative, text)]
    if files.write_bytes(wheel.path, wheel.data):
        changed.append(wheel.path)
    for relative in files.files_under(WHEEL_DIR):
        if relative != wheel.path:
            files.remove(relative)
            changed.append(relative)
    message = f"newsmirror: upgrade to {wheel.version}\n"
    sha = publish.commit(root, message, changed) if changed else None
    return Upgrade(root=root, before=before, wheel=wheel, changed=tuple(changed), commit=sha)


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


def _refuse_older(before: str, wheel: Wheel) -> None:
    try:
        installed = parse_wheel_filename(PurePosixPath(before).name)[1]
    except InvalidWheelFilename:
        return  # not ours to judge: replaced like any other line
    if wheel.version < installed:
        raise ConfigError(
            f"{wheel.filename}: older than the newsmirror {installed} this archive installs; "
            "pass --older to go back to it"
        )


def render_requirements(wheel: Wheel) -> str:
    """The lock shipped with the running newsmirror, then the line of ``wheel``."""
    return _template("requirements.txt.j2").render(
        version=wheel.version,
        wheel_dir=WHEEL_DIR,
        lock=dependency_lock().strip("\n"),
        wheel_line=wheel_line(wheel),
    )


def render_dependabot() -> str:
    return _template("dependabot.yml.j2").render()


def render_workflow(settings: WorkflowSettings) -> str:
    return _template("workflow.yml.j2").render(
        checkout=str(settings.checkout),
        setup_python=str(settings.setup_python),
        wheel_dir=WHEEL_DIR,
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


def _check_free(root: Path, wheel: Wheel) -> None:
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root}: exists and is not a directory")
    taken = [str(root / name) for name in (*ARCHIVE_FILES, wheel.path) if _exists(root / name)]
    if taken:
        raise ConfigError(f"{', '.join(taken)}: already there; newsmirror init never overwrites a file")


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()  # a dangling link is taken too


def _commit(root: Path, paths: Sequence[str], message: str) -> str:
    """Commit exactly ``paths`` (other staged changes of an existing repository stay staged)."""
    sha = publish.commit(root, message, paths)
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
