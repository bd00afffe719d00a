"""What docs/commands.md promises about every verb: its exit codes and shell completion.

The codes are read from the page's table and checked against real `solti` processes (stdin is
not a terminal, as in a script or CI job), `solti bot` included: a configuration error there is
1 like everywhere else.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from solti.sandbox.environment import SimEnvironment

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ROOT / "docs" / "commands.md"


def documented_exit_codes() -> dict[int, str]:
    """{code: meaning} from the table under `### Exit codes`."""
    section = COMMANDS.read_text("utf-8").split("### Exit codes", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `(\d+)` \| ([^|]+)\|", section, flags=re.MULTILINE)
    return {int(code): meaning.strip() for code, meaning in rows}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "solti", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.fixture
def bare_env(tmp_path: Path) -> dict[str, str]:
    """No Proxmox or Slack settings at all; a database of its own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PROXMOX_", "SLACK_", "SOLTI_"))
    }
    return {**env, "SOLTI_DB": str(tmp_path / "solti.db")}


@pytest.fixture(scope="module")
def world() -> Iterator[SimEnvironment]:
    with SimEnvironment() as environment:
        yield environment


def test_the_table_has_the_codes_every_verb_uses() -> None:
    codes = documented_exit_codes()
    assert set(codes) == {0, 1, 2, 130}
    assert "configuration error" in codes[1]
    assert "usage" in codes[2]


# (documented code, arguments, needs the simulator)
CASES = [
    (0, ["--version"], False),
    (0, ["audit", "--json"], False),
    (0, ["vm", "list", "--json"], True),
    (1, ["vm", "list"], False),  # configuration error: no PROXMOX_URL
    (1, ["check"], False),  # an item fails
    (1, ["bot"], False),  # configuration error: no SLACK_BOT_TOKEN, no PROXMOX_URL
    (1, ["vm", "start", "4242"], True),  # not found on the cluster
    (1, ["vm", "remove", "4242"], True),  # refused: no terminal and no --yes
    (2, ["vm", "start"], False),  # missing VMID
    (2, ["vm", "start", "abc"], False),  # malformed VMID
    (2, ["audit", "--json", "--csv"], False),  # options that exclude each other
    (2, ["vm", "bogus"], False),  # unknown verb
    (2, ["vm", "list", "--bogus"], False),  # unknown option
]


@pytest.mark.parametrize(
    ("code", "args", "needs_sim"), CASES, ids=[" ".join(args) for _, args, _ in CASES]
)
def test_documented_code_is_what_the_cli_returns(
    code: int,
    args: list[str],
    needs_sim: bool,
    bare_env: dict[str, str],
    request: pytest.FixtureRequest,
) -> None:
    assert code in documented_exit_codes()
    env = dict(bare_env)
    if needs_sim:
        env.update(request.getfixturevalue("world").env)
    result = run(args, env)
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    if code != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines, "a failure says why on stderr"


@pytest.fixture(scope="module")
def solti_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `solti` on PATH that is what the console script is (``solti.cli:main``), so completion
    is tested from a checkout where the project is not installed."""
    script = tmp_path_factory.mktemp("bin") / "solti"
    script.write_text(f"#!{sys.executable}\nfrom solti.cli import main\n\nmain()\n")
    script.chmod(0o755)
    return script


def test_bash_completion_script_is_produced(solti_script: Path) -> None:
    result = subprocess.run(
        [str(solti_script)],
        env={**os.environ, "_SOLTI_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "_solti_completion()" in result.stdout
    # Loaded as docs/commands.md says, bash registers it for `solti`.
    loaded = subprocess.run(
        ["bash", "-c", 'eval "$(_SOLTI_COMPLETE=bash_source solti)" && complete -p solti'],
        env={**os.environ, "PATH": f"{solti_script.parent}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "-F _solti_completion solti" in loaded.stdout


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [("solti v", 1, "vm"), ("solti vm sh", 2, "shutdown"), ("solti template bu", 2, "build")],
)
def test_bash_completion_completes_verbs(
    words: str, cword: int, expected: str, solti_script: Path
) -> None:
    """What the generated script asks `solti` for at each <Tab>, and what it answers."""
    result = subprocess.run(
        [str(solti_script)],
        env={
            **os.environ,
            "_SOLTI_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(cword),
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [f"plain,{expected}"]


def test_completion_is_documented() -> None:
    text = COMMANDS.read_text("utf-8")
    for shell in ("bash", "zsh", "fish"):
        assert f"_SOLTI_COMPLETE={shell}_source solti" in text
