"""Cut active elements and attributes out of a body; every other character stays as it was.

The archive keeps a feed's HTML byte for byte (SPEC §3), so a body with an embedded tweet must
come out as the original program wrote it, less the ``<script>`` that loads the widget — not
re-serialised by a sanitizer, which rewrites NBSP as ``&nbsp;``, ``<br/>`` as ``<br>``, drops
``data-*`` and adds ``rel``.  The standard library's HTML tokenizer reports where each tag,
comment and declaration starts; the ranges of the active ones are cut out of the string.

The tokenizer is not a browser's, so this is not what makes a body safe: what to cut is decided
by the detector's quick text-level look (``active.could_be_active``, which may flag more than is
active, never less), and the caller checks the result with the detector's parse
(``active.has_active_content``); anything a tokenizer quirk left behind sends the body to the
full sanitizer instead.
"""

from __future__ import annotations

import re
from html import unescape

# attrfind_tolerant, tagfind_tolerant: the tokenizer's own (module-level, untyped) patterns for
# a start tag's name and attributes, so attributes are found where it found them (and checked).
from html.parser import HTMLParser, attrfind_tolerant, tagfind_tolerant  # type: ignore[attr-defined]
from typing import Final

from .active import ACTIVE_TAGS, PLACES, active_attribute, could_be_active, has_active_content

# Removed with everything inside: their content is code, styles, inert templates, foreign
# markup (where SVG's own <script> and xlink:href live) or plugin parameters.
_WHOLE: Final = frozenset({"script", "style", "template", "svg", "math", "object", "applet"})
# Only the tag itself goes: void elements, and <form>/<frameset>, whose content is markup.
_TAG_ONLY: Final = ACTIVE_TAGS - _WHOLE
# Foreign elements honour ``/>``; on an HTML element (``<script/>``) browsers ignore it.
_FOREIGN: Final = frozenset({"svg", "math"})
_TAG_BLANKS: Final = " \t\n\r\f"
_NEWLINE: Final = re.compile("\n")
_NAME_LEAD: Final = "</" + _TAG_BLANKS
_ACTIVE_NAMES: Final = tuple(sorted(ACTIVE_TAGS))


def cut_active(html: str) -> str | None:
    """``html`` less every active element, attribute, comment or declaration it could locate;
    None when the tokenizer gives up on it (the caller then sanitizes the whole body)."""
    cutter = _Cutter(html)
    try:
        cutter.feed(html)
        cutter.close()
    except AssertionError:  # html.parser's way of refusing markup: ``<![CDATTA ``
        return None
    return _without(html, cutter.finish())


def cut_active_near(html: str) -> str | None:
    """``cut_active`` over the stretch of ``html`` that holds what looks active, or None.

    Tokenizing a whole 10 KB body costs about 60 tags for one embedded ``<script>``; the
    tokenizer is started instead at the tag holding the first hit and stopped at the first
    tag end after the last hit where it is back in plain text.  That gives the tokens a whole
    run gives only when the text before the start is plain markup (no comment, declaration or
    quoted ``<``/``>`` that could make the start lie inside another token): otherwise, or when
    no hit can be placed, None (the caller cuts the whole body).
    """
    hits = [m.start() for m in PLACES.finditer(html.encode("ascii", "replace").lower())]
    if not hits:
        return None
    start = _token_start(html, hits[0])
    if start is None:
        return None
    cutter = _Cutter(html[start:])
    try:
        end = _feed_until_plain(cutter, html, start, hits[-1])
    except AssertionError:  # html.parser's way of refusing markup
        return None
    cuts = [(start + a, start + b) for a, b in cutter.finish()]
    return _without(html, cuts) if end is not None else None


# Text before the start that could make a '<' lie inside a comment, declaration or tag.
_UNPLAIN: Final = re.compile(r"<[!?]|</[^a-zA-Z]|=\s*\"[^\"]*[<>]|=\s*'[^']*[<>]|=[^\s\"'>]*<")
_TAG_OPEN: Final = re.compile(r"<[a-zA-Z/]")


def _token_start(html: str, hit: int) -> int | None:
    """The last tag start at or before ``hit``, when what precedes it (the ``<`` included) is
    plain markup and every tag before it is closed."""
    start = html.rfind("<", 0, hit + 1)
    while start > 0 and not _TAG_OPEN.match(html, start):
        start = html.rfind("<", 0, start)
    if start <= 0:
        return 0
    if html.rfind(">", 0, start) < html.rfind("<", 0, start):
        return None  # inside a tag that is still open (``<scr<script>``)
    return None if _UNPLAIN.search(html, 0, start + 1) else start


def _feed_until_plain(cutter: _Cutter, html: str, start: int, last_hit: int) -> int | None:
    """Feed from ``start`` to the first tag end past ``last_hit`` where the tokenizer is in
    plain text again (nothing half-read, no raw-text or dropped element open)."""
    position = start
    while position < len(html):
        end = html.find(">", max(position, last_hit)) + 1 or len(html)
        cutter.feed(html[position:end])
        position = end
        if cutter.is_plain():
            return end
    cutter.close()
    return len(html)


def _without(text: str, cuts: list[tuple[int, int]]) -> str:
    kept: list[str] = []
    position = 0
    for start, end in sorted(cuts):
        if end > position:
            kept.append(text[position : max(start, position)])
            position = end
    kept.append(text[position:])
    return "".join(kept)


