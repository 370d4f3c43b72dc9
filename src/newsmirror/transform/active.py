"""What counts as active content in a body: the one detector the sanitizer trusts.

Decided by parsing, as a browser would see it: the text is parsed by lexbor (an HTML5 parser,
through selectolax) as it is, and as each Markdown renderer a mirror may use turns it into HTML:
cmark-gfm (GitHub's own) in unsafe mode without the tag filter, and markdown-it with raw HTML on,
links not filtered in either. In
either tree, an element that runs code or changes how the page is fetched, parsed or submitted
(``ACTIVE_TAGS``), an ``on…`` handler or ``srcdoc`` attribute, a URL attribute whose scheme is
``javascript:``/``vbscript:``/``livescript:`` or ``data:`` (but a raster image), or a style with
``expression(``/``url(javascript:…)``/a binding is active. The parser has already decoded
character references, so ``&#106;avascript:`` is seen as what it is; a tokenizer quirk
(``<img src="x"onerror=…>``, ``<img src="x"/onerror=…>``) reads as a browser reads it; the
Markdown pass sees what only a renderer makes: ``[a](javascript:…)``, ``<javascript:…>``, an
HTML block that a blank line cut out of an attribute value.

Parsing every body of every run would cost a tenth of a run, so a text-level look goes first
(``could_be_active``): nothing in the parsed trees can be active unless the text holds an
active tag's name after ``<``, a handler- or ``srcdoc``-shaped attribute, a script or ``data:``
scheme (blanks dropped, as URL parsers drop them; also after decoding character references) or
CSS ``expression(``. It is built for speed (measured, benchmarks/README.md): the patterns are
all ASCII, so it searches the text's ASCII characters only, lower-cased, as bytes. Only what it
flags is parsed; the same words in an article's text ("javascript: 一种语言") are then found to
be prose, and the body stays byte for byte as it was.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Final

from markdown_it import MarkdownIt
from selectolax.lexbor import LexborHTMLParser, LexborNode

from . import cmark

# Elements that run code or change how the rest of the page is fetched, parsed or submitted.
ACTIVE_TAGS: Final = frozenset(
    {
        "script", "object", "embed", "applet", "base", "meta", "link", "form", "frame",
        "frameset", "svg", "math", "template", "style", "portal",
        # The rest of the page, list included, becomes one text: nothing after it shows.
        "plaintext", "xmp",
    }
)  # fmt: skip

_TAG: Final = re.compile(
    rb"<[\s/]*(?:" + "|".join(sorted(ACTIVE_TAGS | {"noscript"})).encode() + rb")(?![a-z0-9])"
)
# ``on`` first, the separator checked behind it: a literal start keeps the search fast.  An
# attribute starts after whitespace, ``/`` or a closing quote (``<img src="x"onerror=…>`` works).
_HANDLER: Final = re.compile(rb"on(?<=[\s/\"']on)[a-z]+\s*=")
# Character references that can spell a scheme, a colon, a parenthesis or the blanks browsers
# drop from URLs (``&amp;`` alone cannot: what it decodes to is not decoded again).
_HIDING: Final = re.compile(rb"&(?:#|colon|tab|newline|lpar)")
# Where something active could be, to find its place in the text (``cut.cut_active_near``, on a
# one-byte-per-character probe): the patterns above, the URL ones without their context.
PLACES: Final = re.compile(
    b"|".join(
        (
            _TAG.pattern,
            _HANDLER.pattern,
            rb"srcdoc|javascript|vbscript|livescript|data:|expression",
            _HIDING.pattern,
        )
    )
)
# Dropped before looking for a scheme: blanks and controls, and the backslash of a Markdown
# escape (``[a](javascript\:…)`` is a link to ``javascript:…``).
_URL_BLANKS: Final = bytes(range(0x21)) + b"\\"
SCRIPT_SCHEMES: Final = ("javascript", "vbscript", "livescript")
_SCRIPT_SCHEME_PROBES: Final = tuple(f"{scheme}:".encode() for scheme in SCRIPT_SCHEMES)


def has_active_content(text: str) -> bool:
    """Whether ``text`` holds anything that could run code where it is shown as HTML or Markdown."""
    if not could_be_active(text):
        return False
    return _html_is_active(text) or any(map(_html_is_active, _renderings(text)))


def _renderings(text: str) -> tuple[str, ...]:
    """``text`` as the Markdown renderers make it HTML; none when they pass it through as it is.

    A text of one line (no LF, CR or NUL, which they turn into line ends or U+FFFD) that begins
    with a block-level tag is one CommonMark HTML block (kind 6) with no blank line to end it:
    both renderers give it back unchanged, and the parse of the text covers them. A body is
    archived on one line, and most begin so: their check costs one parse, not three and two
    renderings (the fuzz target checks the shortcut against both renderers).
    """
    if _ONE_HTML_BLOCK.match(text) and not any(c in text for c in "\r\n\x00"):
        return ()
    return (cmark.render(text), _markdown_it(text))


# Block tag names in both renderers' lists (markdown-it's follows CommonMark 0.31, cmark-gfm's 0.29).
_ONE_HTML_BLOCK: Final = re.compile(
    r" {0,3}</?(?:p|div|table|blockquote|figure|section|article|ul|ol|h[1-6]|hr|header|footer|aside"
    r"|nav|dl|center)(?=[ \t>]|/>|$)",
    re.IGNORECASE,
)


def could_be_active(text: str) -> bool:
    """The text-level look: false means nothing in ``text`` can be active; true, that it may be."""
    probe = _ascii_lower(text)
    if _TAG.search(probe) or _HANDLER.search(probe) or b"srcdoc" in probe:
        return True
    if _has_scheme(probe):
        return True
    return _HIDING.search(probe) is not None and _has_scheme(_ascii_lower(unescape(text)))


def _has_scheme(probe: bytes) -> bool:
    # Browsers drop tabs and line breaks anywhere in a URL and blanks around it; dropping
    # every blank and control here can only add false alarms. Any ``data:`` may be one (the
    # tree tells a raster image from an SVG or HTML document); Markdown links count too.
    squeezed = probe.translate(None, _URL_BLANKS)
    return (
        any(scheme in squeezed for scheme in _SCRIPT_SCHEME_PROBES)
        or b"data:" in squeezed
        or b"expression(" in squeezed
    )


def _markdown_it(text: str) -> str:
    """``text`` as markdown-it renders it, with raw HTML on and every link kept.

    The two renderers part where CommonMark leaves room, both ways. In
    ``<a href=x#`y></a><img alt="`><img src=x onerror=…>">`` (an unquoted value with a backtick
    is no tag) markdown-it takes the backticks for a code span and the ``<img>`` after them for
    a tag, cmark-gfm does not; cmark-gfm's autolinks (``http://…#x=`y>``) take a backtick from
    a code span and leave a tag after it, markdown-it's do not.
    """
    return str(_MARKDOWN_IT.render(text))


def _accept_every_link(url: str) -> bool:
    del url
    return True


_MARKDOWN_IT: Final = MarkdownIt("commonmark", {"html": True})
_MARKDOWN_IT.validateLink = _accept_every_link  # type: ignore[method-assign]


def _html_is_active(html: str) -> bool:
    """Whether a browser parsing ``html`` would build anything active, with scripting off or on.

    lexbor parses as with scripting off, where a ``<noscript>``'s content is markup; a browser
    with scripting on reads it as raw text up to the first ``</noscript``, which can stand in
    an attribute value: ``<noscript><p title="</noscript><img src=x onerror=…>">``. Lazy-loading
    themes wrap every image in one, so it is not active in itself: the text is parsed a second
    time with ``noscript`` spelled ``noembed``, raw text for every parser (and where a
    ``</noembed`` is already there, the two cannot be told apart: active).
    """
    if _tree_is_active(html):
        return True
    if _NOSCRIPT_OPEN.search(html) is None:
        return False
    return _NOEMBED_CLOSE.search(html) is not None or _tree_is_active(_NOSCRIPT.sub(r"\1noembed", html))


_NOSCRIPT: Final = re.compile(r"(</?)noscript", re.IGNORECASE)
_NOSCRIPT_OPEN: Final = re.compile("<noscript", re.IGNORECASE)
_NOEMBED_CLOSE: Final = re.compile("</noembed", re.IGNORECASE)


def _tree_is_active(html: str) -> bool:
    root = LexborHTMLParser(html).root
    if root is None:
        return False
    # An active element is found by lexbor's own selector engine; only attributes need the walk.
    if root.css_first(_ACTIVE_SELECTOR) is not None:
        return True
    return any(_attributes_are_active(node) for node in root.traverse(include_text=False))


_ACTIVE_SELECTOR: Final = ", ".join(sorted(ACTIVE_TAGS))


def _attributes_are_active(node: LexborNode) -> bool:
    tag = node.tag or ""
    return any(active_attribute(tag, name, value) for name, value in node.attributes.items())


def active_attribute(tag: str, name: str, value: str | None) -> bool:
    """Whether attribute ``name`` with its (decoded) ``value`` on element ``tag`` is active."""
    lowered = name.lower()
    if lowered.startswith("on") or lowered == "srcdoc":
        return True
    if value is None:
        return False
    if lowered in _URL_ATTRIBUTES or lowered.endswith(":href"):
        return _active_url(value, image_ok=tag.lower() in _IMAGE_ELEMENTS)
    return lowered == "style" and _active_style(value)


# Attributes a browser reads as a URL (or a list of them), in HTML, SVG and MathML.
_URL_ATTRIBUTES: Final = frozenset(
    {
        "href", "src", "srcset", "action", "formaction", "poster", "background", "data", "codebase",
        "cite", "lowsrc", "dynsrc", "longdesc", "usemap", "manifest", "icon", "ping", "profile",
    }
)  # fmt: skip
_SCHEME: Final = re.compile(r"([a-z][a-z0-9+.\-]*):")
# An image loaded by these is only drawn, never run: an SVG in <img src> runs no script (lazy-
# loading themes put an empty one there). Anywhere else a data: URL is a document of its own.
_IMAGE_ELEMENTS: Final = frozenset({"img", "source", "picture", "video", "audio", "input", "track"})
# ``srcset`` lists candidates separated by a comma and a blank (data: URLs hold commas).
_SRCSET_SPLIT: Final = re.compile(r",\s+")
_IMAGE: Final = re.compile(r"data:image/[a-z0-9.+\-]+[;,]")
_URL_DROPPED: Final = dict.fromkeys(map(ord, "\t\n\r"))  # the URL parser drops them anywhere
_C0_AND_SPACE: Final = "".join(map(chr, range(0x21)))  # and strips these at both ends


def _active_url(value: str, *, image_ok: bool) -> bool:
    """Whether a URL (or a ``srcset``-like list) runs code or opens a document as a ``data:`` URL."""
    for part in _SRCSET_SPLIT.split(value):
        url = part.translate(_URL_DROPPED).strip(_C0_AND_SPACE).lower()
        scheme = _SCHEME.match(url)
        if scheme is None:
            continue
        if scheme.group(1) in SCRIPT_SCHEMES:
            return True
        if scheme.group(1) == "data" and not (image_ok and _IMAGE.match(url)):
            return True
    return False


def _active_style(value: str) -> bool:
    squeezed = "".join(value.lower().split())
    return (
        "expression(" in squeezed
        or "-moz-binding" in squeezed
        or "behavior:" in squeezed
        or any(f"url({q}{scheme}:" in squeezed for q in ("", "'", '"') for scheme in SCRIPT_SCHEMES)
    )


def _ascii_lower(text: str) -> bytes:
    """The text lower-cased with every non-ASCII character dropped: what the patterns look at.

    Every pattern is ASCII, so dropping the rest (most of a Chinese article) loses no match; it
    can only join letters into a false alarm.
    """
    return text.encode("ascii", "ignore").lower()
