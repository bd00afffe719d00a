"""The `solti` entry point lists every contract subcommand and never crashes on one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from solti import cli

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


def test_a_verb_whose_module_fails_to_import_names_it_and_exits_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A broken install says which module and why; it is not a missing verb (exit 2)."""

    def broken_loader() -> click.Command:
        from solti.provisioning.cli import no_such_module  # type: ignore[attr-defined]

        return no_such_module  # type: ignore[no-any-return]

    monkeypatch.setitem(cli.VERBS, "vm", cli.Verb(broken_loader, cli.VERBS["vm"].help))
    result = CliRunner().invoke(cli.main, ["vm", "list", "--json"])
    assert result.exit_code == 1
    assert "solti vm: cannot load solti.provisioning.cli:" in result.output
    assert "no_such_module" in result.output
    assert "Traceback" not in result.output and result.exception is not None  # SystemExit only
    assert isinstance(result.exception, SystemExit)


def test_a_missing_dependency_is_named_in_a_real_process(tmp_path: Path) -> None:
    """A module on the path that fails to import (here: one shadowing waitress) is named."""
    (tmp_path / "waitress.py").write_text("raise ImportError('waitress is broken here')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    result = subprocess.run(
        [sys.executable, "-m", "solti", "bot"], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "solti bot: cannot be loaded: waitress is broken here"


def _imported_after(*args: str) -> set[str]:
    """The solti modules and heavy libraries a process imported to run `solti ARGS`."""
    code = "\n".join(
        [
            "import sys",
            "from solti.cli import main",
            "try:",
            f"    main({list(args)!r})",
            "except SystemExit:",
            "    pass",
            "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    return set(result.stderr.split())


def test_help_imports_no_verb_and_a_verb_only_its_own_module() -> None:
    listed = _imported_after("--help")
    assert not {
        m for m in listed if m.startswith(("solti.bot", "solti.provisioning", "solti.sandbox"))
    }
    assert "solti.composition" not in listed
    vm = _imported_after("vm", "--help")
    assert "solti.provisioning.cli.vm" in vm
    assert not {m for m in vm if m.startswith(("solti.bot", "solti.sandbox", "slack_bolt"))}
    assert "solti.composition" not in vm
