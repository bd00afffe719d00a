"""Option parsing of `solti sim pve` and policy merging, without starting servers."""

from __future__ import annotations

import socket
import subprocess
import sys

import click
import pytest

from solti.sandbox.environment import merge_policy
from solti.sandbox.launcher import parse_assignments


def test_parse_assignments_keeps_equals_in_the_value() -> None:
    assert parse_assignments(["qmclone=disk full=yes", " download = x "], "--x") == [
        ("qmclone", "disk full=yes"),
        ("download", "x"),
    ]


@pytest.mark.parametrize("bad", ["qmclone", "=1", "qmclone=", "  =  "])
def test_parse_assignments_rejects_incomplete(bad: str) -> None:
    with pytest.raises(click.BadParameter, match="expected TYPE=VALUE"):
        parse_assignments([bad], "--task-duration")


def test_merge_policy_merges_nested_mappings() -> None:
    base = {"distributions": {"rocky9": {"image_url": "u", "checksum_url": "c"}}, "admins": ["a"]}
    extra = {
        "distributions": {"rocky9": {"tags": ["lab"]}, "mine": {"image_url": "m"}},
        "admins": [],
    }
    assert merge_policy(base, extra) == {
        "distributions": {
            "rocky9": {"image_url": "u", "checksum_url": "c", "tags": ["lab"]},
            "mine": {"image_url": "m"},
        },
        "admins": [],
    }
    assert base["distributions"]["rocky9"] == {"image_url": "u", "checksum_url": "c"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task-duration", "qmclone=soon"], "'soon' is not a number of seconds"),
        (["--task-duration", "qmclone=-1"], "must not be negative"),
        (["--fail-next-task", "qmclone"], "expected TYPE=VALUE"),
        (["--nodes", "0"], "--nodes"),
        (["--agent-boot", "soon"], "'soon' is not a number of seconds or 'never'"),
        (["--agent-boot", "-2"], "must not be negative"),
        (["--http-errors", "-1"], "--http-errors"),
    ],
)
def test_bad_options_exit_2_without_traceback(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "solti.cli", "sim", "pve", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_port_in_use_is_a_one_line_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "solti.cli", "sim", "pve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert "cannot start the simulator" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
