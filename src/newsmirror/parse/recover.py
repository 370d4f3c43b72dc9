"""Reading a feed whose strict parse failed: repair the faults we know, let libxml2 recover the rest.

Only a document that failed the strict parse (``bad_xml``) comes here, so the strict path
costs nothing more.  The steps, each only while the document still fails:

1. textual repairs, outside CDATA sections and comments (where ``&`` is just a character):
   an HTML named entity becomes a character reference (``&nbsp;`` → ``&#160;``, from Python's
   HTML5 table; an unknown name is kept as text), a bare ``&`` becomes ``&amp;``; characters
   XML 1.0 forbids (C0 controls but tab/LF/CR, U+FFFE/U+FFFF, and references to them) are
   removed everywhere; whitespace before the XML declaration is dropped, and a declaration
   after a comment is dropped itself;
2. the strict parse again;
3. libxml2's recovering parser (lxml ``recover=True``) for what is left: content after the root
   element, tags that do not match.  A document cut off (its root element never closed) is first
   cut back to the end of its last complete item, so that an unfinished item is left out, not
   archived half.

Why lxml's recovering parser and not feedparser or fastfeedparser as the fallback: the recovered
tree goes through the same format modules as a strict one, so a recovered entry reads exactly as
it would have had the feed been well-formed (feedparser rewrites content: it sanitizes HTML,
resolves relative links and maps fields through its own aliases; fastfeedparser is itself lxml's
recovering parser without the repairs above, and drops the text at a bare ``&``).  libxml2 alone
is not enough either: it keeps ``&nbsp;`` as an entity node and drops a bare ``&`` with the
word after it, hence step 1.  Measured on 346 files, 272 of them feeds (fastfeedparser's 200
real-world benchmark feeds, rowanmanning/sample-feeds, feedparser's ill-formed and encoding
tests; ``benchmarks/bench_parse_recovery.py``): strict only, 22 feeds lost and 7,572 entries;
with recovery, 12 lost and 7,699 entries (feedparser: 2 lost, 7,700 entries, 15 times slower).
What is still lost is on purpose: 10 feeds in an undeclared legacy encoding, which feedparser
"reads" as windows-1252 mojibake (here ``bad_encoding``), and one cut off inside its only item.

What was repaired is reported as one short line, the first fault of each kind with its line
(``undefined entity &nbsp; at line 3 (and 4 more)``): the caller shows it as a note.
"""

from __future__ import annotations

import html.entities
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from lxml import etree

from ..exceptions import ParseError
from .xml import PARSER_OPTIONS, local, parse_strict

_PROTECTED = re.compile(rb"<!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)", re.DOTALL)
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")
_NAMED_REF = re.compile(rb"&([A-Za-z_:][\w.:-]*);")
_BARE_AMP = re.compile(rb"&(?!#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z_:][\w.:-]*;)")
# A "<" that cannot start a tag, comment, declaration or PI (``a < b``, ``<3``): text, which
# libxml2's recovery would drop.
_BARE_LT = re.compile(rb"<(?![A-Za-z_:/!?\x80-\xff])")
_FORBIDDEN = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")
_DECLARED_ENTITY = re.compile(rb"<!ENTITY\s+([^\s%]+)")
_DECLARATION = re.compile(rb"<\?xml\s[^>]*?\?>")
_DECLARATION_REACH = 4096  # a comment or blank lines at most before it; past that it is no prologue
_ITEM_END = re.compile(rb"</(?:[\w.-]+:)?(?:item|entry)\s*>")
# HTML's empty elements written into a description unescaped (``<br>``): never closed in HTML.
# Not ``link``, ``source`` or ``meta``: RSS has elements of those names with content.
_VOID_START = re.compile(rb"<(br|hr|img|wbr)\b([^<>]*?)(/?)>", re.IGNORECASE)
_VOID_END = re.compile(rb"</(?:br|hr|img|wbr)\s*>", re.IGNORECASE)
_ENTRY_NAMES = frozenset({"item", "entry"})
_XML_ENTITIES = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})


@dataclass(frozen=True, slots=True)
class Recovered:
    root: etree._Element
    fault: str
    """What was wrong, for a person: the first fault of each kind and its line."""


