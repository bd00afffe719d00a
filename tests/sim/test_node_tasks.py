"""``GET /nodes/{node}/tasks``: the node's task list, as crash recovery and monitors read it.

pve-manager ``PVE/API2/Tasks.pm`` ``node_tasks``: running tasks (``source=active``, status
``RUNNING``), the archive newest-ended first (``source=archive``, the default), ``all`` both;
``vmid``, ``typefilter``, ``userfilter``, ``statusfilter``/``errors`` filter; ``start`` and
``limit`` page over the matching tasks only.
"""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import NODE, run_ok, wait_task


def _start_and_stop(api: Any, vmid: int) -> list[str]:
    upids = [api.nodes(NODE).qemu(vmid).status.start.post()]
    run_ok(api, upids[0])
    upids.append(api.nodes(NODE).qemu(vmid).status.stop.post())
    run_ok(api, upids[1])
    return upids


def test_archive_lists_finished_tasks_newest_first(pve: PveSimulator, api: Any) -> None:
    pve.state.add_vm(100, "a")
    start, stop = _start_and_stop(api, 100)
    rows = api.nodes(NODE).tasks.get()
    assert [row["upid"] for row in rows] == [stop, start]
    assert rows[0]["status"] == "OK"
    assert rows[0]["type"] == "qmstop"
    assert rows[0]["id"] == "100"
    assert rows[0]["user"] == "root@pam"
    assert rows[0]["tokenid"] == "solti"
    assert rows[0]["endtime"] >= rows[0]["starttime"]


def test_active_lists_running_tasks_only(pve: PveSimulator, api: Any) -> None:
    pve.state.add_vm(100, "a")
    pve.faults.task_duration("qmstart", 60)
    running = api.nodes(NODE).qemu(100).status.start.post()
    active = api.nodes(NODE).tasks.get(source="active")
    assert [(row["upid"], row["status"]) for row in active] == [(running, "RUNNING")]
    assert api.nodes(NODE).tasks.get() == []
    assert [row["upid"] for row in api.nodes(NODE).tasks.get(source="all")] == [running]


def test_filters_by_vmid_type_and_user(pve: PveSimulator, api: Any) -> None:
    pve.state.add_vm(100, "a")
    pve.state.add_vm(101, "b")
    _start_and_stop(api, 100)
    start_b, stop_b = _start_and_stop(api, 101)
    assert [r["upid"] for r in api.nodes(NODE).tasks.get(vmid=101)] == [stop_b, start_b]
    assert [r["upid"] for r in api.nodes(NODE).tasks.get(vmid=101, typefilter="qmstart")] == [
        start_b
    ]
    assert len(api.nodes(NODE).tasks.get(userfilter="ROOT")) == 4
    assert api.nodes(NODE).tasks.get(userfilter="alice") == []


def test_errors_and_statusfilter(pve: PveSimulator, api: Any) -> None:
    pve.state.add_vm(100, "a")
    stopped = api.nodes(NODE).qemu(100).status.stop.post()  # not running: OK (_do_vm_stop)
    run_ok(api, stopped)
    pve.faults.fail_next_task("qmstart", "boom")
    broken = api.nodes(NODE).qemu(100).status.start.post()
    wait_task(api, broken)
    assert [r["upid"] for r in api.nodes(NODE).tasks.get(errors=1)] == [broken]
    assert [r["upid"] for r in api.nodes(NODE).tasks.get(statusfilter="ok")] == [stopped]


def test_start_and_limit_page_over_matching_tasks(pve: PveSimulator, api: Any) -> None:
    pve.state.add_vm(100, "a")
    upids = _start_and_stop(api, 100) + _start_and_stop(api, 100)
    newest_first = list(reversed(upids))
    assert [r["upid"] for r in api.nodes(NODE).tasks.get(limit=2)] == newest_first[:2]
    assert [r["upid"] for r in api.nodes(NODE).tasks.get(start=1, limit=2)] == newest_first[1:3]
    assert [r["upid"] for r in api.nodes(NODE).tasks.get(vmid=100, start=3)] == newest_first[3:]
    assert api.nodes("pve2").tasks.get() == []
