"""Parallel requests: slow tasks and slow requests never block others; writes are atomic."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from proxmoxer import ResourceException

from tests.sim.conftest import NODE


def test_requests_proceed_while_a_slow_task_runs(pve, api):
    pve.state.add_template(9000, "tpl")
    pve.faults.task_duration("qmclone", 3600)
    upid = api.nodes(NODE).qemu(9000).clone.post(newid=501)

    def poll(_: int) -> str:
        client = pve.client()
        client.version.get()
        return client.nodes(NODE).tasks(upid).status.get()["status"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(poll, range(16)))
    assert statuses == ["running"] * 16


def test_a_slow_request_does_not_block_others(pve, api):
    pve.faults.latency(2, path="/cluster/resources")
    done = threading.Event()

    def slow() -> None:
        pve.client().cluster.resources.get()
        done.set()

    thread = threading.Thread(target=slow)
    thread.start()
    assert api.version.get()["release"] == "9.1"
    assert not done.is_set()
    thread.join(timeout=10)
    assert done.is_set()


def test_parallel_creates_of_one_vmid_have_one_winner(pve):
    def create(_: int) -> str:
        try:
            return pve.client().nodes(NODE).qemu.post(vmid=600, scsi0="local-lvm:1")
        except ResourceException as exc:
            return exc.content

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(create, range(8)))
    winners = [r for r in results if r.startswith("UPID:")]
    assert len(winners) == 1
    assert results.count("unable to create VM 600 - VM 600 already exists on node 'pve'") == 7
