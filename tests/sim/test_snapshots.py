"""VM snapshots in the simulator, as qemu-server and pve-guest-common run them.

Sources followed (cited per test): qemu-server ``src/PVE/API2/Qemu.pm`` subs ``snapshot``,
``snapshot_list``, ``snapshot_cmd_idx``, ``rollback``, ``delsnapshot``,
``update_snapshot_config``, ``get_snapshot_config``; pve-guest-common
``src/PVE/AbstractConfig.pm`` ``__snapshot_prepare``, ``__snapshot_commit``,
``snapshot_create``, ``snapshot_rollback``, ``snapshot_delete``; qemu-server
``src/PVE/QemuConfig.pm`` ``has_feature``, ``__snapshot_save_vmstate``,
``__snapshot_check_running``; pve-common ``JSONSchema.pm`` format ``pve-configid``; pve-storage
``volume_has_feature`` (``Plugin.pm``: qcow2 only; ``LvmThinPlugin.pm``: any current volume).
"""

from __future__ import annotations

from typing import Any

import pytest
from proxmoxer import ResourceException

from tests.sim.conftest import NODE, run_ok, wait_task


def _vm(api: Any, vmid: int = 100) -> Any:
    return api.nodes(NODE).qemu(vmid)


def _task_error(api: Any, upid: str) -> str:
    status = wait_task(api, upid)
    assert status["exitstatus"] != "OK", status
    return str(status["exitstatus"])


def _refused(call: Any, status: int = 500) -> Any:
    with pytest.raises(ResourceException) as info:
        call()
    assert info.value.status_code == status, info.value
    return info.value


def test_create_lists_parent_chain_and_current(pve, api):
    """``snapshot_list``: every snapshot with ``snaptime``/``vmstate``/``parent``, then
    ``current`` whose ``parent`` is the newest (``__snapshot_commit`` sets it)."""
    pve.state.add_vm(100)
    vm = _vm(api)
    upid = vm.snapshot.post(snapname="before", description="first")
    assert ":qmsnapshot:100:" in upid
    run_ok(api, upid)
    run_ok(api, vm.snapshot.post(snapname="after"))
    rows = {row["name"]: row for row in vm.snapshot.get()}
    assert set(rows) == {"before", "after", "current"}
    assert rows["before"]["description"] == "first"
    assert rows["before"]["vmstate"] == 0
    assert "parent" not in rows["before"]
    assert rows["after"]["parent"] == "before"
    assert rows["current"]["parent"] == "after"
    assert rows["current"]["description"] == "You are here!"
    assert isinstance(rows["before"]["snaptime"], int)


def test_snapshot_lock_is_held_while_the_task_runs(pve, api):
    """``__snapshot_prepare`` sets ``lock: snapshot`` when the worker starts; the commit
    removes it. Meanwhile another snapshot fails ``check_lock``."""
    pve.state.add_vm(100)
    pve.clock.freeze()
    pve.faults.task_duration("qmsnapshot", 5)
    vm = _vm(api)
    first = vm.snapshot.post(snapname="one")
    assert vm.config.get()["lock"] == "snapshot"
    assert vm.status.current.get()["lock"] == "snapshot"
    second = vm.snapshot.post(snapname="two")
    pve.advance(6)
    assert api.nodes(NODE).tasks(first).status.get()["exitstatus"] == "OK"
    assert api.nodes(NODE).tasks(second).status.get()["exitstatus"] == "VM is locked (snapshot)"
    assert "lock" not in vm.config.get()


@pytest.mark.parametrize("name", ["current"])
def test_current_is_reserved(pve, api, name):
    """``snapshot`` dies before forking: "unable to use snapshot name 'current'"."""
    pve.state.add_vm(100)
    error = _refused(lambda: _vm(api).snapshot.post(snapname=name))
    assert error.content == "unable to use snapshot name 'current' (reserved name)"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("1st", "invalid format - invalid configuration ID '1st'"),
        ("has space", "invalid format - invalid configuration ID 'has space'"),
        ("dots.not.ok", "invalid format - invalid configuration ID 'dots.not.ok'"),
        ("a" * 41, "value may only be 40 characters long"),
    ],
)
def test_names_follow_pve_configid(pve, api, name, message):
    """pve-common ``JSONSchema.pm`` ``pve-configid`` (``^[a-z][a-z0-9_-]+$``, case-insensitive)
    and the ``pve-snapshot-name`` option's ``maxLength => 40``: a 400 naming ``snapname``."""
    pve.state.add_vm(100)
    error = _refused(lambda: _vm(api).snapshot.post(snapname=name), status=400)
    assert {k: v.strip() for k, v in error.errors.items()} == {"snapname": message}


