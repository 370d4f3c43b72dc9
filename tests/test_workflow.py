"""The generated workflow survives upkeep and keeps its token to itself.

* every action is pinned by commit, with inputs that commit's ``action.yml`` declares (copies in
  ``tests/data/actions``) and a runtime GitHub still runs;
* zizmor, a security linter for workflows, finds nothing of medium or high severity (and flags
  broken copies, so it is really looking);
* Dependabot proposes the upkeep;
* the push token reaches git only through the job's credential helper: a run with the
  workflow's own environment and command pushes to a git forge on 127.0.0.1 that wants the token,
  and so does a second forge set up as the README says, and neither token appears in any output,
  file, status file, log or commit.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from newsmirror.cli import main

from .conftest import tool
from .feeds import It, rss
from .git_http import Forge, forge
from .servers import Reply, Server

ROOT = Path(__file__).resolve().parent.parent
ACTIONS = Path(__file__).parent / "data" / "actions"
WORKFLOW = ".github/workflows/newsmirror.yml"
DEPENDABOT = ".github/dependabot.yml"
PIN = re.compile(r"^\s*(?:- )?uses: (?P<action>[\w.-]+/[\w.-]+)@(?P<commit>\S+)(?: # (?P<release>\S+))?$")
RUNTIMES = {"node24"}  # what GitHub runs JavaScript actions on (node12, 16 and 20 are retired)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    assert main(["init", str(root)]) == 0
    return root


def load(path: Path) -> dict[str, Any]:
    data = yaml.load(path.read_text("utf-8"), Loader=yaml.BaseLoader)
    assert isinstance(data, dict)
    return data


# -- pins -----------------------------------------------------------------------------------------


def pins(text: str) -> list[dict[str, str | None]]:
    return [m.groupdict() for line in text.splitlines() if (m := PIN.match(line))]


def test_every_action_is_pinned_by_full_commit_with_its_release_as_a_comment(archive: Path) -> None:
    text = (archive / WORKFLOW).read_text("utf-8")
    found = pins(text)
    assert [p["action"] for p in found] == ["actions/checkout", "actions/setup-python"]
    assert text.count("uses:") == len(found)
    for pin in found:
        assert re.fullmatch(r"[0-9a-f]{40}", str(pin["commit"])), pin
        assert re.fullmatch(r"v\d+\.\d+\.\d+", str(pin["release"])), pin


def test_inputs_are_those_the_pinned_commit_declares_on_a_current_runtime(archive: Path) -> None:
    [job] = load(archive / WORKFLOW)["jobs"].values()
    for step in job["steps"]:
        if "uses" not in step:
            continue
        action, commit = step["uses"].split("@")
        copy = ACTIONS / f"{action.replace('/', '-')}-{commit}.yml"
        assert copy.is_file(), f"{copy.name}: add the action.yml of {action} at {commit} (see its README)"
        declared = load(copy)
        assert set(step.get("with", {})) <= set(declared["inputs"]), step["with"]
        assert declared["runs"]["using"] in RUNTIMES


def test_a_copy_with_an_input_the_commit_lacks_is_caught(archive: Path) -> None:
    [job] = load(archive / WORKFLOW)["jobs"].values()
    step = job["steps"][0]
    action, commit = step["uses"].split("@")
    declared = load(ACTIONS / f"{action.replace('/', '-')}-{commit}.yml")
    assert "fetch-dept" not in declared["inputs"]
    assert "fetch-depth" in declared["inputs"]


# -- zizmor ---------------------------------------------------------------------------------------


def zizmor(root: Path, *extra: str) -> list[dict[str, Any]]:
    """zizmor's findings on the archive's .github, offline (no GitHub API here)."""
    done = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--format=json", *extra, str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.startswith("["), done.stderr
    found: list[dict[str, Any]] = yaml.safe_load(done.stdout)
    return found


def severe(findings: list[dict[str, Any]]) -> list[str]:
    return [f["ident"] for f in findings if f["determinations"]["severity"] in ("Medium", "High")]


def test_zizmor_finds_nothing_at_all_even_pedantic(archive: Path) -> None:
    assert zizmor(archive) == []
    assert [f["ident"] for f in zizmor(archive, "--persona=auditor")] == []


@pytest.mark.parametrize(
    ("old", "new", "finding"),
    [
        (" # v7.0.1", "", None),  # a tag instead of the commit: see below
        ("          persist-credentials: false\n", "", "artipacked"),
        (
            "    permissions:\n      contents: write  # commit and push the archive\n",
            "",
            "excessive-permissions",
        ),
    ],
)
def test_zizmor_flags_a_broken_copy(archive: Path, old: str, new: str, finding: str | None) -> None:
    path = archive / WORKFLOW
    text = path.read_text("utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    if finding is None:  # the checkout pinned by its tag again
        text = re.sub(r"actions/checkout@[0-9a-f]{40}", "actions/checkout@v7", text)
        finding = "unpinned-uses"
    if finding == "excessive-permissions":
        text = text.replace("permissions: {}\n", "permissions: write-all\n")
    path.write_text(text, encoding="utf-8")
    assert finding in severe(zizmor(archive, "--persona=auditor"))


def test_zizmor_flags_dependabot_without_a_cooldown(archive: Path) -> None:
    path = archive / DEPENDABOT
    text = path.read_text("utf-8")
    path.write_text(re.sub(r"    cooldown:\n      default-days: 7.*\n", "", text), encoding="utf-8")
    assert "dependabot-cooldown" in [f["ident"] for f in zizmor(archive)]


# -- Dependabot -----------------------------------------------------------------------------------


def test_dependabot_proposes_newer_actions_and_dependencies_weekly(archive: Path) -> None:
    config = load(archive / DEPENDABOT)
    assert config["version"] == "2"
    ecosystems = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(ecosystems) == {"github-actions", "pip"}
    for update in ecosystems.values():
        assert update["directory"] == "/"
        assert update["schedule"] == {"interval": "weekly"}
        assert int(update["cooldown"]["default-days"]) >= 1


# -- the push token -------------------------------------------------------------------------------


def forge_env(
    archive: Path,
    github: Forge,
    extra: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of the workflow's "Archive and push" step, as Actions would give it, with
    this forge in place of github.com (plus ``extra``, with ``values`` put in for expressions),
    added to the tests' own git settings."""
    [job] = load(archive / WORKFLOW)["jobs"].values()
    known = {"${{ github.server_url }}": github.base, "${{ github.token }}": github.token, **(values or {})}
    step = {**job["env"], **job["steps"][-1].get("env", {}), **(extra or {})}
    return {**os.environ, **shift_git_config(_substitute(step, known))}