class _Cutter(HTMLParser):
    """Collects the ranges to cut while the tokenizer walks the body once."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self._html = html
        self._line_starts = [0] + [m.end() for m in _NEWLINE.finditer(html)]
        self.cuts: list[tuple[int, int]] = []
        # the element being removed whole: its name, where it starts, how deep we are in it
        self._dropping: tuple[str, int, int] | None = None

    def is_plain(self) -> bool:
        """Between tokens, in plain text: what follows is tokenized as on its own."""
        return not self.rawdata and self.cdata_elem is None and self._dropping is None

    def finish(self) -> list[tuple[int, int]]:
        if self._dropping is not None:  # never closed: the rest of the body is inside it
            self.cuts.append((self._dropping[1], len(self._html)))
            self._dropping = None
        return self.cuts

    def _here(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], *, self_closing: bool) -> None:
        start = self._here()
        text = self.get_starttag_text() or ""
        end = start + len(text)
        if self._dropping is not None:
            name, begin, depth = self._dropping
            if tag == name and not (self_closing and tag in _FOREIGN):
                self._dropping = (name, begin, depth + 1)
        elif tag in _WHOLE and not (self_closing and tag in _FOREIGN):
            self._dropping = (tag, start, 1)
        elif tag in _TAG_ONLY or tag in _FOREIGN:
            self.cuts.append((start, end))
        elif not _plain(text, tag, 2) and _is_active(text):
            self.cuts += _tag_cuts(text, start, tag, [name for name, _ in attrs])

    def handle_endtag(self, tag: str) -> None:
        start = self._here()
        end = self._html.find(">", start) + 1 or len(self._html)
        if self._dropping is not None:
            name, begin, depth = self._dropping
            if tag == name:
                self._dropping = (name, begin, depth - 1) if depth > 1 else None
                if depth == 1:
                    self.cuts.append((begin, end))
        else:
            text = self._html[start:end]
            if tag in ACTIVE_TAGS or (not _plain(text, tag, 3) and _is_active(text)):
                self.cuts.append((start, end))

    def handle_comment(self, data: str) -> None:
        self._other(data)

    def handle_decl(self, decl: str) -> None:
        self._other(decl)

    def handle_pi(self, data: str) -> None:
        self._other(data)

    def unknown_decl(self, data: str) -> None:
        self._other(data)

    def _other(self, data: str) -> None:
        """A comment, declaration or processing instruction: inert unless it hides something."""
        if self._dropping is not None or not could_be_active(data):
            return
        start = self._here()
        opener = 4 if self._html.startswith("<!--", start) else 2
        end = self._html.find(">", start + opener + len(data)) + 1 or len(self._html)
        self.cuts.append((start, end))


def _plain(text: str, name: str, marks: int) -> bool:
    """Whether a tag is just its (alphanumeric) name: ``<p>``, ``</p>``, nothing to look at."""
    return len(text) == len(name) + marks and name.isalnum()


def _is_active(tag: str) -> bool:
    return _may_be_active(tag) and could_be_active(tag)


def _may_be_active(tag: str) -> bool:
    """A quick look at one tag before the detector's: false for nearly every tag.

    It sees what the detector sees in a tag unless a URL scheme is split by blanks or
    non-ASCII characters (``javas&#9;cript:`` is seen, ``javas<TAB>cript:`` is not): such a
    tag stays, so the cut body is still active and goes to the full sanitizer.
    """
    lowered = tag.lower()
    return (
        "on" in lowered
        or "script" in lowered
        or "data" in lowered
        or "&" in lowered
        or "srcdoc" in lowered
        or "expression" in lowered
        or "<" in lowered[1:]
        or lowered.lstrip(_NAME_LEAD).startswith(_ACTIVE_NAMES)
    )


def _tag_cuts(text: str, offset: int, tag: str, names: list[str]) -> list[tuple[int, int]]:
    """Ranges (in the body) of a start tag's active attributes, or of the whole tag.

    The attributes are found again with the tokenizer's own patterns; when they do not come
    out as the tokenizer reported them, or what is left is still active (an active tag name),
    the whole tag goes.
    """
    spans: list[tuple[int, int]] = []
    found: list[str] = []
    name_match = tagfind_tolerant.match(text, 1)
    k = name_match.end() if name_match else len(text)
    while k < len(text):
        match = attrfind_tolerant.match(text, k)
        if not match:
            break
        found.append(match.group(1).lower())
        if active_attribute(tag, match.group(1), _value(match.group(3))):
            begin = match.start(1)
            while begin > 0 and text[begin - 1] in _TAG_BLANKS:  # the blank before it goes too
                begin -= 1
            spans.append((begin, match.end(2) if match.group(2) else match.end(1)))
        k = match.end()
    whole = [(offset, offset + len(text))]
    if found != names or has_active_content(_without(text, spans)):
        return whole
    return [(offset + begin, offset + end) for begin, end in spans]


def _value(raw: str | None) -> str | None:
    """An attribute's value as a browser reads it: unquoted, character references decoded."""
    if raw is None:
        return None
    if raw[:1] in "'\"" and raw[:1] == raw[-1:] and len(raw) > 1:
        raw = raw[1:-1]
    return unescape(raw)
