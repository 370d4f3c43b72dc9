"""The text formats of the tree store's state files: record lines, key lines, summaries.

All are UTF-8 text with one entry per line, sorted, so that git stores a change as a small
delta and a reader can follow one in ``git log -p``.  Pure: text in, values out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, TypeVar

from ..archive_format import UNDATED, newest_first
from ..identity import identity_keys
from ..types import Record, SourceSummary

T = TypeVar("T")

SHARD_LINES: Final = 512
"""Key lines a shard holds on average before the source's keys are spread over 16× more shards."""
MAX_DIGITS: Final = 4
LEGACY_MONTH: Final = "legacy"
"""The month a legacy record's key lines name: it lives in ``legacy/<slug>.jsonl``."""


class DamagedLine(ValueError):
    """A state file's line that does not read (a hand edit, a power loss)."""


# -- records --------------------------------------------------------------------------------


def record_line(record: Record, *, with_month: bool = False) -> str:
    """One JSON line; the month only where the file does not imply it (a summary's list)."""
    fields: dict[str, object] = {"id": record.id, "ms": record.ms, "title": record.title, "link": record.link}
    names: tuple[str, ...] = ("guid", "path", "feed_date", "sha", "feed_sha", "body_from", "day")
    names += ("month",) if with_month else ()
    for name in names:
        value = getattr(record, name)
        if value is not None:
            fields[name] = value
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")) + "\n"


def _typed(value: Any, kind: type[T]) -> T:
    """``value`` when it is a ``kind``, else TypeError: a hand-edited or damaged line
    (``"ms": "soon"``, ``"title": null``) must not reach the numbering or the lists."""
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"{value!r} is not {kind.__name__}")
    return value


def _optional(value: Any, kind: type[T]) -> T | None:
    return None if value is None else _typed(value, kind)


def record_from_fields(fields: Mapping[str, Any], month: str | None) -> Record:
    return Record(
        id=_typed(fields["id"], int),
        ms=_optional(fields.get("ms"), int),
        title=_typed(fields["title"], str),
        link=_typed(fields["link"], str),
        guid=_optional(fields.get("guid"), str),
        path=_optional(fields.get("path"), str),
        feed_date=_optional(fields.get("feed_date"), str),
        sha=_optional(fields.get("sha"), str),
        feed_sha=_optional(fields.get("feed_sha"), str),
        body_from=_optional(fields.get("body_from"), str),
        day=_optional(fields.get("day"), int),
        month=month if month is not None else _optional(fields.get("month"), str),
    )


def parse_records(text: str, where: str, month: str | None) -> Iterator[Record]:
    """The records of a shard; DamagedLine naming ``where`` and the line for one that does not read."""
    # JSON escapes \n and \r but not U+2028 or U+0085, which str.splitlines() would split on
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            yield record_from_fields(json.loads(line), month)
        except (ValueError, KeyError, TypeError) as e:
            raise DamagedLine(f"{where}:{number}: bad record line: {e}") from e


def records_text(records: Iterable[Record]) -> str:
    """A shard's text: newest id... in id order, highest first (as the first index was)."""
    return "".join(record_line(r) for r in sorted(records, key=lambda r: -r.id))


# -- keys -----------------------------------------------------------------------------------


def key_hash(key: str) -> str:
    """16 hex digits standing for an identity key; a hash shared by two keys only costs a look at
    a record that then does not match."""
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest()


def id_key(article_id: int) -> str:
    return f"# {article_id}"


def record_keys(record: Record) -> tuple[str, ...]:
    """Every key ``record`` is found by: guid, link, id."""
    return (*identity_keys(record.link, record.guid), id_key(record.id))


def digits_for(lines: int) -> int:
    """Shard digits for ``lines`` key lines: few files for a small source, small files for a big one."""
    digits = 1
    while digits < MAX_DIGITS and lines > SHARD_LINES * 16**digits:
        digits += 1
    return digits


