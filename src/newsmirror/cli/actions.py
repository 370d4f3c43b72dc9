"""What a run shows in GitHub Actions' web page, when it runs there (``GITHUB_ACTIONS=true``):

* a job summary (appended to the file ``$GITHUB_STEP_SUMMARY`` names): the run's table, the
  commit, each push;
* a ``::warning::`` annotation per failing source and an ``::error::`` one per push that failed
  or error that stopped the run, so that the run's page says which without opening the log.

Everything shown went through the same redaction as every report (feed URLs' credentials).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final, TextIO

from ..redact import redact_text
from ..types import RunResult, SourceResult

log = logging.getLogger(__name__)

_MESSAGE_ESCAPES: Final = (("%", "%25"), ("\r", "%0D"), ("\n", "%0A"))
_PROPERTY_ESCAPES: Final = (*_MESSAGE_ESCAPES, (":", "%3A"), (",", "%2C"))


def in_actions(env: Mapping[str, str] = os.environ) -> bool:
    return env.get("GITHUB_ACTIONS") == "true"


def command(kind: str, message: str, *, title: str | None = None) -> str:
    """One workflow command line (``::warning title=…::…``), its data escaped as GitHub reads it."""
    properties = f" title={_escape(title, _PROPERTY_ESCAPES)}" if title else ""
    return f"::{kind}{properties}::{_escape(redact_text(message), _MESSAGE_ESCAPES)}\n"


def _escape(text: str, escapes: Iterable[tuple[str, str]]) -> str:
    for raw, escaped in escapes:
        text = text.replace(raw, escaped)
    return text


def annotation_lines(result: RunResult) -> list[str]:
    """A warning per failing source, an error per failed push."""
    lines = [
        command("warning", f"{s.name} ({s.slug}): {s.error_code}: {s.error}", title=f"{s.slug} failed")
        for s in result.failed
    ]
    lines += [
        command("error", f"push to {p.remote} failed: {p.message}", title=f"push to {p.remote} failed")
        for p in result.pushes
        if not p.ok
    ]
    return lines


_MEANINGS: Final = {
    1: ": some sources failed; the rest was archived and pushed (the run stays green)",
    4: ": archived and committed, but a push failed (the run fails)",
}


def summary(result: RunResult, archive: Path, code: int) -> str:
    """The job summary: a Markdown table of the sources, then the commit and the pushes."""
    rows = ["| source | new | updated | unchanged | skipped | result |", "|---|--:|--:|--:|--:|---|"]
    rows += [_row(s) for s in result.sources]
    commit = f"commit `{result.commit[:12]}`" if result.commit else "nothing to commit"
    lines = [f"### newsmirror: {result.new_count} new articles in `{archive}`; {commit}", "", *rows, ""]
    for push in result.pushes:
        outcome = "ok" if push.ok else f"**failed**: {_cell(push.message)}"
        lines.append(f"- push to `{push.remote}`: {outcome}")
    meaning = _MEANINGS.get(code, "")
    if code == 1 and not result.pushes:
        meaning = meaning.replace("archived and pushed", "archived")
    lines.append(f"\nexit status {code}{meaning}\n")
    return redact_text("\n".join(lines))


def _row(s: SourceResult) -> str:
    result = "ok" if s.ok else f"**failed** `{s.error_code}`: {_cell(s.error or '')}"
    cells = [f"{_cell(s.name)} (`{s.slug}`)", str(len(s.new)), str(len(s.updated)), str(s.unchanged)]
    return "| " + " | ".join([*cells, str(len(s.skipped)), result]) + " |"


def _cell(text: str) -> str:
    """Text that stays one Markdown table cell and shows as written (no markup of its own)."""
    text = " ".join(text.split())
    for char in "\\`*_[]<>|":
        text = text.replace(char, f"\\{char}")
    return text


def report_to_actions(result: RunResult, archive: Path, code: int, out: TextIO) -> None:
    """Annotations on ``out``, the summary appended to ``$GITHUB_STEP_SUMMARY``; outside
    Actions, nothing."""
    if not in_actions():
        return
    out.writelines(annotation_lines(result))
    write_summary(summary(result, archive, code))


def write_summary(text: str) -> None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    try:
        with open(target, "a", encoding="utf-8") as file:
            file.write(text)
    except OSError as e:  # the summary is a courtesy: the run's own result stands
        log.warning("cannot write the job summary to %s: %s", target, e)
