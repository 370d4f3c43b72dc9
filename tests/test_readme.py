"""The README's own links: every ``](#anchor)`` names one of its headings, as GitHub makes them."""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt

README = Path(__file__).parent.parent / "README.md"


def github_anchor(heading: str) -> str:
    """GitHub's heading ids: lower case, punctuation dropped, each space a hyphen."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def headings(text: str) -> set[str]:
    tokens = MarkdownIt("commonmark").parse(text)
    inline = [tokens[i + 1] for i, t in enumerate(tokens) if t.type == "heading_open"]
    return {github_anchor("".join(c.content for c in (t.children or []))) for t in inline}


def test_every_link_inside_the_readme_names_a_heading() -> None:
    text = README.read_text("utf-8")
    anchors = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert anchors, "the README links none of its sections"
    assert sorted(anchors - headings(text)) == []


def test_anchors_are_made_as_github_makes_them() -> None:
    heading = "Changing the sources: `newsmirror sources`"
    assert github_anchor(heading) == "changing-the-sources-newsmirror-sources"
    assert github_anchor("What a run costs as the archive grows") == "what-a-run-costs-as-the-archive-grows"


def test_the_quick_start_upgrades_pip_before_it_installs() -> None:
    """A new venv's pip (23.0–23.2) cannot resolve lxml[html_clean] beside lxml[html-clean]."""
    quick_start = README.read_text("utf-8").split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^apt-get update .*$", quick_start, re.M)
    assert len(commands) == 2
    for command in commands:
        upgrade = command.index(".venv/bin/pip install --upgrade pip")
        install = re.search(r"\.venv/bin/pip install '?\.", command)
        assert install is not None
        assert upgrade < install.start()
