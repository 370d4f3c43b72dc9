"""What ``newsmirror import`` keeps of an archive's hand-written README (render/own_text.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from newsmirror.render import readme_row, render_readme
from newsmirror.render.own_text import GENERATED_MARK, kept_from_readme

from .golden import CORPUS

READMES = sorted((CORPUS / "_lists").glob("README.md@*")) if (CORPUS / "_lists").is_dir() else []


@pytest.mark.skipif(not READMES, reason=f"CORPUS MISSING: no README.md@* in {CORPUS}/_lists — NOT tested")
@pytest.mark.parametrize("path", READMES, ids=lambda p: p.name)
def test_each_era_of_the_originals_readme_keeps_its_credits_and_links(path: Path) -> None:
    text = path.read_text("utf-8")
    lines = text.splitlines()
    assert lines[1] == "------"  # a setext title, as every era of it had
    link = re.compile(r"^\[[^\]]+\]\(lists/[^)]+\.md\)$")
    own = [line for line in lines[2:] if line and not link.match(line)]
    kept = kept_from_readme(text)
    assert [line for line in kept.splitlines() if line] == own
    assert "鸣谢\n------\n\nhttps://feedx.net/\n" in kept
    assert "lists/" not in kept
    assert not re.search(r"\n\n\n", kept)
    assert kept.endswith("\n")
    assert not kept.startswith("\n")


def test_links_inside_a_sentence_or_to_elsewhere_and_code_stay() -> None:
    text = (
        "# 我的存档\n\n"
        "[美国之音](lists/美国之音.md) [BBC](lists/BBC.md)\n\n"
        "另见 [美国之音](lists/美国之音.md) 的旧页面。\n\n"
        "[镜像](https://example.org/mirror)\n\n"
        "```\n[x](lists/x.md)\n```\n\n"
        "Title later\n-----------\n"
    )
    assert kept_from_readme(text) == (
        "另见 [美国之音](lists/美国之音.md) 的旧页面。\n\n"
        "[镜像](https://example.org/mirror)\n\n"
        "```\n[x](lists/x.md)\n```\n\n"
        "Title later\n-----------\n"
    )


def test_a_readme_without_a_title_keeps_its_first_paragraph() -> None:
    assert kept_from_readme("存档说明。\n\n[甲](lists/甲.md)\n") == "存档说明。\n"


@pytest.mark.parametrize("text", ["", "标题\n===\n", "# 标题\n\n[甲](lists/甲.md)\n\n[乙](lists/乙.md)\n"])
def test_nothing_of_its_own_is_nothing_kept(text: str) -> None:
    assert kept_from_readme(text) == ""


def test_a_readme_newsmirror_wrote_is_not_kept_again() -> None:
    ours = render_readme([readme_row("甲", 1, None, "ok")], own_text="鸣谢\n------\n\n某人\n")
    assert GENERATED_MARK in ours
    assert "\n\n鸣谢\n------\n\n某人\n\nArchived by" in ours
    assert kept_from_readme(ours) == ""