@dataclass(slots=True)
class _Faults:
    """The first fault of each kind (with its line) and how many more of it there were."""

    first: dict[str, tuple[int, str]] = field(default_factory=dict)
    count: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, line: int, text: str) -> None:
        self.count[kind] = self.count.get(kind, 0) + 1
        if kind not in self.first or line < self.first[kind][0]:
            self.first[kind] = (line, text)

    def drop(self, kind: str) -> None:
        self.first.pop(kind, None)
        self.count.pop(kind, None)

    def describe(self) -> str:
        parts = []
        for kind, (_, text) in self.first.items():
            more = self.count[kind] - 1
            parts.append(f"{text} (and {more} more)" if more else text)
        return "; ".join(parts)


def recover(document: bytes, *, slug: str) -> Recovered | None:
    """The root element a lenient reading of ``document`` (UTF-8) finds, or None."""
    faults = _Faults()
    repaired = _repaired(document, faults)
    try:
        root: etree._Element | None = parse_strict(repaired, slug=slug)
    except ParseError:
        root = _lenient(repaired, faults)
        if root is not None and not _closed(repaired, root):
            root = _cut_back(repaired, faults)
    if root is None:
        return None
    _resolve_entity_nodes(root, faults)  # those the repair could not see (in a broken comment)
    return Recovered(root, faults.describe())


def resolve_entity_nodes(root: etree._Element) -> str | None:
    """Replace entity references libxml2 left as nodes by their characters; the fault, or None.

    A document with an external DTD (RSS 0.91's) parses strictly with ``&nbsp;`` undefined,
    kept as a node that would read as the text "&nbsp;".
    """
    faults = _Faults()
    _resolve_entity_nodes(root, faults)
    return faults.describe() or None


def _resolve_entity_nodes(root: etree._Element, faults: _Faults) -> None:
    for entity in list(root.iter(etree.Entity)):
        line = cast(int | None, entity.sourceline) or 0  # lxml-stubs type it loosely
        faults.add("entity", line, f"undefined entity {entity.text} at line {line}")
        name = str(entity.text)[1:-1]
        _replace_with_text(entity, html.entities.html5.get(f"{name};", str(entity.text)))


def _replace_with_text(node: etree._Element, text: str) -> None:
    parent = node.getparent()
    if parent is None:
        return
    text += node.tail or ""
    previous = node.getprevious()
    if previous is None:
        parent.text = (parent.text or "") + text
    else:
        previous.tail = (previous.tail or "") + text
    parent.remove(node)


def _repaired(document: bytes, faults: _Faults) -> bytes:
    declared = frozenset(_DECLARED_ENTITY.findall(document))
    pieces: list[bytes] = []
    start = 0
    for protected in _PROTECTED.finditer(document):
        pieces.append(_references_repaired(document, start, protected.start(), declared, faults))
        pieces.append(protected.group())
        start = protected.end()
    pieces.append(_references_repaired(document, start, len(document), declared, faults))
    repaired = _FORBIDDEN.sub(_control_recorder(faults), b"".join(pieces))
    return _declaration_first(repaired, faults)


def _declaration_first(document: bytes, faults: _Faults) -> bytes:
    """Without what stands before a late XML declaration: the declaration is dropped, or the space."""
    late = _DECLARATION.search(document, 1)
    if late is None or late.start() > _DECLARATION_REACH:
        return document
    if not document[: late.start()].strip():
        faults.add("space", 1, "whitespace before the XML declaration")
        return document[late.start() :]
    line = document.count(b"\n", 0, late.start()) + 1
    faults.add("space", line, f"an XML declaration after the document's start, at line {line}")
    return document[: late.start()] + document[late.end() :]


