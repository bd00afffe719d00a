"""`make bench` runs bench/run_all.py, which finds every bench/bench_*.py and sums them up."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN_ALL = ROOT / "bench" / "run_all.py"


def _run_all(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RUN_ALL), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_make_bench_runs_the_runner() -> None:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    recipe = re.search(r"^bench:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert recipe and recipe.group(1).strip() == "$(BIN)/python bench/run_all.py"
    assert RUN_ALL.is_file()


def test_every_bench_script_is_found() -> None:
    listed = _run_all("--list")
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert names == sorted(p.name for p in (ROOT / "bench").glob("bench_*.py"))
    assert {"bench_ack.py", "bench_provisioning.py"} <= set(names)


def test_runs_each_bench_and_summarises_failures(tmp_path: Path) -> None:
    (tmp_path / "bench_fast.py").write_text(
        "import sys\nprint('args', sys.argv[1:])\nprint('p99 1.0 ms')\n"
    )
    (tmp_path / "bench_slow.py").write_text(
        "import sys\nprint('p99 900 ms: over the goal')\nsys.exit(3)\n"
    )
    (tmp_path / "helper.py").write_text("raise SystemExit('not a bench: never run')\n")
    result = _run_all("--bench-dir", str(tmp_path))
    assert result.returncode == 1
    summary = result.stdout.split("\n\n")[-1]
    assert re.search(r"^bench_fast\.py\s+ok\s+[\d.]+s\s+p99 1\.0 ms$", summary, re.MULTILINE)
    assert re.search(r"^bench_slow\.py\s+exit 3\s+[\d.]+s\s+p99 900 ms", summary, re.MULTILINE)
    assert "helper" not in result.stdout
    assert "failed: bench_slow.py" in result.stderr
    assert "args []" in result.stdout  # no short settings known: the bench's own defaults


def test_only_picks_benches_by_short_name(tmp_path: Path) -> None:
    (tmp_path / "bench_one.py").write_text("print('one')\n")
    (tmp_path / "bench_two.py").write_text("print('two')\n")
    result = _run_all("--bench-dir", str(tmp_path), "--only", "two")
    assert result.returncode == 0, result.stderr
    assert "== bench_two.py" in result.stdout and "bench_one" not in result.stdout
    unknown = _run_all("--bench-dir", str(tmp_path), "--only", "three")
    assert unknown.returncode == 2 and "no bench named three" in unknown.stderr
