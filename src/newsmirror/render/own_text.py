"""The archive's own text on its README: credits, links, a word from whoever runs it.

newsmirror writes the README on every run, so text written there by hand would be lost; it is
kept in ``OWN_TEXT`` instead and shown under the table.  ``newsmirror import`` fills it from the
README the archive had: everything but its title and the paragraphs that only link list pages,
which the table replaces (the original's README was a title, a link per source, then 鸣谢 and
友情链接).  The Markdown is read by markdown-it, so a link inside a sentence, a code block or a
heading of its own is kept as written.
"""

from __future__ import annotations

import re
from typing import Final

from markdown_it import MarkdownIt
from markdown_it.token import Token

OWN_TEXT: Final = ".newsmirror/readme.md"
"""Markdown shown on the README under the table; edit it to change that text."""

GENERATED_MARK: Final = "Archived by [newsmirror]"
"""A line of every README newsmirror writes: such a README has no own text to keep."""


def kept_from_readme(text: str) -> str:
    """The part of a hand-written README to keep (``""`` for none, or a README newsmirror wrote)."""
    if GENERATED_MARK in text:
        return ""
    lines = text.replace("\r\n", "\n").split("\n")  # the lines markdown-it's maps count
    dropped: set[int] = set()
    for number, (start, end, kind) in enumerate(_blocks(MarkdownIt("commonmark").parse(text))):
        if (number == 0 and kind == "heading") or kind == "list links":
            dropped.update(range(start, end))
    kept = "\n".join(line for index, line in enumerate(lines) if index not in dropped)
    return re.sub(r"\n{3,}", "\n\n", kept).strip() + "\n" if kept.strip() else ""


def _blocks(tokens: list[Token]) -> list[tuple[int, int, str]]:
    """Each top-level block: its lines (start, end) and ``heading``, ``list links`` or ``other``."""
    blocks: list[tuple[int, int, str]] = []
    for index, token in enumerate(tokens):
        if token.level != 0 or token.map is None or token.nesting == -1:
            continue
        start, end = token.map
        kind = "other"
        if token.type == "heading_open":
            kind = "heading"
        elif token.type == "paragraph_open" and _only_list_links(tokens[index + 1]):
            kind = "list links"
        blocks.append((start, end, kind))
    return blocks


def _only_list_links(inline: Token) -> bool:
    """A paragraph of nothing but links to ``lists/…`` pages (and the spaces between them)."""
    children = inline.children or []
    inside = False
    links = 0
    for child in children:
        if child.type == "link_open":
            if not str(child.attrs.get("href", "")).startswith("lists/"):
                return False
            inside, links = True, links + 1
        elif child.type == "link_close":
            inside = False
        elif not inside and not (child.type in ("softbreak", "hardbreak") or not child.content.strip()):
            return False
    return links > 0
