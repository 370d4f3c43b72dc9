"""The atheris fuzz target (fuzz/fuzz_feed.py), run for a bounded number of inputs.

Seeded with the small feeds of tests/data; new corpus entries and any crash file go to a
temporary directory, never into the repository.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "fuzz" / "fuzz_feed.py"
RUNS = 400_000
SECONDS = 25

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None,
    reason="ATHERIS NOT INSTALLED: the feed fuzz target is NOT run (pip install 'atheris>=2.3')",
)


def test_fuzz_target_survives_a_bounded_run(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    done = subprocess.run(
        [
            sys.executable,
            str(TARGET),
            f"-runs={RUNS}",
            f"-max_total_time={SECONDS}",
            "-seed=1",
            "-timeout=10",
            "-rss_limit_mb=2048",
            "-print_final_stats=1",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
            str(ROOT / "tests" / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=SECONDS + 60,
        check=False,
        cwd=tmp_path,
    )
    crashes = sorted(p.name for p in tmp_path.glob("crash-*")) + sorted(
        p.name for p in tmp_path.glob("timeout-*")
    )
    assert done.returncode == 0, f"fuzz target failed ({crashes}):\n{_report(done)}"
    assert crashes == []
    executed = re.search(r"stat::number_of_executed_units: (\d+)", done.stderr)
    assert executed is not None, done.stderr[-2000:]
    assert int(executed.group(1)) > 1000  # it really ran, beyond the seed corpus
    assert any(corpus.iterdir())  # and found inputs that reach new code


def _report(done: subprocess.CompletedProcess[str]) -> str:
    """atheris prints an uncaught exception's traceback on stdout; libFuzzer's verdict is on stderr."""
    verdict = [line for line in done.stderr.splitlines() if "==" in line or "SUMMARY" in line]
    return f"{done.stdout[-6000:]}\n{chr(10).join(verdict[-5:])}"


SANITIZE_TARGET = ROOT / "fuzz" / "fuzz_sanitize.py"
SANITIZE_SECONDS = 20
VECTORS = ROOT / "tests" / "xss" / "vectors.jsonl"


def test_sanitizer_fuzz_target_survives_a_bounded_run_from_the_known_vectors(tmp_path: Path) -> None:
    """fuzz/fuzz_sanitize.py, seeded with the known XSS vectors (one a file, a title line first)."""
    if not VECTORS.exists():
        pytest.skip("XSS VECTOR CORPUS MISSING (tests/xss/vectors.jsonl): sanitizer NOT fuzzed")
    seeds, corpus = tmp_path / "seeds", tmp_path / "corpus"
    seeds.mkdir()
    corpus.mkdir()
    lines = [line for line in VECTORS.read_text("utf-8").split("\n") if line]
    for number, line in enumerate(lines):
        vector = json.loads(line)["vector"]
        title = vector.splitlines()[0][:60] if vector else ""
        (seeds / f"{number:04d}").write_text(f"标题 {title}\n{vector}")
    done = subprocess.run(
        [
            sys.executable,
            str(SANITIZE_TARGET),
            f"-max_total_time={SANITIZE_SECONDS}",
            "-seed=1",
            "-timeout=10",
            "-max_len=4096",
            "-rss_limit_mb=2048",
            f"-dict={ROOT / 'fuzz' / 'xss.dict'}",
            "-print_final_stats=1",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
            str(seeds),
        ],
        capture_output=True,
        text=True,
        timeout=SANITIZE_SECONDS + 120,
        check=False,
        cwd=tmp_path,
    )
    crashes = sorted(p.name for p in tmp_path.glob("crash-*"))
    assert done.returncode == 0, f"sanitizer fuzz target failed ({crashes}):\n{_report(done)}"
    executed = re.search(r"stat::number_of_executed_units: (\d+)", done.stderr)
    assert executed is not None, done.stderr[-2000:]
    assert int(executed.group(1)) > len(lines)  # beyond the seeds