def shard_name(hashed: str, digits: int) -> str:
    """``a``, ``ab``, ``a/bc``, ``ab/cd``: at most 256 entries in any folder."""
    prefix = hashed[:digits]
    if digits <= 2:
        return f"{prefix}.txt"
    return f"{prefix[:-2]}/{prefix[-2:]}.txt"


@dataclass(frozen=True, slots=True)
class KeyLine:
    hashed: str
    id: int
    month: str

    def text(self) -> str:
        return f"{self.hashed} {self.id} {self.month}\n"


def key_lines(record: Record) -> list[KeyLine]:
    month = LEGACY_MONTH if record.path is not None else (record.month or UNDATED)
    return [KeyLine(key_hash(k), record.id, month) for k in dict.fromkeys(record_keys(record))]


def parse_key_lines(text: str, where: str) -> Iterator[KeyLine]:
    for number, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        parts = line.split(" ")
        try:
            hashed, article_id, month = parts
            yield KeyLine(hashed, int(article_id), month)
        except ValueError as e:
            raise DamagedLine(f"{where}:{number}: bad key line: {e}") from e


def key_text(lines: Iterable[KeyLine]) -> str:
    return "".join(line.text() for line in sorted(set(lines), key=lambda k: (k.hashed, k.id, k.month)))


# -- summaries ------------------------------------------------------------------------------

LISTED: Final = 300
"""Records a summary keeps by each list order (``render.LIST_SIZE``)."""


@dataclass(frozen=True, slots=True)
class Meta:
    """A source's summary plus how its keys are sharded."""

    summary: SourceSummary
    digits: int = 1
    key_lines: int = 0


def listed(records: Iterable[Record]) -> tuple[Record, ...]:
    """The records any list order can show: the 300 newest by date and the 300 lowest ids."""
    pool = list(records)
    newest = sorted(pool, key=newest_first)[:LISTED]
    lowest = sorted(pool, key=lambda r: r.id)[:LISTED]
    chosen = {r.id: r for r in (*newest, *lowest)}
    return tuple(sorted(chosen.values(), key=newest_first))


def with_records(
    summary: SourceSummary, added: Iterable[Record], replaced: Iterable[Record] = ()
) -> SourceSummary:
    """``summary`` after ``added`` new records and ``replaced`` rewritten ones."""
    new = list(added)
    changed = {r.id: r for r in replaced}
    kept = [changed.get(r.id, r) for r in summary.listed]
    months = dict(summary.months)
    for record in new:
        month = record.month or UNDATED
        months[month] = months.get(month, 0) + 1
    ids = [r.id for r in new]
    lowest = min([*ids, *([summary.lowest_id] if summary.lowest_id is not None else [])], default=None)
    return replace(
        summary,
        articles=summary.articles + len(new),
        lowest_id=lowest,
        listed=listed([*kept, *new]),
        months=dict(sorted(months.items())),
    )


def meta_text(meta: Meta) -> str:
    s = meta.summary
    head = {
        "articles": s.articles,
        "lowest_id": s.lowest_id,
        "months": dict(s.months),
        "key_digits": meta.digits,
        "key_lines": meta.key_lines,
    }
    body = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    records = ",\n".join(record_line(r, with_month=True).rstrip("\n") for r in s.listed)
    return f'{body},"listed":[\n{records}\n]}}\n' if records else f'{body},"listed":[]}}\n'


def parse_meta(text: str, where: str) -> Meta:
    try:
        data = json.loads(text)
        listed_records = tuple(record_from_fields(f, None) for f in _typed(data["listed"], list))
        months = {_typed(k, str): _typed(v, int) for k, v in _typed(data["months"], dict).items()}
        summary = SourceSummary(
            articles=_typed(data["articles"], int),
            lowest_id=_optional(data.get("lowest_id"), int),
            listed=listed_records,
            months=months,
        )
        return Meta(summary, _typed(data["key_digits"], int), _typed(data["key_lines"], int))
    except (ValueError, KeyError, TypeError) as e:
        raise DamagedLine(f"{where}: bad summary: {e}") from e
