"""Each stage of a run logged with its duration (``-v``): fetch, parse, decide, write, commit, push.

A stage is logged once it ends, with what it found; one that raised is logged too, with the
error's class, so a slow failure shows where the time went.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def timed(
    logger: logging.Logger, stage: str, level: int = logging.INFO, **fields: Any
) -> Iterator[dict[str, Any]]:
    """Log ``stage`` with ``fields``, what the body adds to the yielded dict, and ``seconds``."""
    found: dict[str, Any] = dict(fields)
    if not logger.isEnabledFor(level):
        yield found
        return
    start = time.perf_counter()
    try:
        yield found
    except BaseException as e:
        found["failed"] = type(e).__name__
        raise
    finally:
        found["seconds"] = f"{time.perf_counter() - start:.3f}"
        logger.log(level, stage, extra=found)