def test_forty_characters_are_allowed(pve, api):
    pve.state.add_vm(100)
    run_ok(api, _vm(api).snapshot.post(snapname="A" + "b-_9" * 9 + "z" * 3))


def test_duplicate_name_fails_the_task(pve, api):
    """``__snapshot_prepare``: "snapshot name 'x' already used" (in the worker)."""
    pve.state.add_vm(100)
    run_ok(api, _vm(api).snapshot.post(snapname="once"))
    upid = _vm(api).snapshot.post(snapname="once")
    assert _task_error(api, upid) == "snapshot name 'once' already used"
    assert "lock" not in _vm(api).config.get()


def test_raw_disk_on_file_storage_cannot_be_snapshotted(pve, api):
    """``has_feature('snapshot')`` over every non-cdrom drive: ``Plugin.pm`` snapshots only
    qcow2, so a raw image on NFS (or dir) fails "snapshot feature is not available"."""
    pve.state.add_vm(100, scsi1="shared:100/vm-100-disk-1.raw,size=1G")
    upid = _vm(api).snapshot.post(snapname="nope")
    assert _task_error(api, upid) == "snapshot feature is not available"
    assert [r["name"] for r in _vm(api).snapshot.get()] == ["current"]


def test_qcow2_on_file_storage_and_lvmthin_can(pve, api):
    pve.state.add_vm(100, scsi1="shared:100/vm-100-disk-1.qcow2,size=1G")
    run_ok(api, _vm(api).snapshot.post(snapname="fine"))


def test_template_cannot_be_snapshotted(pve, api):
    """``__snapshot_prepare``: "you can't take a snapshot if it's a template"."""
    pve.state.add_template(9000)
    upid = _vm(api, 9000).snapshot.post(snapname="tpl")
    assert _task_error(api, upid) == "you can't take a snapshot if it's a template"


def test_vmstate_only_saved_for_a_running_vm(pve, api):
    """``__snapshot_prepare`` calls ``__snapshot_save_vmstate`` only if
    ``__snapshot_check_running``: a stopped VM's ``vmstate=1`` is quietly not saved."""
    pve.state.add_vm(100, running=True)
    pve.state.add_vm(101)
    run_ok(api, _vm(api).snapshot.post(snapname="ram", vmstate=1))
    run_ok(api, _vm(api, 101).snapshot.post(snapname="ram", vmstate=1))
    assert [r["vmstate"] for r in _vm(api).snapshot.get() if r["name"] == "ram"] == [1]
    assert [r["vmstate"] for r in _vm(api, 101).snapshot.get() if r["name"] == "ram"] == [0]
    config = _vm(api).snapshot("ram").config.get()
    assert config["vmstate"] == "local-lvm:vm-100-state-ram"


def test_rollback_stops_a_running_vm_and_restores_the_config(pve, api):
    """``snapshot_rollback``: ``__snapshot_rollback_vm_stop`` (a hard stop), then the
    snapshot's config becomes current (``__snapshot_apply_config``) with ``parent`` set;
    without RAM the VM stays stopped."""
    pve.state.add_vm(100, running=True)
    vm = _vm(api)
    run_ok(api, vm.snapshot.post(snapname="base"))
    vm.config.put(cores=8, description="kept")
    upid = vm.snapshot("base").rollback.post()
    assert ":qmrollback:100:" in upid
    run_ok(api, upid)
    config = vm.config.get()
    assert config["cores"] == 2
    assert config["description"] == "kept"  # the current description stays
    assert vm.status.current.get()["status"] == "stopped"
    assert [r.get("parent") for r in vm.snapshot.get() if r["name"] == "current"] == ["base"]


def test_rollback_to_a_ram_snapshot_resumes_the_vm(pve, api):
    """``__snapshot_rollback_vm_start`` with the ``vmstate`` file: running again."""
    pve.state.add_vm(100, running=True)
    vm = _vm(api)
    run_ok(api, vm.snapshot.post(snapname="ram", vmstate=1))
    run_ok(api, vm.snapshot("ram").rollback.post())
    assert vm.status.current.get()["status"] == "running"


