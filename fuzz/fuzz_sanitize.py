"""Coverage-guided fuzz target of the sanitizer: text → ``neutralize`` → nothing runs (atheris).

Run from the repository root (see fuzz/README.md)::

    python fuzz/fuzz_sanitize.py -max_total_time=600 -dict=fuzz/xss.dict fuzz/corpus-sanitize SEEDS

where SEEDS is a folder of the known vectors, one a file (``tests/test_fuzz.py`` writes one from
``tests/xss/vectors.jsonl``). Each input is a body and, on its first line, a title. After
``neutralize`` (and ``neutralize_title``) nothing in it may run as the oracle of the tests sees
it (``tests/browser_view.py``: as HTML, through markdown-it with raw HTML and every link on, and
through cmark-gfm unsafe, each parsed by an HTML5 parser with scripting off and on), and a body
the detector finds inert must come back byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' oracle

with atheris.instrument_imports(include=["newsmirror"]):
    from newsmirror.transform.active import has_active_content
    from newsmirror.transform.sanitize import neutralize, neutralize_title
    from newsmirror.transform.text import clean_title, join_lines

from tests.browser_view import running_parts


def TestOneInput(data: bytes) -> None:  # the name atheris expects
    text = data.decode("utf-8", "replace")
    title, _, body = text.partition("\n")
    for html in {body, join_lines(body)}:
        out = neutralize(html)
        assert not running_parts(out), (html, out, running_parts(out))
        assert has_active_content(html) or out == html, (html, out)
    line = f"[{neutralize_title(clean_title(title))}](https://e.com/a)"
    assert not running_parts(line), (title, line, running_parts(line))


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
