"""docs/proxmox.md shows exactly the privileges `solti check` verifies."""

from __future__ import annotations

import re
from pathlib import Path

from solti.provisioning.cli.check_proxmox import PRIVILEGES

PAGE = Path(__file__).resolve().parents[2] / "docs" / "proxmox.md"


def _placeholder(path: str) -> str:
    """`/storage/{vm_storage}` in code is `/storage/<vm storage>` on the page."""
    return re.sub(r"\{(\w+)\}", lambda m: "<" + m.group(1).replace("_", " ") + ">", path)


def test_table_lists_each_checked_privilege_with_its_path() -> None:
    text = PAGE.read_text("utf-8")
    rows = set(re.findall(r"^\| `([A-Za-z.]+)` \| `([^`]+)` \|", text, flags=re.MULTILINE))
    expected = {(r.privilege, _placeholder(r.path)) for r in PRIVILEGES}
    assert rows == expected


def test_role_command_grants_exactly_those_privileges() -> None:
    text = PAGE.read_text("utf-8")
    match = re.search(r'pveum role add SoltiBot --privs "([^"]+)"', text)
    assert match, "the page shows the pveum role command"
    assert set(match.group(1).split(",")) == {r.privilege for r in PRIVILEGES}
