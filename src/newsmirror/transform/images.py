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
from collections.abc import Mapping
from typing import Final
from urllib.parse import quote, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .sites import promote_on

DEFAULT_PROXY: Final = "https://images.weserv.nl/?url={host_path}"
"""``{host_path}``: the image's URL without its scheme (``ichef.bbci.co.uk/a.jpg``), its query
escaped; ``{url}``: the whole URL, escaped as one query value."""
LAZY: Final = {"data-src": "src", "data-original": "src", "data-lazy-src": "src", "data-srcset": "srcset"}
_MAYBE: Final = re.compile(r"<(?:img|source|video)\b", re.IGNORECASE)


def proxy_url(url: str, template: str) -> str:
    """``url`` through the proxy; unchanged when it is on the proxy already or not http(s).  A
    ``user:password@`` in it is not passed on to the proxy."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return url
    if parts.hostname == urlsplit(template.replace("{host_path}", "x").replace("{url}", "x")).hostname:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    plain = parts._replace(netloc=netloc).geturl()
    # the image's own query escaped ("?", "&", and "+", which a query would read as a space)
    host_path = quote(plain.split("//", 1)[1], safe="/:@!$'()*,;=-._~%")
    return template.replace("{host_path}", host_path).replace("{url}", quote(plain, safe=""))


def parse_body(html: str) -> tuple[LexborHTMLParser, LexborNode] | None:
    """A body parsed as an HTML document, and its ``<body>``; None when part of it would land in
    ``<head>`` (a leading ``<style>``, ``<meta>``): not to be rewritten, nothing must be lost.
    The parser is returned with the node: the node's memory is the parser's, and lives with it."""
    tree = LexborHTMLParser(html)
    head, body = tree.head, tree.body
    if body is None or (head is not None and head.child is not None):
        return None
    return tree, body


def proxied_images(html: str, base: str, template: str = DEFAULT_PROXY) -> str:
    """``html`` with every image reference through the proxy (see the module's docstring)."""
    if not _MAYBE.search(html) and "poster=" not in html:
        return html
    parsed = parse_body(html)
    if parsed is None:
        return html
    _, root = parsed
    changed = promote_lazy(root)
    for node in root.css(_IMAGES):
        changed |= _rewrite(node, base, template)
    return (root.inner_html or "") if changed else html


_IMAGES: Final = "img, picture > source, video[poster]"
"""What holds an image: not a video's or audio's own source (a proxy for images breaks those)."""


def promote_lazy(root: LexborNode) -> bool:
    """Lazy-loading attributes of images promoted (``data-src`` → ``src``); whether there was
    one.  Only on images: an ``<iframe data-src>`` must not become a live frame."""
    found = False
    for node in root.css("img, picture > source"):
        found |= promote_on(node, LAZY)
    return found


def archivable(html: str, base: str, kept_at: str = "") -> list[str]:
    """The pictures of a body worth a local copy, absolute, in order, each once: of an
    ``<img>`` its ``src`` (else the widest of its ``srcset``), a video's ``poster`` — not one
    kept already (under ``kept_at``)."""
    if not _MAYBE.search(html) and "poster=" not in html:
        return []
    parsed = parse_body(html)
    if parsed is None:
        return []
    _, root = parsed
    promote_lazy(root)
    found = (_chosen(node, base) for node in root.css("img, video[poster]"))
    return list(dict.fromkeys(url for url in found if url is not None and not _kept(url, kept_at)))


def _kept(url: str, kept_at: str) -> bool:
    return bool(kept_at) and url.startswith(kept_at)


def localized(html: str, base: str, local: Mapping[str, str], template: str | None, kept_at: str = "") -> str:
    """``html`` with each picture that has a local copy (``local``: its URL → the copy's URL)
    pointing at that copy — one picture, so its ``srcset`` and the ``<source>`` siblings of
    its ``<picture>`` go; every other image through the proxy ``template`` (None: as it was),
    but for one kept already (under ``kept_at``): running it twice changes nothing."""
    parsed = parse_body(html)
    if parsed is None:
        return html
    _, root = parsed
    changed = promote_lazy(root)
    for node in root.css("img, video[poster]"):
        chosen = _chosen(node, base)
        if chosen is not None and chosen in local:
            changed = True
            node.attrs["poster" if node.tag == "video" else "src"] = local[chosen]
            if node.attributes.get("srcset") is not None:
                del node.attrs["srcset"]
            if node.parent is not None and node.parent.tag == "picture":
                for source in node.parent.css("source"):
                    source.decompose()
        elif template is not None and not (chosen and _kept(chosen, kept_at)):
            changed |= _rewrite(node, base, template)
    if template is not None:
        for node in root.css("picture > source"):
            changed |= _rewrite(node, base, template)
    return (root.inner_html or "") if changed else html


def _chosen(node: LexborNode, base: str) -> str | None:
    if node.tag == "video":
        value = node.attributes.get("poster") or ""
    else:
        value = node.attributes.get("src") or _widest(node.attributes.get("srcset") or "")
    url = urljoin(base, value.strip()) if value.strip() else ""
    return url if urlsplit(url).scheme in ("http", "https") else None


def _widest(srcset: str) -> str:
    """The candidate of a ``srcset`` with the largest width or density descriptor."""
    best, best_size = "", -1.0
    for url, descriptor in _candidates(srcset):
        digits = re.sub(r"[^0-9.]", "", descriptor) or "1"
        try:
            size = float(digits)
        except ValueError:
            size = 1.0
        if size > best_size:
            best, best_size = url, size
    return best


def _rewrite(node: LexborNode, base: str, template: str) -> bool:
    changed = False
    for attribute in ("poster",) if node.tag == "video" else ("src",):
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
    proxied = (
        f"{proxy_url(urljoin(base, url), template)} {descriptor}".strip()
        for url, descriptor in _candidates(srcset)
    )
    return ", ".join(proxied)


def _candidates(srcset: str) -> list[tuple[str, str]]:
    """The (URL, descriptors) of a ``srcset``, read as the HTML standard reads it: a URL is a
    run of non-space characters (commas included, as in ``w_100,h_100``), trailing commas end
    it, and its descriptors run to the next comma."""
    candidates: list[tuple[str, str]] = []
    rest = srcset
    while True:
        rest = rest.lstrip(" \t\n\r\f,")
        if not rest:
            return candidates
        url = re.match(r"[^ \t\n\r\f]+", rest).group()  # type: ignore[union-attr]  # rest is not blank
        rest = rest[len(url) :]
        descriptor = ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            descriptor, _, rest = rest.partition(",")
        candidates.append((url, " ".join(descriptor.split())))
