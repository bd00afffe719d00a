"""One QEMU version per node, and the machine a running VM was started with.

The node's pve-qemu-kvm is 10.1.2-7 (pve-qemu ``debian/changelog``; ``state/qemu_host.py``):
``meta`` ``creation-qemu`` (qemu-server ``PVE/QemuServer/MetaInfo.pm``
``new_meta_info_string``), ``running-qemu`` (``PVE/QemuServer.pm`` ``vmstatus``' version
callback), the machine types (``PVE/API2/Qemu/Machine.pm`` ``types``) and ``apt/versions``
(pve-manager ``PVE/API2/APT.pm`` ``versions``) all say so. ``running-machine`` is
``Machine.pm`` ``get_vm_machine`` at start as ``current_from_query_machines`` reports it.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from solti.sandbox.pve import PveSimulator
from solti.sandbox.pve.handlers.reads import QGA_VERSION
from solti.sandbox.pve.state.qemu_host import QEMU_PACKAGE_VERSION, QEMU_VERSION
from tests.sim.conftest import NODE, create_vm, run_ok

RUNNING = {"running-machine", "running-qemu"}


def status(api: Any, vmid: int) -> dict[str, Any]:
    return api.nodes(NODE).qemu(vmid).status.current.get()


def start(api: Any, vmid: int) -> None:
    run_ok(api, api.nodes(NODE).qemu(vmid).status.start.post())


def test_the_host_qemu_is_pve_qemu_kvm_10_1_2() -> None:
    """PVE 9.1 ships QEMU 10.1 (pve-qemu ``debian/changelog``: 10.1.2-7 the last 10.1 build)."""
    assert (QEMU_PACKAGE_VERSION, QEMU_VERSION) == ("10.1.2-7", "10.1.2")


def test_creation_qemu_of_seeded_and_created_vms_is_the_host_version(
    pve: PveSimulator, api: Any
) -> None:
    """``create_vm`` writes ``new_meta_info_string()``: ``creation-qemu=<kvm_user_version>``."""
    pve.state.add_vm(100)
    created = create_vm(api, 101)
    seeded = api.nodes(NODE).qemu(100).config.get()
    for conf in (seeded, created):
        assert conf["meta"].startswith(f"creation-qemu={QEMU_VERSION},ctime=")


def test_a_stopped_vm_has_no_running_versions(pve: PveSimulator, api: Any) -> None:
    """``vmstatus`` asks QMP only of running VMs: nothing ``running-*`` for a stopped one."""
    pve.state.add_vm(100)
    assert not RUNNING & set(status(api, 100))


@pytest.mark.parametrize(
    ("machine", "expected"),
    [
        (None, "pc-i440fx-10.1+pve0"),
        ("q35", "pc-q35-10.1+pve0"),
        ("q35,viommu=virtio", "pc-q35-10.1+pve0"),
        ("pc-q35-9.2", "pc-q35-9.2+pve0"),
        ("pc-i440fx-9.2+pve1", "pc-i440fx-9.2+pve1"),
        ("type=pc-q35-10.0+pve1.pxe", "pc-q35-10.0+pve1"),
    ],
)
def test_running_machine_is_the_type_the_vm_started_with(
    pve: PveSimulator, api: Any, machine: str | None, expected: str
) -> None:
    """``get_vm_machine``: an alias gets ``+pve<get_pve_version(kvm)>`` (10.1 has no PVE
    revision: ``+pve0``), a version without ``+pveN`` gets ``+pve0``; QEMU resolves the alias
    and ``current_from_query_machines`` appends the ``pve-version``; ``config_to_command``
    drops ``.pxe`` before QEMU sees the type."""
    conf = {} if machine is None else {"machine": machine}
    pve.state.add_vm(100, **conf)
    start(api, 100)
    current = status(api, 100)
    assert (current["running-machine"], current["running-qemu"]) == (expected, QEMU_VERSION)


def test_a_config_change_while_running_does_not_change_the_running_machine(
    pve: PveSimulator, api: Any
) -> None:
    """The machine is QEMU's, fixed at start: a later ``machine`` in the config shows only
    after the next start."""
    pve.state.add_vm(100, running=True)
    assert status(api, 100)["running-machine"] == "pc-i440fx-10.1+pve0"
    pve.state.guests[100].conf["machine"] = "q35"
    assert status(api, 100)["running-machine"] == "pc-i440fx-10.1+pve0"
    run_ok(api, api.nodes(NODE).qemu(100).status.stop.post())
    assert not RUNNING & set(status(api, 100))
    start(api, 100)
    assert status(api, 100)["running-machine"] == "pc-q35-10.1+pve0"


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        (f"creation-qemu={QEMU_VERSION},ctime=1700000000", "pc-i440fx-10.1+pve0"),
        ("creation-qemu=9.2.0,ctime=1700000000", "pc-i440fx-9.2+pve0"),
        ("creation-qemu=8.1.5,ctime=1700000000", "pc-i440fx-5.1+pve0"),
    ],
)
def test_an_unpinned_windows_guest_runs_the_version_it_was_created_with(
    pve: PveSimulator, api: Any, meta: str, expected: str
) -> None:
    """``get_vm_machine``: a Windows ``ostype`` without a versioned type is pinned at start to
    its ``creation-qemu`` major.minor when that is 9.1 or newer, else to 5.1."""
    pve.state.add_vm(100, ostype="win11", meta=meta)
    start(api, 100)
    assert status(api, 100)["running-machine"] == expected


def test_creating_a_windows_guest_pins_its_machine(pve: PveSimulator, api: Any) -> None:
    """``create_vm`` calls ``check_and_pin_machine_string``: "always pin Windows' machine
    version on create" to ``latest_installed_machine_version`` (10.1, no PVE revision),
    keeping the other machine options; Linux guests keep the alias."""
    windows = create_vm(api, 100, ostype="win11", machine="q35,viommu=virtio")
    linux = create_vm(api, 101, ostype="l26", machine="q35")
    assert windows["machine"] == "pc-q35-10.1,viommu=virtio"
    assert linux["machine"] == "q35"
    plain = create_vm(api, 102, ostype="win10")
    assert plain["machine"] == "pc-i440fx-10.1"


def test_switching_to_a_windows_ostype_pins_the_machine(pve: PveSimulator, api: Any) -> None:
    """``update_vm``: a new Windows ``ostype`` pins the machine as on create, unless the same
    request sets or deletes ``machine``."""
    pve.state.add_vm(100, machine="q35")
    pve.state.add_vm(101)
    api.nodes(NODE).qemu(100).config.put(ostype="win11")
    api.nodes(NODE).qemu(101).config.put(ostype="win11", machine="pc-i440fx-9.2")
    assert api.nodes(NODE).qemu(100).config.get()["machine"] == "pc-q35-10.1"
    assert api.nodes(NODE).qemu(101).config.get()["machine"] == "pc-i440fx-9.2"
    api.nodes(NODE).qemu(101).config.put(ostype="l26")
    assert api.nodes(NODE).qemu(101).config.get()["machine"] == "pc-i440fx-9.2"


def test_the_full_vm_list_carries_the_running_versions(pve: PveSimulator, api: Any) -> None:
    """``vmlist`` is ``vmstatus(undef, $full)``: the QMP fields only with ``full``."""
    pve.state.add_vm(100, running=True)
    pve.state.add_vm(101)
    plain = {r["vmid"]: r for r in api.nodes(NODE).qemu.get()}
    full = {r["vmid"]: r for r in api.nodes(NODE).qemu.get(full=1)}
    assert not RUNNING & (set(plain[100]) | set(full[101]))
    assert full[100]["running-qemu"] == QEMU_VERSION
    assert full[100]["running-machine"] == "pc-i440fx-10.1+pve0"


def test_the_default_machine_version_is_the_newest_machine_type(api: Any) -> None:
    """The running default (``pc`` -> ``pc-i440fx-10.1``) is the newest plain type ``types``
    lists from the same pve-qemu-kvm."""
    rows = api.nodes(NODE).capabilities.qemu.machines.get()
    assert rows[0]["id"] == "pc-i440fx-" + ".".join(QEMU_VERSION.split(".")[:2])


def test_aarch64_machines_are_pve_qemus_virt_types(api: Any) -> None:
    """pve-qemu-kvm 10.1.2-6+ ships ``machine-versions-aarch64.json`` (``virt-X.Y``, 4.1 ...
    10.1 for QEMU 10.1); ``types`` adds ``+pveN`` by version alone (``get_machine_pve_revisions``)
    and sorts newest first. ``type`` is ``virt``, outside the schema's enum: PVE does not
    verify answers over HTTP (pve-common ``RESTHandler.pm`` ``handle``)."""
    rows = api.nodes(NODE).capabilities.qemu.machines.get(arch="aarch64")
    ids = [row["id"] for row in rows]
    assert ids[:4] == ["virt-10.1", "virt-10.0+pve1", "virt-10.0", "virt-9.2+pve1"]
    assert ids[-3:] == ["virt-4.1+pve2", "virt-4.1+pve1", "virt-4.1"]
    assert {row["type"] for row in rows} == {"virt"}
    assert len(rows) == 19 + 4
    changes = {row["id"]: row.get("changes") for row in rows}
    assert changes["virt-9.2+pve1"] == "Disables S3/S4 power states by default."
    assert changes["virt-9.2"] is None


def test_the_aarch64_file_is_what_parse_machines_prints() -> None:
    """debian/parse-machines.pl over ``qemu-system-aarch64 -machine help``: canonical JSON,
    in ``machine_class_cmp`` order (decreasing ``strcmp`` of ``virt-X.Y-machine``)."""
    text = (
        resources.files("solti.sandbox.pve.data")
        .joinpath("machine-versions-aarch64.json")
        .read_text()
    )
    rows = json.loads(text)
    assert text == json.dumps(rows, separators=(",", ":"), sort_keys=True)
    ids = [row["id"] for row in rows]
    assert ids == sorted(ids, key=lambda i: f"{i}-machine", reverse=True)
    assert all(row == {"id": row["id"], "type": "virt", "version": row["id"][5:]} for row in rows)


def test_the_guest_agent_is_the_guests_not_the_hosts(pve: PveSimulator, api: Any) -> None:
    """QGA ``guest-info`` reports the agent built with the guest's distribution (Debian
    trixie's qemu-guest-agent), which need not match the host's QEMU."""
    pve.state.add_vm(100, running=True)
    pve.faults.agent_boot(0)
    info = api.nodes(NODE).qemu(100).agent.info.get()
    assert info["result"]["version"] == QGA_VERSION != QEMU_VERSION
