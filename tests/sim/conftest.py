"""One simulator per test session, reset before every test; helpers to drive tasks."""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest

from solti.sandbox.pve import PveSimulator
from solti.sandbox.pve.schema import Schema, get_schema

NODE = "pve"
GIB = 1024**3


@pytest.fixture(scope="session")
def _session_sim() -> Iterator[PveSimulator]:
    with PveSimulator(nodes=3, shared_storage=True) as sim:
        yield sim


@pytest.fixture
def sim(_session_sim: PveSimulator) -> PveSimulator:
    _session_sim.reset()
    return _session_sim


@pytest.fixture(scope="session")
def schema() -> Schema:
    """The vendored PVE schema, for the pure validation tests (no server)."""
    return get_schema()


@pytest.fixture
def pve(sim: PveSimulator) -> Any:
    """A real proxmoxer client (https backend, token auth, the simulator's CA)."""
    return sim.client()


def wait_task(pve: Any, upid: str, node: str = NODE, deadline: float = 10.0) -> dict[str, Any]:
    """Poll a task until it stops (as proxmoxer's blocking_status does, only faster)."""
    end = time.monotonic() + deadline
    while True:
        status = pve.nodes(node).tasks(upid).status.get()
        if status["status"] == "stopped":
            return status
        if time.monotonic() > end:
            raise AssertionError(f"task {upid} still running")
        time.sleep(0.02)


def run_ok(pve: Any, upid: str, node: str = NODE) -> dict[str, Any]:
    status = wait_task(pve, upid, node)
    assert status["exitstatus"] == "OK", status
    return status


def qcow2_image(virtual_size: int, payload: int = 4096) -> bytes:
    """A minimal qcow2 v3 header (magic, version, virtual size at bytes 24..31) plus data."""
    header = b"QFI\xfb" + struct.pack(">I", 3) + b"\0" * 16 + struct.pack(">Q", virtual_size)
    return header + b"\0" * (payload - len(header))


def create_vm(pve: Any, vmid: int, node: str = NODE, **params: Any) -> dict[str, Any]:
    """Create a VM through the API and wait for the task."""
    params.setdefault("scsi0", "local-lvm:1")
    run_ok(pve, pve.nodes(node).qemu.post(vmid=vmid, **params), node)
    return pve.nodes(node).qemu(vmid).config.get()
