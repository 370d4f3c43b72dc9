"""Sources file: built-in sources, validation, and the README documenting every key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from newsmirror.config import FETCH_KEYS, ORIGINAL_SOURCES, SOURCE_KEYS, load_config, parse_config
from newsmirror.exceptions import ConfigError
from newsmirror.types import Source

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_original_sources_are_the_nine_duty_machine_read() -> None:
    assert [(s.name, s.slug) for s in ORIGINAL_SOURCES] == [
        ("路透", "reuters"),
        ("纽约时报", "nyt"),
        ("美国之音", "voa"),
        ("金融时报", "ft"),
        ("BBC", "bbc"),
        ("法广", "rfi"),
        ("德国之声", "dw"),
        ("自由亚洲电台", "rfa"),
        ("中国数字时代", "cdt"),
    ]
    rfa, cdt = ORIGINAL_SOURCES[7], ORIGINAL_SOURCES[8]
    assert (rfa.body, rfa.link) == ("content", "guid")
    assert (cdt.fulltext, cdt.ids, cdt.refresh) == ("div.post-content", "post-id", True)


@pytest.mark.parametrize(
    ("category", "kept"),
    [
        ("【麻辣总局】", True),
        ("©版权", True),
        ("😀", True),
        ("麻辣总局", False),
        ("cana2020", False),
        ("读者投稿｜来信", False),
    ],
)
def test_cdt_category_rule(category: str, kept: bool) -> None:
    rule = ORIGINAL_SOURCES[8].require_category
    assert rule is not None
    assert bool(re.search(rule, category)) is kept


def test_loads_a_sources_file(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        '[fetch]\ntimeout = 5\n[[source]]\nname = "甲"\nslug = "a"\nurl = "https://a/"\n'
        "late_window_hours = 2\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.fetch.timeout == 5.0
    assert config.sources[0].body == "description"


def test_the_retired_late_window_key_is_accepted_and_ignored(tmp_path: Path) -> None:
    # archives made by `newsmirror init` before it was retired carry it in newsmirror.toml
    table = {"name": "甲", "slug": "a", "url": "https://a/", "late_window_hours": 24.0}
    assert parse_config({"source": [table]}).sources[0] == Source(name="甲", slug="a", url="https://a/")
    with pytest.raises(ConfigError, match="late_window_hours must be a number"):
        parse_config({"source": [{**table, "late_window_hours": "soon"}]})


def test_duplicate_slugs_are_refused() -> None:
    table = {"name": "a", "slug": "a", "url": "https://a/"}
    with pytest.raises(ConfigError, match="share the slug 'a'"):
        parse_config({"source": [table, {**table, "name": "b"}]})


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    for key in (*SOURCE_KEYS, *FETCH_KEYS):
        assert f"`{key.name}`" in text, f"README does not document {key.name}"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("max_postpone_hours", float("inf")),
        ("max_postpone_hours", float("nan")),
        ("max_postpone_hours", 1e300),
        ("max_postpone_hours", -1.0),
        ("timeout", 0.0),
        ("concurrency", 0),
    ],
)
def test_numeric_fetch_settings_out_of_range_are_refused(key: str, value: object) -> None:
    table = {"name": "a", "slug": "a", "url": "https://a/"}
    with pytest.raises(ConfigError, match=f"{key} must be between"):
        parse_config({"fetch": {key: value}, "source": [table]})


@pytest.mark.parametrize(
    ("line", "key", "message"),
    [
        ('slug = "abc\\n"', "slug", "slug must be letters"),  # "$" matched before a final newline
        ('name = "两行\\n名字"', "name", "control characters"),
        (f'name = "{"长" * 81}"', "name", "243 bytes of UTF-8"),
        ('fulltext = "div["', "fulltext", 'fulltext is neither "auto" nor a CSS selector'),
        ('url = "https://a.example/with space"', "url", "without spaces"),
        ("retries = -1", "retries", "retries must be between 0 and 10"),
    ],
)
def test_a_bad_value_is_named_with_its_file_line_source_and_key(
    tmp_path: Path, line: str, key: str, message: str
) -> None:
    base = {"name": 'name = "乙"', "slug": 'slug = "b"', "url": 'url = "https://b.example/"'}
    lines = ["[[source]]", 'name = "甲"', 'slug = "a"', 'url = "https://a.example/"', "", "[[source]]"]
    table = [line if k == key else v for k, v in base.items()]
    if key not in base:
        table.append(line)
    fetch = ["", "[fetch]", line] if key == "retries" else []
    path = tmp_path / "sources.toml"
    if fetch:
        table = list(base.values())
    path.write_text("\n".join([*lines, *table, *fetch]) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    where = path.read_text("utf-8").splitlines().index(line) + 1
    assert caught.value.message.startswith(f"{path}:{where}: ")
    assert message in caught.value.message
    assert ("[fetch]" if fetch else "source #2") in caught.value.message
