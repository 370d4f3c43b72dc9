"""What an archive installs: the shipped lock, newsmirror's own wheel, the workflow's install
command run in a fresh virtual environment, and ``newsmirror upgrade``.

The fresh-environment tests install from a folder of the locked files (``build/wheelhouse``, which
``.ci/run`` downloads from PyPI with ``scripts/wheelhouse.sh``), never from the network; without it
they are skipped with the command that makes it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import newsmirror
from newsmirror.cli import main
from newsmirror.deploy import build_wheel, dependency_lock, own_wheel

ROOT = Path(__file__).resolve().parent.parent
WHEELHOUSE = Path(os.environ.get("NEWSMIRROR_WHEELHOUSE", ROOT / "build" / "wheelhouse"))
WORKFLOW = ".github/workflows/newsmirror.yml"
VERSION = newsmirror.__version__
WHEEL = f".newsmirror/install/newsmirror-{VERSION}-py3-none-any.whl"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


def project() -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    return data


# -- the lock -------------------------------------------------------------------------------------


def locked(lock: str, *, here: bool = False) -> dict[str, str]:
    """{canonical name: version} of each requirement of the lock (``here``: those whose markers
    hold on this machine; colorama is for Windows)."""
    environment = default_environment()
    pinned = {}
    for line in lock.splitlines():
        head = line.split("\\")[0].strip()
        if head and not head.startswith(("#", "-")):
            requirement = Requirement(head)
            if not here or requirement.marker is None or requirement.marker.evaluate(environment):
                pinned[canonicalize_name(requirement.name)] = str(requirement.specifier).removeprefix("==")
    return pinned


def test_the_lock_pins_every_runtime_dependency_within_its_bounds() -> None:
    versions = locked(dependency_lock())
    for text in project()["dependencies"]:
        requirement = Requirement(text)
        version = versions.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name}: not in requirements.lock (run scripts/lock.sh)"
        assert requirement.specifier.contains(version), f"{requirement.name}=={version} vs {requirement}"


def test_every_locked_requirement_has_hashes_and_nothing_else_is_named() -> None:
    entries = [e for e in dependency_lock().split("\n") if e and not e.startswith((" ", "#"))]
    # one name may have two entries split by a marker (soupsieve: Debian's Python 3.11.2 and later 3.11s)
    names = {canonicalize_name(Requirement(e.split("\\")[0].strip()).name) for e in entries}
    assert names == set(locked(dependency_lock()))
    text = dependency_lock()
    for entry in entries:
        block = text[text.index(entry) :].split("\n# via")[0].split("\n")
        hashes = [line.strip() for line in block[1:] if line.strip().startswith("--hash=sha256:")]
        assert hashes, entry
        assert all(len(h.removeprefix("--hash=sha256:").rstrip(" \\")) == 64 for h in hashes), entry
    assert "--index-url" not in text
    assert "--extra-index-url" not in text  # no second index a name could come from


# -- newsmirror's own wheel -----------------------------------------------------------------------


def test_the_wheel_built_from_the_source_holds_this_source() -> None:
    wheel = own_wheel()
    assert wheel.filename == f"newsmirror-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(io.BytesIO(wheel.data)) as archive:
        names = set(archive.namelist())
        source = ROOT / "src" / "newsmirror"
        for path in source.rglob("*.py"):
            relative = path.relative_to(source.parent).as_posix()
            assert archive.read(relative) == path.read_bytes(), relative
        assert archive.read("newsmirror/requirements.lock") == (source / "requirements.lock").read_bytes()
        assert "newsmirror/render/templates/workflow.yml.j2" in names
        for data in ("catalog.toml", "sites.toml"):  # read at run time: a wheel without them cannot run
            assert archive.read(f"newsmirror/{data}") == (source / data).read_bytes()
        metadata = archive.read(f"newsmirror-{VERSION}.dist-info/METADATA").decode()
    for text in project()["dependencies"]:
        assert f"Requires-Dist: {Requirement(text)}" in metadata


def test_a_folder_that_is_no_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(newsmirror.exceptions.InstallError, match=r"no pyproject\.toml"):
        build_wheel(tmp_path)


def test_a_source_that_does_not_build_says_why(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[build-system\n", encoding="utf-8")
    with pytest.raises(newsmirror.exceptions.InstallError, match="pip could not build"):
        build_wheel(tmp_path)


# -- the workflow's install, in a fresh virtual environment ---------------------------------------


def wheelhouse() -> Path:
    if not any(WHEELHOUSE.glob("*.whl")):
        pytest.skip(
            f"SKIPPED LOUDLY: no locked wheels in {WHEELHOUSE}; make them with scripts/wheelhouse.sh "
            "(downloads from PyPI; .ci/run does it)"
        )
    return WHEELHOUSE


def install_step(archive: Path) -> str:
    [job] = yaml.load((archive / WORKFLOW).read_text("utf-8"), Loader=yaml.BaseLoader)["jobs"].values()
    [step] = [s for s in job["steps"] if s.get("name") == "Install newsmirror"]
    command: str = step["run"]
    return command


def fresh_venv(where: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, capture_output=True)
    return where / "bin"


def offline_pip(bin_dir: Path, house: Path) -> dict[str, str]:
    """The environment of the workflow's step, its ``pip`` the fresh one, its index the locked
    files (pip's own configuration files left out: they name other indexes on this machine)."""
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(house),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def installed(bin_dir: Path) -> dict[str, str]:
    script = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    out = subprocess.run([bin_dir / "python", "-c", script], capture_output=True, text=True, check=True)
    return {canonicalize_name(k): v for k, v in json.loads(out.stdout).items()}


def run_install_step(archive: Path, bin_dir: Path, house: Path) -> subprocess.CompletedProcess[str]:
    """The workflow's install step, in the archive, with the fresh venv's pip, offline."""
    return subprocess.run(
        ["bash", "-e", "-c", install_step(archive)],
        cwd=archive,
        env=offline_pip(bin_dir, house),
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_workflows_install_command_gets_exactly_the_locked_versions(tmp_path: Path) -> None:
    house = wheelhouse()
    archive = tmp_path / "archive"
    assert main(["init", str(archive)]) == 0
    bin_dir = fresh_venv(tmp_path / "venv")
    before = installed(bin_dir)  # pip and setuptools, the venv's own
    done = run_install_step(archive, bin_dir, house)
    assert done.returncode == 0, done.stderr
    got = {k: v for k, v in installed(bin_dir).items() if k not in before}
    assert got == {**locked(dependency_lock(), here=True), "newsmirror": VERSION}
    version = subprocess.run(
        [bin_dir / "newsmirror", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout == f"newsmirror {VERSION}\n"
    # installed from the archive's wheel, that newsmirror finds its own wheel there: an archive
    # it makes installs the very same file
    again = tmp_path / "second"
    made = subprocess.run(
        [bin_dir / "newsmirror", "init", str(again)], capture_output=True, text=True, check=False
    )
    assert made.returncode == 0, made.stderr
    assert (again / WHEEL).read_bytes() == (archive / WHEEL).read_bytes()


def test_a_wheel_changed_by_one_byte_is_refused_and_nothing_is_installed(tmp_path: Path) -> None:
    house = wheelhouse()
    archive = tmp_path / "archive"
    assert main(["init", str(archive)]) == 0
    data = bytearray((archive / WHEEL).read_bytes())
    data[len(data) // 2] ^= 1
    (archive / WHEEL).write_bytes(bytes(data))
    bin_dir = fresh_venv(tmp_path / "venv")
    before = installed(bin_dir)
    done = run_install_step(archive, bin_dir, house)
    assert done.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in done.stderr
    assert hashlib.sha256(bytes(data)).hexdigest() in done.stderr
    assert installed(bin_dir) == before


# -- newsmirror upgrade ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def newer_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real wheel of this source with its version raised to 99.0.0 (built by pip)."""
    source = tmp_path_factory.mktemp("newer")
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copy(ROOT / "README.md", source)
    shutil.copy(ROOT / "LICENSE", source)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    init = source / "src/newsmirror/__init__.py"
    text = init.read_text("utf-8")
    assert f'__version__ = "{VERSION}"' in text
    init.write_text(text.replace(f'__version__ = "{VERSION}"', '__version__ = "99.0.0"'), encoding="utf-8")
    wheel = build_wheel(source)
    path = source / wheel.filename
    path.write_bytes(wheel.data)
    return path


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    assert main(["init", str(root)]) == 0
    return root


def upgrade(archive: Path, *extra: str) -> int:
    return main(["upgrade", "--archive", str(archive), *extra])


def test_upgrade_with_the_same_wheel_changes_nothing(
    archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = git(archive, "rev-parse", "HEAD")
    capsys.readouterr()
    assert upgrade(archive) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert git(archive, "rev-parse", "HEAD") == head


def test_upgrade_moves_the_archive_to_the_newer_wheel_in_one_commit(
    archive: Path, newer_wheel: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requirements = (archive / "requirements.txt").read_text("utf-8")
    capsys.readouterr()
    assert upgrade(archive, "--wheel", str(newer_wheel)) == 0
    out = capsys.readouterr().out
    new = ".newsmirror/install/newsmirror-99.0.0-py3-none-any.whl"
    assert f"{WHEEL} → {new}, commit " in out
    assert git(archive, "log", "-1", "--format=%s") == "newsmirror: upgrade to 99.0.0\n"
    assert sorted(git(archive, "show", "--no-renames", "--name-only", "--format=", "HEAD").split()) == sorted(
        ["requirements.txt", WHEEL, new]
    )
    assert not (archive / WHEEL).exists()
    assert (archive / new).read_bytes() == newer_wheel.read_bytes()
    digest = hashlib.sha256(newer_wheel.read_bytes()).hexdigest()
    now = (archive / "requirements.txt").read_text("utf-8")
    assert now.endswith(f"\n./{new} --hash=sha256:{digest}\n")
    assert now.replace("99.0.0", VERSION).split("\n./")[0] == requirements.split("\n./")[0]
    assert git(archive, "status", "--porcelain") == ""
    # and back only when asked
    assert upgrade(archive) == 2
    assert "older than the newsmirror 99.0.0 this archive installs; pass --older" in capsys.readouterr().err
    assert upgrade(archive, "--older") == 0
    assert (archive / WHEEL).is_file()
    assert not (archive / new).exists()


def test_upgrade_rewrites_the_workflow_unless_told_to_keep_it(archive: Path, newer_wheel: Path) -> None:
    workflow = archive / WORKFLOW
    generated = workflow.read_text("utf-8")
    workflow.write_text(generated.replace("timeout-minutes: 30", "timeout-minutes: 45"), encoding="utf-8")
    git(archive, "commit", "-q", "-am", "my timeout")
    assert upgrade(archive, "--wheel", str(newer_wheel), "--keep-workflow") == 0
    assert "timeout-minutes: 45" in workflow.read_text("utf-8")
    assert upgrade(archive, "--older") == 0
    assert workflow.read_text("utf-8") == generated


def test_upgrade_moves_an_archive_that_named_the_package_onto_the_wheel(
    archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Archives made before 0.1.0 installed ``newsmirror>=0.1`` by name."""
    (archive / "requirements.txt").write_text("# old\nnewsmirror>=0.1\n", encoding="utf-8")
    git(archive, "rm", "-q", WHEEL)
    git(archive, "commit", "-q", "-am", "as before 0.1.0")
    capsys.readouterr()
    assert upgrade(archive) == 0
    assert "a requirement without a wheel → " in capsys.readouterr().out
    assert "newsmirror>=0.1" not in (archive / "requirements.txt").read_text("utf-8")
    assert (archive / WHEEL).read_bytes() == own_wheel().data


def test_a_taken_over_duty_machine_archive_gets_the_workflow_from_upgrade(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's path for an imported archive: import, upgrade, push."""
    old = tmp_path / "duty-machine"
    (old / "articles/voa").mkdir(parents=True)
    (old / "articles/voa/1048574.md").write_text(
        "<!--1594000000000-->\n[标题](https://www.voachinese.com/a/1.html)\n------\n\n<p>正文</p>\n", "utf-8"
    )
    (old / "README.md").write_text("抓取新闻媒体文章\n------\n\n[美国之音](lists/美国之音.md)\n", "utf-8")
    git(old, "init", "-q", "-b", "main")
    git(old, "add", "-A")
    git(old, "-c", "user.name=duty", "-c", "user.email=duty@localhost", "commit", "-q", "-m", "archive")
    assert main(["import", str(old)]) == 0
    capsys.readouterr()
    assert upgrade(old) == 0
    assert "a requirement without a wheel → " in capsys.readouterr().out
    for name in (WORKFLOW, "requirements.txt", WHEEL, ".github/dependabot.yml"):
        assert (old / name).read_bytes() == (archive / name).read_bytes(), name  # as `init` writes them
    assert git(old, "status", "--porcelain") == ""


def test_upgrade_outside_an_archive_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(tmp_path, "init", "-q")
    assert upgrade(tmp_path) == 2
    assert f"{tmp_path}: not an archive" in capsys.readouterr().err
