"""What a reader's browser would get from an archive file, and whether any of it can run.

The oracle of the sanitizer tests and of ``fuzz/fuzz_sanitize.py``, written apart from the code
it checks (``newsmirror.transform.active``): its own lists, its own walk. A file is rendered by
the two Markdown renderers mirrors use, in their most permissive settings — markdown-it-py with
raw HTML on and every link accepted, cmark-gfm (GitHub's) in unsafe mode without the tag
filter — and also taken as HTML as it is; each result is parsed by an HTML5 parser (lexbor),
with scripting off, and again as with scripting on (``<noscript>`` content read as raw text).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from markdown_it import MarkdownIt
from selectolax.lexbor import LexborHTMLParser

# cmarkgfm's own wrappers leak every render; the archiver's releases them, and is checked against
# them (tests/test_sanitize_vectors.py), so that long fuzz runs stay in their memory.
from newsmirror.transform import cmark

RUNNING = frozenset(
    {
        "script", "object", "embed", "applet", "base", "meta", "link", "form",
        "frame", "frameset", "svg", "math", "template", "style", "portal", "plaintext", "xmp",
    }
)  # fmt: skip
URL_NAMES = frozenset(
    {"href", "src", "srcset", "action", "formaction", "poster", "background", "data", "xlink:href",
     "codebase"}
)  # fmt: skip
IMAGES = frozenset({"img", "source", "picture", "video", "audio", "input"})
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "livescript:")

_markdown_it = MarkdownIt("commonmark", {"html": True})
_markdown_it.validateLink = lambda url: True  # type: ignore[method-assign]


def renderings(text: str) -> dict[str, str]:
    """``text`` as HTML: as it is, by markdown-it (html on, every link) and by cmark-gfm unsafe."""
    return {
        "html": text,
        "markdown-it": _markdown_it.render(text),
        "cmark-gfm": cmark.render(text),
    }


def running_parts(text: str) -> list[str]:
    """Everything in any rendering of ``text`` that could run, named with the renderer."""
    found = []
    for renderer, html in renderings(text).items():
        # with scripting on, <noscript> is raw text, as <noembed> is for every parser
        for variant in {html, re.sub(r"(</?)noscript", r"\1noembed", html, flags=re.IGNORECASE)}:
            found += [f"{renderer}: {part}" for part in _running(variant)]
    return found


def _running(html: str) -> Iterator[str]:
    root = LexborHTMLParser(html).root
    if root is None:
        return
    for node in root.traverse(include_text=False):
        tag = (node.tag or "").lower()
        if tag in RUNNING:
            yield f"<{tag}>"
        for name, value in node.attributes.items():
            lowered = name.lower()
            if (re.fullmatch("on[a-z]+", lowered) and (value or "").strip()) or lowered == "srcdoc":
                yield f"<{tag} {name}>"  # an event handler with code (a name like onclick! is none)
            elif lowered in URL_NAMES and value and _runs_as_url(value, tag in IMAGES):
                yield f"<{tag} {name}={value[:60]!r}>"
            elif lowered == "style" and value and "expression(" in re.sub(r"\s", "", value.lower()):
                yield f"<{tag} style={value[:60]!r}>"


def _runs_as_url(value: str, image: bool) -> bool:
    url = re.sub(r"[\t\n\r]", "", value).strip("".join(map(chr, range(0x21)))).lower()
    if url.startswith(SCRIPT_SCHEMES):
        return True
    return url.startswith("data:") and not (image and url.startswith("data:image/"))