def _substitute(env: dict[str, str], values: dict[str, str]) -> dict[str, str]:
    out = {}
    for name, given in env.items():
        value = given
        for expression, actual in values.items():
            value = value.replace(expression, actual)
        assert "${{" not in value, f"{name}: {value}"
        out[name] = value
    return out


def shift_git_config(env: dict[str, str]) -> dict[str, str]:
    """``env``'s GIT_CONFIG_* entries numbered after those the tests already set (conftest)."""
    before = int(os.environ.get("GIT_CONFIG_COUNT") or 0)
    count = int(env.pop("GIT_CONFIG_COUNT", "0"))
    out = {k: v for k, v in env.items() if not k.startswith("GIT_CONFIG_")}
    for number in range(count):
        out[f"GIT_CONFIG_KEY_{before + number}"] = env[f"GIT_CONFIG_KEY_{number}"]
        out[f"GIT_CONFIG_VALUE_{before + number}"] = env[f"GIT_CONFIG_VALUE_{number}"]
    out["GIT_CONFIG_COUNT"] = str(before + count)
    return out


def archive_command(archive: Path) -> str:
    [job] = load(archive / WORKFLOW)["jobs"].values()
    command: str = job["steps"][-1]["run"]
    assert command.startswith("newsmirror run --push --archive . ")
    return command


def shell(archive: Path, command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    scripts = sysconfig.get_path("scripts")
    env = {**env, "PATH": f"{scripts}{os.pathsep}{env.get('PATH', '')}"}
    return subprocess.run(
        ["bash", "-e", "-c", command], cwd=archive, env=env, capture_output=True, text=True, check=False
    )


def one_local_source(archive: Path, server: Server, title: str) -> None:
    """The archive's newsmirror.toml with one feed on 127.0.0.1, committed."""
    server.routes["/feed.xml"] = Reply(rss(It(title, f"https://example.com/{secrets.token_hex(4)}")))
    text = f'[[source]]\nname = "本地"\nslug = "local"\nurl = "{server.url("/feed.xml")}"\n'
    (archive / "newsmirror.toml").write_text(text, encoding="utf-8")
    git(archive, "commit", "-q", "-am", "one local source")


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True)
    return done.stdout


def everything_kept(*roots: Path) -> Iterator[tuple[str, bytes]]:
    """Every file under ``roots`` (``.git`` included) and every git object in them, uncompressed."""
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                yield str(path), path.read_bytes()
        objects = subprocess.run(
            ["git", "-C", str(root), "cat-file", "--batch-all-objects", "--batch"],
            capture_output=True,
            check=True,
        )
        yield f"{root} (git objects)", objects.stdout


def assert_nowhere(token: str, outputs: list[str], *roots: Path) -> None:
    for number, text in enumerate(outputs):
        assert token not in text, f"output {number}"
    for where, data in everything_kept(*roots):
        assert token.encode() not in data, where


