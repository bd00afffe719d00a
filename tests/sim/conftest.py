"""One simulator per test session, reset before every test; helpers to drive tasks."""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

from solti.sandbox.pve import PveSimulator
from solti.sandbox.pve.schema import Schema, get_schema

NODE = "pve"
GIB = 1024**3


@pytest.fixture(scope="session")
def _session_pve() -> Iterator[PveSimulator]:
    with PveSimulator(nodes=3, shared_storage=True) as pve:
        yield pve


@pytest.fixture
def pve(_session_pve: PveSimulator) -> PveSimulator:
    _session_pve.reset()
    return _session_pve


def root_login(pve: PveSimulator, password: str | None = None) -> ProxmoxAPI:
    """proxmoxer logged in as root@pam with a password (``pve.password`` unless given): a
    ticket and its CSRF token, not the API token of ``api``; PVE's permission tests admit
    root@pam before any other check (RPCEnvironment.pm check_api2_permissions)."""
    return ProxmoxAPI(pve.host, port=pve.port, user="root@pam",
                      password=pve.password if password is None else password,
                      verify_ssl=pve.ca_path, backend="https")  # fmt: skip


def refusal(call: Any) -> tuple[int, str]:
    """The status and message of the PVE error ``call`` must raise (a permission test)."""
    with pytest.raises(ResourceException) as caught:
        call()
    return caught.value.status_code, caught.value.content


def grant(pve: PveSimulator, acl: dict[str, list[str]]) -> None:
    """The token's whole ACL (every entry propagates); ``{"/": []}`` is no privilege at all."""
    pve.state.access.replace_acl(acl)


@pytest.fixture(scope="session")
def schema() -> Schema:
    """The vendored PVE schema, for the pure validation tests (no server)."""
    return get_schema()


@pytest.fixture
def api(pve: PveSimulator) -> Any:
    """A real proxmoxer client (https backend, token auth, the simulator's CA)."""
    return pve.client()


def wait_task(api: Any, upid: str, node: str = NODE, deadline: float = 10.0) -> dict[str, Any]:
    """Poll a task until it stops (as proxmoxer's blocking_status does, only faster)."""
    end = time.monotonic() + deadline
    while True:
        status = api.nodes(node).tasks(upid).status.get()
        if status["status"] == "stopped":
            return status
        if time.monotonic() > end:
            raise AssertionError(f"task {upid} still running")
        time.sleep(0.02)  # the pace of polling a condition, as every PVE client polls tasks


def run_ok(api: Any, upid: str, node: str = NODE) -> dict[str, Any]:
    status = wait_task(api, upid, node)
    assert status["exitstatus"] == "OK", status
    return status


def qcow2_image(virtual_size: int, payload: int = 4096) -> bytes:
    """A minimal qcow2 v3 header (magic, version, virtual size at bytes 24..31) plus data."""
    header = b"QFI\xfb" + struct.pack(">I", 3) + b"\0" * 16 + struct.pack(">Q", virtual_size)
    return header + b"\0" * (payload - len(header))


def create_vm(api: Any, vmid: int, node: str = NODE, **params: Any) -> dict[str, Any]:
    """Create a VM through the API and wait for the task."""
    params.setdefault("scsi0", "local-lvm:1")
    run_ok(api, api.nodes(node).qemu.post(vmid=vmid, **params), node)
    return api.nodes(node).qemu(vmid).config.get()
