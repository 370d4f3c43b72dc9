"""``newsmirror demo``: an offline walkthrough over sample feeds served on 127.0.0.1."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("demo", help="archive sample feeds served on 127.0.0.1 (offline)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, *, transport: httpx.AsyncBaseTransport | None,
           clock: Callable[[], datetime] | None) -> int:
    raise NotImplementedError