def test_rollback_lock_and_missing_snapshot(pve, api):
    """The ``rollback`` lock while the worker runs; a missing name fails the task with
    "snapshot 'x' does not exist" (``$get_snapshot_config``)."""
    pve.state.add_vm(100)
    vm = _vm(api)
    run_ok(api, vm.snapshot.post(snapname="base"))
    pve.clock.freeze()
    pve.faults.task_duration("qmrollback", 5)
    upid = vm.snapshot("base").rollback.post()
    assert vm.config.get()["lock"] == "rollback"
    pve.advance(6)
    assert api.nodes(NODE).tasks(upid).status.get()["exitstatus"] == "OK"
    missing = vm.snapshot("nosuch").rollback.post()
    pve.advance(6)
    status = api.nodes(NODE).tasks(missing).status.get()
    assert status["exitstatus"] == "snapshot 'nosuch' does not exist"


def test_delete_relinks_children_and_current(pve, api):
    """``snapshot_delete``: lock ``snapshot-delete``; children and ``current`` that named the
    deleted snapshot as parent now name its parent."""
    pve.state.add_vm(100, running=True)
    vm = _vm(api)
    for name in ("sa", "sb", "sc"):
        run_ok(api, vm.snapshot.post(snapname=name, vmstate=1 if name == "sb" else 0))
    pve.clock.freeze()
    pve.faults.task_duration("qmdelsnapshot", 5)
    upid = vm.snapshot("sb").delete()
    assert ":qmdelsnapshot:100:" in upid
    assert vm.config.get()["lock"] == "snapshot-delete"
    pve.advance(6)
    assert api.nodes(NODE).tasks(upid).status.get()["exitstatus"] == "OK"
    rows = {r["name"]: r for r in vm.snapshot.get()}
    assert set(rows) == {"sa", "sc", "current"}
    assert rows["sc"]["parent"] == "sa"
    assert rows["current"]["parent"] == "sc"
    content = api.nodes(NODE).storage("local-lvm").content.get(vmid=100)
    assert not [c for c in content if "state" in c["volid"]]
    last = vm.snapshot("sc").delete()
    pve.advance(6)
    assert api.nodes(NODE).tasks(last).status.get()["exitstatus"] == "OK"
    assert [r.get("parent") for r in vm.snapshot.get() if r["name"] == "current"] == ["sa"]


def test_delete_missing_fails_the_task(pve, api):
    pve.state.add_vm(100)
    upid = _vm(api).snapshot("ghost").delete()
    assert _task_error(api, upid) == "snapshot 'ghost' does not exist"


def test_snapshot_config_get_and_put(pve, api):
    """``get_snapshot_config``: the copy (no lock, no digest); ``update_snapshot_config``
    changes only the description; ``snapshot_cmd_idx`` lists rollback and config."""
    pve.state.add_vm(100)
    vm = _vm(api)
    run_ok(api, vm.snapshot.post(snapname="s1", description="old"))
    vm.config.put(memory=4096)
    snap = vm.snapshot("s1").config.get()
    assert snap["memory"] == "2048"  # the section as parsed: ``returns => {type => 'object'}``
    assert snap["description"] == "old"
    assert "lock" not in snap and "digest" not in snap
    vm.snapshot("s1").config.put(description="new")
    assert vm.snapshot("s1").config.get()["description"] == "new"
    assert vm.snapshot("s1").get() == [{"cmd": "rollback"}, {"cmd": "config"}]
    error = _refused(lambda: vm.snapshot("zz").config.get())
    assert error.content == "snapshot 'zz' does not exist"


def test_privileges(pve, api):
    """The subs' ``permissions``: ``VM.Snapshot`` to take or delete; ``VM.Snapshot`` or
    ``VM.Snapshot.Rollback`` to roll back; ``start=1`` also needs ``VM.PowerMgmt``."""
    pve.state.add_vm(100)
    run_ok(api, _vm(api).snapshot.post(snapname="s1"))
    pve.state.set_token_privileges("/vms", {})
    pve.state.set_token_privileges("/vms/100", {"VM.Audit": 1, "VM.Snapshot.Rollback": 1})
    error = _refused(lambda: _vm(api).snapshot.post(snapname="t1"), status=403)
    assert "VM.Snapshot" in str(error)
    _refused(lambda: _vm(api).snapshot("s1").delete(), status=403)
    run_ok(api, _vm(api).snapshot("s1").rollback.post())
    error = _refused(lambda: _vm(api).snapshot("s1").rollback.post(start=1), status=403)
    assert "VM.PowerMgmt" in str(error)
