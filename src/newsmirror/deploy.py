"""What an archive installs: newsmirror's own wheel, kept in the archive, and a hash-locked
requirements file (``newsmirror init`` writes them, ``newsmirror upgrade`` replaces them).

Why a wheel in the archive, rather than a name on PyPI or a git URL:

* nobody has published ``newsmirror`` on PyPI; a requirement naming it would install whatever
  whoever registers the name uploads, with the workflow's push token at hand;
* pip cannot check a hash of a git checkout, so ``--require-hashes`` rules out a git URL, and a
  commit pin still needs newsmirror's repository to stay online (for a project about censored news,
  not a given);
* a wheel in the archive (under 300 kB a version) is checked by its sha256 like every other
  requirement, and every clone, fork and mirror of the archive can install it.

``requirements.txt`` is then the lock shipped with newsmirror (``requirements.lock``: each runtime
dependency pinned with the sha256 of every file PyPI has of it, made by ``scripts/lock.sh``) and one
line for the wheel.  Nothing here prints.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import io
import json
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import Version

from .exceptions import ConfigError, InstallError

WHEEL_DIR: Final = ".newsmirror/install"
REQUIREMENTS: Final = "requirements.txt"
DISTRIBUTION: Final = "newsmirror"
_BUILD_SECONDS: Final = 300


@dataclass(frozen=True, slots=True)
class Wheel:
    """One newsmirror wheel: its file name and bytes."""

    filename: str
    data: bytes

    @property
    def version(self) -> Version:
        return parse_wheel_filename(self.filename)[1]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def path(self) -> str:
        """Where the archive keeps it, relative to the archive's root."""
        return f"{WHEEL_DIR}/{self.filename}"


def read_wheel(path: Path) -> Wheel:
    """The newsmirror wheel at ``path``; ConfigError when it is missing or is not one."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the wheel: {e.strerror or e}") from e
    return checked_wheel(path.name, data, str(path))


def checked_wheel(filename: str, data: bytes, where: str) -> Wheel:
    """``data`` as a newsmirror wheel named ``filename``, after checking it is one."""
    try:
        name, version, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as e:
        raise ConfigError(f"{where}: not a wheel's file name: {e}") from e
    if name != DISTRIBUTION:
        raise ConfigError(f"{where}: a wheel of {name!r}, not of newsmirror")
    if not any(tag.abi == "none" and tag.platform == "any" for tag in tags):
        raise ConfigError(f"{where}: built for one platform ({filename}); newsmirror's wheel is pure Python")
    metadata = f"newsmirror-{version}.dist-info/METADATA"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.getinfo(metadata)
    except (zipfile.BadZipFile, KeyError) as e:
        raise ConfigError(f"{where}: not a wheel of newsmirror {version} (no {metadata} inside)") from e
    return Wheel(filename=filename, data=data)


def own_wheel(explicit: Path | None = None) -> Wheel:
    """The wheel of the newsmirror that is running (or ``explicit``, when given).

    Found from how pip installed it (``direct_url.json``): the wheel file it was installed from,
    when that is still there with the same hash, or a wheel built from the source folder it was
    installed from.  InstallError says how to pass one when neither can be had.
    """
    if explicit is not None:
        return read_wheel(explicit)
    origin = _direct_url()
    if "archive_info" in origin:
        found = _installed_from(origin)
        if found is not None:
            return found
    if "dir_info" in origin:
        return build_wheel(_local_path(str(origin["url"])))
    raise InstallError(
        "cannot find the wheel of this newsmirror (it was not installed from a wheel file or a source "
        "folder that is still here); pass --wheel FILE, a wheel built in a newsmirror checkout "
        "with `pip wheel --no-deps .`"
    )


def _direct_url() -> dict[str, object]:
    try:
        text = importlib.metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        text = None  # imported from a source tree that was never installed
    if not text:
        return {}
    try:
        origin = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return origin if isinstance(origin, dict) else {}


def _installed_from(origin: dict[str, object]) -> Wheel | None:
    url = str(origin.get("url", ""))
    if not url.startswith("file:") or not url.endswith(".whl"):
        return None
    path = _local_path(url)
    if not path.is_file():
        return None
    wheel = read_wheel(path)
    info = origin["archive_info"]
    recorded = info.get("hashes", {}).get("sha256") if isinstance(info, dict) else None
    return wheel if recorded in (None, wheel.sha256) else None


def _local_path(url: str) -> Path:
    return Path(unquote(urlsplit(url).path))


@cache
def build_wheel(source: Path) -> Wheel:
    """A wheel of the newsmirror source folder ``source``, built by pip (once per process).

    Built in the running environment when it already satisfies the source's build requirements
    (no download), in pip's isolated build environment otherwise.
    """
    if not (source / "pyproject.toml").is_file():
        raise InstallError(f"{source}: not a newsmirror source folder (no pyproject.toml); pass --wheel FILE")
    with tempfile.TemporaryDirectory(prefix="newsmirror-wheel-") as out:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", out]
        if _can_build_here(source):
            command.append("--no-build-isolation")
        try:
            done = subprocess.run(
                [*command, str(source)], capture_output=True, text=True, timeout=_BUILD_SECONDS, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise InstallError(f"{source}: pip could not build newsmirror's wheel: {e}") from e
        built = sorted(Path(out).glob("newsmirror-*.whl"))
        if done.returncode != 0 or not built:
            last = (done.stderr.strip().splitlines() or ["no wheel came out"])[-1]
            raise InstallError(f"{source}: pip could not build newsmirror's wheel: {last}")
        return read_wheel(built[0])


def _can_build_here(source: Path) -> bool:
    try:
        requires = tomllib.loads((source / "pyproject.toml").read_text("utf-8"))["build-system"]["requires"]
        return all(_satisfied(Requirement(text)) for text in requires)
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError, InvalidRequirement):
        return False


def _satisfied(requirement: Requirement) -> bool:
    try:
        installed = importlib.metadata.version(requirement.name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return requirement.specifier.contains(installed, prereleases=True)


def dependency_lock() -> str:
    """The lock shipped with this newsmirror: every runtime dependency, pinned and hashed."""
    return importlib.resources.files("newsmirror").joinpath("requirements.lock").read_text("utf-8")


def wheel_line(wheel: Wheel) -> str:
    return f"./{wheel.path} --hash=sha256:{wheel.sha256}"


def installed_wheel(requirements: str) -> str | None:
    """The archive-relative path of the newsmirror wheel a requirements file installs, if any."""
    for line in requirements.splitlines():
        if line.startswith(f"./{WHEEL_DIR}/"):
            return line.split()[0].removeprefix("./")
    return None