def _references_repaired(
    document: bytes, start: int, end: int, declared: frozenset[bytes], faults: _Faults
) -> bytes:
    """``document[start:end]`` (outside CDATA and comments) with its references made well-formed."""

    def line(offset: int) -> int:
        return document.count(b"\n", 0, start + offset) + 1

    def char_ref(match: re.Match[bytes]) -> bytes:
        hexadecimal, decimal = match.groups()
        code = int(hexadecimal, 16) if hexadecimal else int(decimal)
        if _allowed(code):
            return match.group()
        where = line(match.start())
        faults.add("control", where, f"control character U+{code:04X} (a reference) at line {where}")
        return b""

    def named_ref(match: re.Match[bytes]) -> bytes:
        name = match.group(1)
        if name in _XML_ENTITIES or name in declared:
            return match.group()
        where = line(match.start())
        faults.add("entity", where, f"undefined entity &{name.decode()}; at line {where}")
        characters = html.entities.html5.get(f"{name.decode()};")
        if characters is None:
            return b"&amp;" + match.group()[1:]  # not HTML's either: kept as the text it is
        return b"".join(b"&#%d;" % ord(c) for c in characters)

    def void_start(match: re.Match[bytes]) -> bytes:
        if match.group(3):
            return match.group()
        where = line(match.start())
        faults.add("void", where, f"an HTML <{match.group(1).decode().lower()}> never closed at line {where}")
        return b"<%s%s/>" % (match.group(1), match.group(2))

    def bare_amp(match: re.Match[bytes]) -> bytes:
        where = line(match.start())
        faults.add("amp", where, f"a bare & at line {where}")
        return b"&amp;"

    def bare_lt(match: re.Match[bytes]) -> bytes:
        where = line(match.start())
        faults.add("lt", where, f"a bare < at line {where}")
        return b"&lt;"

    text = _CHAR_REF.sub(char_ref, document[start:end])
    text = _NAMED_REF.sub(named_ref, text)
    text = _VOID_END.sub(b"", _VOID_START.sub(void_start, text))
    return _BARE_LT.sub(bare_lt, _BARE_AMP.sub(bare_amp, text))


def _allowed(code: int) -> bool:
    """Whether XML 1.0 allows the character (its production ``Char``)."""
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _control_recorder(faults: _Faults) -> Callable[[re.Match[bytes]], bytes]:
    def record(match: re.Match[bytes]) -> bytes:
        line = match.string.count(b"\n", 0, match.start()) + 1
        code = ord(match.group().decode("utf-8"))
        faults.add("control", line, f"control character U+{code:04X} at line {line}")
        return b""

    return record


def _lenient(document: bytes, faults: _Faults) -> etree._Element | None:
    # A parser per call: recovery is rare, and the error log then belongs to this document alone.
    parser = etree.XMLParser(recover=True, encoding="utf-8", **PARSER_OPTIONS)  # type: ignore[arg-type]
    try:
        root = etree.fromstring(document, parser=parser)
    except etree.XMLSyntaxError:
        return None
    for error in parser.error_log:
        if error.level >= etree.ErrorLevels.ERROR:
            faults.add("xml", error.line, _described(error.message, error.line))
    if root is not None:
        _unnest_entries(root)
    return root


def _unnest_entries(root: etree._Element) -> None:
    """Move an item that recovery put inside another item (an end tag lost) out after it.

    Document order is kept (each goes right after its outermost item, the last first); without
    this, the format modules would not see the inner item.
    """
    tags = {e.tag for e in root.iter() if local(e.tag) in _ENTRY_NAMES}
    for tag in tags:
        for element in reversed(list(root.iter(tag))):
            outermost = None
            for ancestor in element.iterancestors(tag):
                outermost = ancestor
            if outermost is not None and outermost.getparent() is not None:
                outermost.addnext(element)


def _described(message: str, line: int) -> str:
    if message.startswith("Extra content at the end of the document"):
        return f"content after the root element at line {line}"
    return f"invalid XML at line {line}: {message}"


def _closed(document: bytes, root: etree._Element) -> bool:
    """Whether the document has the root element's end tag (else it was cut off)."""
    name = local(root.tag)
    tag = f"</{root.prefix}:{name}" if root.prefix else f"</{name}"
    return tag.encode() in document


def _cut_back(document: bytes, faults: _Faults) -> etree._Element | None:
    """The document up to its last complete item, read leniently: the unfinished item left out."""
    ends = list(_ITEM_END.finditer(document))
    faults.drop("xml")  # the errors were the cut itself
    lines = document.count(b"\n") + 1
    if not ends:
        faults.add("cut", lines, f"the document is cut off at line {lines}")
        return None
    faults.add("cut", lines, f"the document is cut off at line {lines}; the unfinished last item is left out")
    return _lenient(document[: ends[-1].end()], _Faults())
