"""Media RSS (``media:`` namespace): the description YouTube-style feeds carry their text in.

Used by RSS and Atom alike; ``media:description`` may stand in the item, in ``media:group``
or in ``media:content`` (http://www.rssboard.org/media-rss).
"""

from __future__ import annotations

import html

from lxml import etree

from .xml import text_of

MEDIA_NS = "http://search.yahoo.com/mrss/"
_DESCRIPTION = f"{{{MEDIA_NS}}}description"


def description(item: etree._Element) -> str | None:
    """The item's first ``media:description`` as HTML, or None.

    Its ``type`` is ``plain`` unless it says ``html``: plain text is escaped and its line breaks
    kept as ``<br>`` (the archive joins a body's lines, which would glue its paragraphs).
    """
    element = next(item.iter(_DESCRIPTION), None)
    text = text_of(element)
    if element is None or text is None:
        return None
    if element.get("type") == "html":
        return text
    return html.escape(text.replace("\r\n", "\n"), quote=False).replace("\n", "<br>\n")


def is_web_url(text: str | None) -> bool:
    """Whether the text is an absolute http(s) URL (an id or guid that can serve as the link)."""
    return text is not None and text.strip().lower().startswith(("http://", "https://"))
