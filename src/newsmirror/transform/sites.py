"""Per-site full-text rules, kept as data (``sites.toml``), matched by the article URL's host.

A rule names the body (the first of its CSS selectors that matches), what to strip inside it
(share bars, related links, newsletter boxes) and the lazy-loading attributes to promote
(``data-src`` → ``src``).  Applying one is pure: the page's HTML in, the body's HTML out, or
None when no body selector matches (the page is not what the rule knows: the generic extractor
takes over).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ..exceptions import ConfigError
from .extract import selector_error


@dataclass(frozen=True, slots=True)
class SiteRule:
    name: str
    hosts: tuple[str, ...]
    """Hosts the rule is for; ``bbc.com`` also covers ``www.bbc.com``."""
    body: tuple[str, ...]
    strip: tuple[str, ...] = ()
    promote: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    test_page: str | None = None
    """A page in the site's structure, under tests/fulltext/sites/, with its expected text."""


_KEYS: Final = frozenset({"name", "hosts", "body", "strip", "promote", "test_page"})


@cache
def site_rules() -> tuple[SiteRule, ...]:
    """Every rule of ``sites.toml`` (read once; a broken file is a bug: ConfigError)."""
    text = resources.files("newsmirror").joinpath("sites.toml").read_text(encoding="utf-8")
    return tuple(_rule(number, table) for number, table in enumerate(tomllib.loads(text)["site"], 1))


def _rule(number: int, table: dict[str, Any]) -> SiteRule:
    where = f"sites.toml site #{number} ({table.get('name')})"
    unknown = set(table) - _KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    for selector in (*table.get("body", ()), *table.get("strip", ())):
        problem = selector_error(selector)
        if problem is not None:
            raise ConfigError(f"{where}: {selector!r} is no CSS selector: {problem}")
    if not table.get("body") or not table.get("hosts"):
        raise ConfigError(f"{where}: needs hosts and body")
    return SiteRule(
        name=str(table["name"]),
        hosts=tuple(table["hosts"]),
        body=tuple(table["body"]),
        strip=tuple(table.get("strip", ())),
        promote=MappingProxyType(dict(table.get("promote", {}))),
        test_page=table.get("test_page"),
    )


def rule_for(url: str) -> SiteRule | None:
    """The rule for the host of ``url`` (its own, or a parent domain's), if there is one."""
    host = (urlsplit(url).hostname or "").lower()
    for rule in site_rules():
        if any(host == h or host.endswith("." + h) for h in rule.hosts):
            return rule
    return None


def apply_rule(page: str, rule: SiteRule) -> str | None:
    """The body's HTML by ``rule``: stripped and promoted; None when no body selector matches."""
    tree = LexborHTMLParser(page)
    body = next((n for n in map(tree.css_first, rule.body) if n is not None), None)
    if body is None:
        return None
    for selector in rule.strip:
        for node in body.css(selector):
            if node.mem_id != body.mem_id:  # css() matches the body itself too: strip only inside it
                node.decompose()
    promote_attributes(body, rule.promote)
    return body.inner_html or ""


def promote_attributes(root: LexborNode, promote: Mapping[str, str]) -> None:
    """``data-src="a.jpg"`` → ``src="a.jpg"`` on every element under ``root`` that has one."""
    for lazy in promote:
        for node in root.css(f"[{lazy}]"):
            promote_on(node, promote)


def promote_on(node: LexborNode, promote: Mapping[str, str]) -> bool:
    """The element's lazy-loading attributes (the real image is in the data attribute) made the
    real ones; whether it had one."""
    found = False
    for lazy, real in promote.items():
        value = node.attributes.get(lazy)
        if value:
            node.attrs[real] = value
            del node.attrs[lazy]
            found = True
    return found
