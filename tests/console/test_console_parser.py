"""The console's command line, parsed without starting anything."""

from __future__ import annotations

import pytest

from solti.sandbox.console import Command, parse_command, slash_parts


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/solti vm create rocky9", Command("slash", "/solti vm create rocky9")),
        ("  /solti help  ", Command("slash", "/solti help")),
        ("click 2", Command("click", "", 2)),
        ("click 3 pve2", Command("click", "pve2", 3)),
        ("click Approve", Command("click", "Approve", None)),
        ("as @bob", Command("as", "bob")),
        ("as Carol", Command("as", "carol")),
        ("in #approvals", Command("in", "approvals")),
        ("wait", Command("wait")),
        ("wait 3", Command("wait", number=3)),
        ("wait for is ready", Command("wait", "is ready")),
        ('wait for "VM web-1"', Command("wait", "VM web-1")),
        ("help", Command("help")),
        ("QUIT", Command("quit")),
        ("exit", Command("quit")),
        ("show", Command("show")),
        ("home", Command("home")),
        ("", Command("empty")),
    ],
)
def test_lines(line: str, expected: Command) -> None:
    assert parse_command(line) == expected


@pytest.mark.parametrize("line", ["click", "as", "as @", "in", "wait soon", "frobnicate"])
def test_mistakes_explain_themselves(line: str) -> None:
    command = parse_command(line)
    assert command.kind == "error"
    assert command.error


def test_slash_parts() -> None:
    assert slash_parts("/solti vm create rocky9 --disk 50G") == (
        "/solti",
        "vm create rocky9 --disk 50G",
    )
    assert slash_parts("/solti") == ("/solti", "")
