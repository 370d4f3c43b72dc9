"""Earlier contents of articles (revisions) and what was noticed about them (marks), as JSON lines
in the tree: ``.newsmirror/revisions/<slug>/<YYYY-MM>.jsonl`` and ``.newsmirror/marks/<slug>.jsonl``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from ..archive_format import UNDATED, content_hash
from ..types import Mark, Record, Revision
from .files import TreeFiles

log = logging.getLogger(__name__)


def _revisions_file(slug: str, record: Record) -> str:
    return f".newsmirror/revisions/{slug}/{record.month or UNDATED}.jsonl"


def _marks_file(slug: str) -> str:
    return f".newsmirror/marks/{slug}.jsonl"


def keep_revision(files: TreeFiles, slug: str, record: Record, text: str, seen_ms: int) -> None:
    line = {"id": record.id, "seen": seen_ms, "sha": content_hash(text), "title": record.title, "text": text}
    _append(files, _revisions_file(slug, record), line)


def revisions(files: TreeFiles, slug: str, record: Record) -> tuple[Revision, ...]:
    relative = _revisions_file(slug, record)
    found = [x for x in _lines(files, relative) if x.get("id") == record.id]
    return tuple(
        Revision(record.id, int(x["seen"]), str(x["sha"]), str(x["title"]), str(x["text"])) for x in found
    )


def add_mark(files: TreeFiles, slug: str, mark: Mark) -> None:
    _append(
        files, _marks_file(slug), {"id": mark.article_id, "kind": mark.kind, "ms": mark.ms, "note": mark.note}
    )


def marks(files: TreeFiles, slug: str, article_id: int) -> tuple[Mark, ...]:
    found = [x for x in _lines(files, _marks_file(slug)) if x.get("id") == article_id]
    return tuple(Mark(article_id, str(x["kind"]), int(x["ms"]), str(x.get("note", ""))) for x in found)


def _append(files: TreeFiles, relative: str, line: dict[str, Any]) -> None:
    before = files.read(relative) or ""
    files.write(relative, before + json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")


def _lines(files: TreeFiles, relative: str) -> Iterator[dict[str, Any]]:
    for number, line in enumerate((files.read(relative) or "").split("\n"), 1):
        if line.strip():
            try:
                value = json.loads(line)
            except ValueError as e:
                log.warning("%s:%d: unreadable line skipped: %s", relative, number, e)
                continue
            if isinstance(value, dict):
                yield value
