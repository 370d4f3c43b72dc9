"""GitHub's Markdown renderer, cmark-gfm, as the sanitizer needs it: unsafe mode, no tag filter.

cmarkgfm (the Python binding) is used for everything but the two calls its own wrappers get
wrong: they free neither the document they parse nor the HTML they render — 19 MB over 3,000
renders of a 1.6 KB body, measured — and a run checks up to every body it archives. The two C
functions that release them, ``cmark_node_free`` and the allocator's ``free``, are exported by
the binding's own library but not declared to its cffi interface; they are looked up there and
called through that interface.
"""

from __future__ import annotations

import ctypes
from typing import Any, Final

from cmarkgfm import _cmark
from cmarkgfm import cmark as api
from cmarkgfm.cmark import Options

OPTIONS: Final = Options.CMARK_OPT_UNSAFE  # raw HTML passed through, every link kept
# GFM as github.com has it, less the tag filter (which would hide from the check what a
# renderer without it passes on).
EXTENSIONS: Final = ("table", "autolink", "strikethrough", "tasklist")

_LIBRARY: Final = ctypes.CDLL(_cmark.__file__)


def _function(name: str, signature: str) -> Any:
    address = ctypes.cast(getattr(_LIBRARY, name), ctypes.c_void_p).value
    return _cmark.ffi.cast(signature, address)


_free_node: Final = _function("cmark_node_free", "void(*)(cmark_node *)")
_allocator: Final = _function("cmark_get_default_mem_allocator", "cmark_mem *(*)(void)")()


def render(text: str) -> str:
    """``text`` rendered to HTML by cmark-gfm, every C allocation of the call released."""
    api.core_extensions_ensure_registered()
    parser = api.parser_new(OPTIONS)
    try:
        for name in EXTENSIONS:
            api.parser_attach_syntax_extension(parser, api.find_syntax_extension(name))
        api.parser_feed(parser, text)
        document = api.parser_finish(parser)
        try:
            html = _cmark.lib.cmark_render_html(document, OPTIONS, api.parser_get_syntax_extensions(parser))
            try:
                return str(_cmark.ffi.string(html).decode("utf-8"))
            finally:
                _allocator.free(html)
        finally:
            _free_node(document)
    finally:
        api.parser_free(parser)
