"""``newsmirror config check``, ``NEWSMIRROR_*`` variables and the generated settings reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from newsmirror.cli import main
from newsmirror.config import FETCH_KEYS, env_name, load_config, settings_reference
from newsmirror.exceptions import ConfigError

README = Path(__file__).parent.parent / "README.md"

BROKEN = """\
[fetch]
timeout = "soon"
retires = 3

[[source]]
name = "甲"
slug = "a b"
url = "ftp://a.example/feed"

[[source]]
name = "乙"
slug = "b"
url = "https://b.example/feed"
bodyy = "content"
ids = "random"

[[source]]
name = "丙"
url = "https://c.example/feed"
"""


def test_check_names_the_line_and_key_of_every_error_and_warns_on_unknown_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "newsmirror.toml"
    path.write_text(BROKEN, encoding="utf-8")
    assert main(["config", "check", str(path)]) == 2
    lines = capsys.readouterr().out.splitlines()
    at = {line.split(": ", 1)[0] + ": " + line.split(": ", 2)[1] for line in lines[:-1]}
    numbered = {int(m[1]) for line in lines if (m := re.match(rf"{re.escape(str(path))}:(\d+): ", line))}
    assert numbered == {2, 3, 7, 8, 14, 15, 17}
    text = "\n".join(lines)
    assert f"{path}:2: [fetch]: timeout must be a number, not 'soon'" in text
    assert f"{path}:3: warning: [fetch]: unknown key 'retires', ignored (did you mean 'retries'?)" in text
    assert f"{path}:7: source #1 (a b): slug must be letters, digits, '-' or '_'" in text
    assert f"{path}:8: source #1 (a b): url must be an http:// or https:// URL" in text
    assert f"{path}:14: warning: source #2: unknown key 'bodyy', ignored (did you mean 'body'?)" in text
    assert f"{path}:15: source #2: ids must be one of countdown, post-id, not 'random'" in text
    assert f"{path}:17: source #3: missing required key 'slug'" in text  # the table's header line
    assert lines[-1] == f"{path}: 5 errors, 2 warnings; a run would refuse it"
    assert len(at) == len(lines) - 1
    with pytest.raises(ConfigError) as refused:  # a run says the same errors
        load_config(path)
    assert refused.value.message.count("\n") == 4


def test_a_file_with_only_warnings_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "archive" / "newsmirror.toml"
    path.parent.mkdir()
    path.write_text('colour = "red"\n[[source]]\nname = "甲"\nslug = "a"\nurl = "https://a/"\n', "utf-8")
    assert main(["config", "check", "--archive", str(path.parent)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: warning: unknown top-level keys, ignored: colour" in out
    assert out.splitlines()[-1] == f"{path}: 0 errors, 1 warning; a run would accept it"


def test_a_toml_syntax_error_is_named_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[source]]\nname = "甲"\nslug = a\n', "utf-8")
    assert main(["config", "check", str(path)]) == 2
    assert capsys.readouterr().out.startswith(f"{path}:3: cannot read sources file: ")


def test_environment_variables_set_fetch_keys_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        '[fetch]\ntimeout = 9\n[[source]]\nname = "甲"\nslug = "a"\nurl = "https://a/"\n', "utf-8"
    )
    assert load_config(path).fetch.timeout == 9.0
    environ = {"NEWSMIRROR_TIMEOUT": "2.5", "NEWSMIRROR_USER_AGENT": "my-archive/1 (+https://x)"}
    fetch = load_config(path, environ=environ).fetch
    assert (fetch.timeout, fetch.user_agent) == (2.5, "my-archive/1 (+https://x)")
    assert load_config(path, environ={"NEWSMIRROR_CONCURRENCY": "3"}).fetch.concurrency == 3


def one_source(tmp_path: Path) -> Path:
    path = tmp_path / "s.toml"
    path.write_text('[[source]]\nname = "甲"\nslug = "a"\nurl = "https://a/"\n', "utf-8")
    return path


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("NEWSMIRROR_RETRIES", "many", "NEWSMIRROR_RETRIES='many': retries must be an integer"),
        ("NEWSMIRROR_RETRIES", "99", "NEWSMIRROR_RETRIES: retries must be between 0 and 10, not 99"),
        ("NEWSMIRROR_TIMEOUT", "nan", "NEWSMIRROR_TIMEOUT: timeout must be between 0.1 and 3600"),
    ],
)
def test_a_bad_variable_is_refused_by_name(tmp_path: Path, variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(one_source(tmp_path), environ={variable: value})


def test_an_unknown_variable_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = one_source(tmp_path)
    config = load_config(path, environ={"NEWSMIRROR_TIMOUT": "5"})
    assert config.fetch.timeout == 30.0
    assert config.warnings == (
        f"{path}: warning: NEWSMIRROR_TIMOUT: not a setting newsmirror knows, ignored",
    )


def test_the_readme_carries_the_generated_settings_reference(capsys: pytest.CaptureFixture[str]) -> None:
    text = README.read_text(encoding="utf-8")
    start, end = (
        "<!-- settings reference: newsmirror config reference -->\n",
        "<!-- end of settings reference -->",
    )
    assert start in text, "README lacks the settings reference markers"
    assert end in text, "README lacks the settings reference markers"
    block = text.split(start, 1)[1].split(end, 1)[0]
    assert block == settings_reference(), (
        "README is stale: paste `newsmirror config reference` between its markers"
    )
    assert main(["config", "reference"]) == 0
    assert capsys.readouterr().out == settings_reference()
    for key in FETCH_KEYS:
        assert f"`{env_name(key)}`" in block
