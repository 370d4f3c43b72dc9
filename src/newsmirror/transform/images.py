"""Images through a proxy, so that they load where the outlets' image hosts are blocked.

Every image reference of a body — ``src`` and ``srcset`` of ``<img>`` and ``<picture><source>``,
a ``<video>``'s ``poster``, after the lazy-loading attributes (``data-src`` …) are promoted — is
made absolute against the article's URL and rewritten through the proxy template, by default
the archive's existing form ``https://images.weserv.nl/?url=<host/path>``.  An URL already on
the proxy's host, a ``data:`` URL or one that is not http(s) is left alone, so running this
twice changes nothing, and a body with nothing to change is returned as it came, byte for byte
(the feedx-era bodies, proxied already, stay as they are).
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .sites import promote_attributes

DEFAULT_PROXY: Final = "https://images.weserv.nl/?url={host_path}"
"""``{host_path}``: the image's URL without its scheme (``ichef.bbci.co.uk/a.jpg``), its query
escaped; ``{url}``: the whole URL, escaped as one query value."""
LAZY: Final = {"data-src": "src", "data-original": "src", "data-lazy-src": "src", "data-srcset": "srcset"}
_MAYBE: Final = re.compile(r"<(?:img|source|video)\b", re.IGNORECASE)
_BETWEEN_CANDIDATES: Final = re.compile(r",\s+|,$")


def proxy_url(url: str, template: str) -> str:
    """``url`` through the proxy; unchanged when it is on the proxy already or not http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return url
    if parts.hostname == urlsplit(template.replace("{host_path}", "x").replace("{url}", "x")).hostname:
        return url
    host_path = url.split("//", 1)[1]
    host_path = quote(host_path, safe="/:@!$'()*+,;=-._~%")  # "?" and "&" of its own query escaped
    return template.replace("{host_path}", host_path).replace("{url}", quote(url, safe=""))


def proxied_images(html: str, base: str, template: str = DEFAULT_PROXY) -> str:
    """``html`` with every image reference through the proxy (see the module's docstring)."""
    if not _MAYBE.search(html) and "poster=" not in html:
        return html
    tree = LexborHTMLParser(f"<div id=newsmirror-images>{html}</div>")
    root = tree.css_first("#newsmirror-images")
    if root is None:
        return html
    changed = _promote(root)
    for node in root.css("img, source, video"):
        changed |= _rewrite(node, base, template)
    return (root.inner_html or "") if changed else html


def _promote(root: LexborNode) -> bool:
    """Lazy-loading attributes promoted; whether there was one."""
    found = root.css_first(",".join(f"[{a}]" for a in LAZY)) is not None
    promote_attributes(root, LAZY)
    return found


def _rewrite(node: LexborNode, base: str, template: str) -> bool:
    changed = False
    for attribute in ("src", "poster"):
        value = node.attributes.get(attribute)
        if value:
            new = proxy_url(urljoin(base, value.strip()), template)
            if new != value:
                node.attrs[attribute] = new
                changed = True
    srcset = node.attributes.get("srcset")
    if srcset:
        new_set = _srcset(srcset, base, template)
        if new_set != srcset:
            node.attrs["srcset"] = new_set
            changed = True
    return changed


def _srcset(srcset: str, base: str, template: str) -> str:
    """Each candidate of a ``srcset`` (``url 640w, url 2x``) through the proxy, descriptors kept."""
    candidates = []
    for candidate in _BETWEEN_CANDIDATES.split(srcset.strip()):
        url, _, descriptor = candidate.strip().partition(" ")
        if url:
            candidates.append(f"{proxy_url(urljoin(base, url), template)} {descriptor.strip()}".strip())
    return ", ".join(candidates)
