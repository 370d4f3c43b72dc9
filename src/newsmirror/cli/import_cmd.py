"""``newsmirror import`` (being built)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("import", help="take over an existing duty-machine archive checkout")
    parser.set_defaults(handler=handle)


def handle(
    args: argparse.Namespace,
    *,
    transport: httpx.AsyncBaseTransport | None,
    clock: Callable[[], datetime] | None,
) -> int:
    raise NotImplementedError("newsmirror import is not built yet")
