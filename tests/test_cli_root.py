"""The `solti` entry point lists every contract subcommand and never crashes on one."""

from __future__ import annotations

import subprocess
import sys

CONTRACT_VERBS = ["audit", "bot", "check", "sandbox", "sim", "template", "vm"]


def run_solti(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "solti.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_help_lists_every_contract_subcommand() -> None:
    result = run_solti("--help")
    assert result.returncode == 0
    listed = [
        line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()
    ]
    assert [v for v in CONTRACT_VERBS if v in listed] == CONTRACT_VERBS


def test_unknown_subcommand_is_a_usage_error_without_traceback() -> None:
    result = run_solti("frobnicate")
    assert result.returncode == 2
    assert "No such command" in result.stderr
    assert "Traceback" not in result.stderr
