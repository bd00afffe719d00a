"""Shared by the schema tests: PVE's exact error texts and a helper that expects a 400.

The schema tests are split by endpoint group (every endpoint's generic rules, the qemu config
formats, routing); the strings here are PVE 9.1's own words, kept in one place so the groups
cannot drift apart.
"""

from __future__ import annotations

from typing import Any

import pytest

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.schema import Schema

UPID = "UPID:pve:0002A1F3:01B5C2D4:6650F2A1:qmclone:9000:root@pam!solti:"
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGd+x/y= alice@example.org"
NOT_DEFINED = (
    "property is not defined in schema and the schema does not allow additional properties"
)
BAD_VMID = "invalid format - value does not look like a valid VM ID\n"
VM = "/nodes/pve/qemu/500"


def type_error(type_: str, value: str) -> str:
    return f"type check ('{type_}') failed - got '{value}'"


def errors_of(schema: Schema, method: str, path: str, params: dict[str, Any], **kw: Any) -> dict:
    """The per-parameter errors of a request that must fail with PVE's 400."""
    route = schema.resolve(method, path)
    with pytest.raises(PveError) as info:
        schema.validate(route, params, **kw)
    assert info.value.status == 400
    assert info.value.message == "Parameter verification failed.\n"
    assert info.value.reason == "Parameter verification failed."
    return info.value.errors or {}
