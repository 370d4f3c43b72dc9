"""Structured logs on stderr: one ``key=value`` line per event (``-v`` info, ``-vv`` debug)."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import ClassVar, TextIO

from ..redact import redact_text

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class KeyValueFormatter(logging.Formatter):
    """``ts=… level=… logger=… msg="…" key=value …`` — easy to grep, easy to parse."""

    quoted: ClassVar[str] = ' ="'

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        pairs = [
            ("ts", moment),
            ("level", record.levelname.lower()),
            ("logger", record.name),
            ("msg", record.getMessage()),
        ]
        pairs += [(k, v) for k, v in record.__dict__.items() if k not in _STANDARD]
        line = " ".join(f"{k}={self._value(v)}" for k, v in pairs)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact_text(line)  # a feed URL's credentials never reach a CI log

    def _value(self, value: object) -> str:
        text = str(value)
        if text and not any(ch in text for ch in self.quoted):
            return text
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def configure(verbosity: int, stream: TextIO | None = None) -> None:
    """Send newsmirror's logs to stderr at the level ``-v`` asks for (errors only by default)."""
    logger = logging.getLogger("newsmirror")
    for handler in list(logger.handlers):
        if getattr(handler, "newsmirror_cli", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.newsmirror_cli = True  # type: ignore[attr-defined]
    handler.setFormatter(KeyValueFormatter())
    logger.addHandler(handler)
    logger.setLevel({0: logging.ERROR, 1: logging.INFO}.get(verbosity, logging.DEBUG))
    logger.propagate = False