@pytest.fixture
def github(tmp_path: Path) -> Iterator[Forge]:
    with forge(tmp_path / "github", user="x-access-token", token=f"ghs_{secrets.token_hex(18)}") as running:
        yield running


def published(archive: Path, remote: Forge, name: str) -> None:
    bare = remote.repository(name)
    git(archive, "push", "-q", str(bare), "HEAD:main")


def test_the_workflows_step_pushes_with_the_token_and_shows_it_nowhere(
    archive: Path, server: Server, github: Forge
) -> None:
    one_local_source(archive, server, "第一条")
    published(archive, github, "archive.git")
    git(archive, "remote", "add", "origin", github.url("archive.git"))
    done = shell(archive, archive_command(archive), forge_env(archive, github))
    assert done.returncode == 0, done.stderr
    assert github.refused, "git never had to authenticate: the test proves nothing"
    assert git(github.root / "archive.git", "rev-parse", "main") == git(archive, "rev-parse", "HEAD")
    pushed = git(github.root / "archive.git", "ls-tree", "-r", "--name-only", "main", "articles/local")
    [article] = pushed.splitlines()
    assert "第一条" in git(github.root / "archive.git", "show", f"main:{article}")
    summary = archive.parent / "step-summary.md"  # as Actions gives it: the job summary and annotations too
    in_actions = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    verbose = shell(archive, "newsmirror -vv run --push --archive .", forge_env(archive, github, in_actions))
    assert verbose.returncode == 0, verbose.stderr
    assert "### newsmirror:" in summary.read_text("utf-8")
    outputs = [done.stdout, done.stderr, verbose.stdout, verbose.stderr, summary.read_text("utf-8")]
    assert_nowhere(github.token, outputs, archive, github.root / "archive.git")


def test_a_wrong_token_fails_the_push_without_showing_it(
    archive: Path, server: Server, github: Forge
) -> None:
    one_local_source(archive, server, "第一条")
    published(archive, github, "archive.git")
    git(archive, "remote", "add", "origin", github.url("archive.git"))
    wrong = f"ghs_{secrets.token_hex(18)}"
    summary = archive.parent / "step-summary.md"
    env = forge_env(
        archive, github, {"PUSH_TOKEN": wrong, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    )
    done = shell(archive, "newsmirror -vv run --push --archive .", env)
    assert done.returncode == 4, done.stderr  # archived, not pushed
    assert "::error title=push to origin failed::" in done.stdout  # the annotation names it
    outputs = [done.stdout, done.stderr, summary.read_text("utf-8")]
    assert_nowhere(wrong, outputs, archive, github.root / "archive.git")
    assert_nowhere(github.token, outputs, archive)


def readme_mirror_snippet() -> dict[str, Any]:
    """The README's YAML for a second forge (section "Pushing to a second forge")."""
    readme = (ROOT / "README.md").read_text("utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL)
    [snippet] = [b for b in blocks if "MIRROR_TOKEN" in b]
    data = yaml.load(snippet, Loader=yaml.BaseLoader)
    assert isinstance(data, dict)
    return data


def test_a_second_forge_set_up_as_the_readme_says_gets_every_push_and_no_token_leaks(
    archive: Path, server: Server, github: Forge, tmp_path: Path
) -> None:
    with forge(tmp_path / "codeberg", user="mirror-owner", token=secrets.token_hex(20)) as codeberg:
        one_local_source(archive, server, "第一条")
        published(archive, github, "archive.git")
        published(archive, codeberg, "mirror.git")
        git(archive, "remote", "add", "origin", github.url("archive.git"))
        snippet = readme_mirror_snippet()["jobs"]["archive"]
        values = {
            "https://codeberg.org/OWNER/REPO.git": codeberg.url("mirror.git"),
            "https://codeberg.org": codeberg.base,
            "${{ secrets.CODEBERG_TOKEN }}": codeberg.token,
            "OWNER": codeberg.user,
        }
        [add_remote, archive_step] = snippet["steps"]
        env = forge_env(archive, github, {**snippet["env"], **archive_step["env"]}, values)
        added = shell(archive, _substitute({"run": add_remote["run"]}, values)["run"], env)
        assert added.returncode == 0, added.stderr
        done = shell(archive, archive_command(archive), env)
        assert done.returncode == 0, done.stderr
        assert codeberg.refused
        assert github.refused
        head = git(archive, "rev-parse", "HEAD")
        assert git(codeberg.root / "mirror.git", "rev-parse", "main") == head
        assert git(github.root / "archive.git", "rev-parse", "main") == head
        outputs = [added.stdout, added.stderr, done.stdout, done.stderr]
        for token in (github.token, codeberg.token):
            assert_nowhere(token, outputs, archive, github.root / "archive.git", codeberg.root / "mirror.git")
