"""Run every benchmark in bench/ once, quickly, and print one summary (`make bench`).

Each ``bench/bench_*.py`` runs in its own process with the Python running this script, with
short settings where this file knows them (QUICK below) and the script's own defaults
otherwise, so a new bench is picked up without being listed here. Its output is shown as it
comes; the summary gives each one's exit status, wall time and last result line. The exit code
is 1 when any bench exited non-zero (bench_provisioning does when a create exceeds its request
budget).

    .venv/bin/python bench/run_all.py [--full] [--only NAME ...] [--list]

``--full`` runs every bench with its own (longer) defaults: the settings behind the figures in
docs/performance.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
# Short settings for the benches that take them; anything else runs with its own defaults.
QUICK: dict[str, list[str]] = {
    "bench_ack.py": ["--total", "100"],
    "bench_provisioning.py": ["--runs", "1"],
    "bench_sweep.py": ["--vms", "1000"],
    "bench_list.py": ["--vms", "1000", "--runs", "1"],
    "bench_bulk.py": ["--runs", "1"],
}


@dataclass
class Outcome:
    name: str
    args: list[str]
    returncode: int
    seconds: float
    last_line: str


def discover(directory: Path = BENCH_DIR) -> list[Path]:
    """Every bench script, in name order."""
    return sorted(directory.glob("bench_*.py"))


def run_one(script: Path, args: list[str]) -> Outcome:
    """Run one bench, echoing its output; keep the last non-empty line for the summary."""
    started = time.perf_counter()
    lines: list[str] = []
    with subprocess.Popen(
        [sys.executable, str(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=script.parent.parent,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(f"  {line}", end="", flush=True)
            if line.strip():
                lines.append(line.strip())
    seconds = time.perf_counter() - started
    return Outcome(script.name, args, process.returncode, seconds, lines[-1] if lines else "")


def summary(outcomes: list[Outcome]) -> str:
    width = max((len(o.name) for o in outcomes), default=5)
    rows = [f"{'bench':<{width}}  result  {'time':>7}  last line"]
    for o in outcomes:
        result = "ok" if o.returncode == 0 else f"exit {o.returncode}"
        rows.append(f"{o.name:<{width}}  {result:<6}  {o.seconds:6.1f}s  {o.last_line[:100]}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--full", action="store_true", help="each bench's own defaults")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="e.g. bench_ack or ack")
    parser.add_argument("--list", action="store_true", help="list the benches and stop")
    parser.add_argument("--bench-dir", type=Path, default=BENCH_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    scripts = discover(args.bench_dir)
    if args.only:
        wanted = {name.removeprefix("bench_").removesuffix(".py") for name in args.only}
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in wanted]
        unknown = wanted - {s.stem.removeprefix("bench_") for s in scripts}
        if unknown:
            parser.error(f"no bench named {', '.join(sorted(unknown))}")
    if not scripts:
        parser.error(f"no bench_*.py in {args.bench_dir}")
    if args.list:
        for script in scripts:
            print(script.name, " ".join(QUICK.get(script.name, [])))
        return 0

    outcomes: list[Outcome] = []
    for script in scripts:
        bench_args = [] if args.full else QUICK.get(script.name, [])
        print(f"== {script.name} {' '.join(bench_args)}".rstrip(), flush=True)
        outcomes.append(run_one(script, bench_args))
    print()
    print(summary(outcomes))
    failed = [o.name for o in outcomes if o.returncode != 0]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
