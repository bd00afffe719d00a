"""Background work waits for acknowledgements in progress (bot.runtime.AckGate)."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from solti.bot.runtime import AckGate, Runtime


def _runtime(priority_seconds: float) -> Runtime:
    fake: Any = SimpleNamespace()
    return Runtime(
        settings=fake,
        provisioner=fake,
        policy=fake,
        rules=fake,
        audit=None,
        client=fake,
        database=fake,
        approvals=fake,
        keys=fake,
        directory=fake,
        ack_priority_seconds=priority_seconds,
    )


def test_gate_counts_acks_and_is_idle_after_them() -> None:
    gate = AckGate()
    assert gate.wait_idle(0)
    with gate.acknowledging():
        with gate.acknowledging():
            assert gate.busy == 2
        assert gate.busy == 1
        assert not gate.wait_idle(0)
    assert gate.busy == 0
    assert gate.wait_idle(0)


def test_background_work_starts_once_the_ack_is_done() -> None:
    runtime = _runtime(priority_seconds=60)
    order: list[str] = []
    ran = threading.Event()

    def work() -> None:
        order.append("work")
        ran.set()

    with runtime.acks.acknowledging():
        future = runtime.submit(work)
        assert not ran.wait(0.05)  # held back while the ack is in progress
        order.append("ack done")
    future.result(timeout=10)
    assert order == ["ack done", "work"]


def test_background_work_is_held_back_only_for_a_bounded_time() -> None:
    runtime = _runtime(priority_seconds=0)
    ran = threading.Event()
    with runtime.acks.acknowledging():
        runtime.submit(ran.set).result(timeout=10)
        assert ran.is_set()  # ran although an ack was still in progress


def test_failures_in_held_back_work_are_logged_not_raised() -> None:
    runtime = _runtime(priority_seconds=0)

    def broken() -> None:
        raise RuntimeError("boom")

    assert runtime.submit(broken).result(timeout=10) is None


def test_quick_work_and_flows_run_in_separate_pools() -> None:
    runtime = _runtime(priority_seconds=0)
    names: dict[str, str] = {}

    def record(kind: str) -> None:
        names[kind] = threading.current_thread().name

    runtime.submit(record, "flow").result(timeout=10)
    runtime.submit(record, "quick", quick=True).result(timeout=10)
    assert names["flow"].startswith("solti-flow")
    assert names["quick"].startswith("solti-reply")


def test_a_pool_full_of_long_flows_does_not_hold_up_quick_replies() -> None:
    runtime = _runtime(priority_seconds=0)
    release = threading.Event()
    flows = [runtime.submit(release.wait, 30) for _ in range(20)]  # more than the flow pool
    try:
        done = runtime.submit(lambda: None, quick=True)
        done.result(timeout=10)  # would wait for a flow to end if both shared one pool
        assert not any(flow.done() for flow in flows)
    finally:
        release.set()
    for flow in flows:
        flow.result(timeout=10)


def test_commands_are_sorted_into_quick_replies_and_flows() -> None:
    from solti.bot import grammar
    from solti.bot.listeners.commands import _quick

    quick = ["key show", "audit", "template list", "vm list", "vm verify 500",
             "vm create", "vm create rocky9 --dry-run"]  # fmt: skip
    flows = ["vm create rocky9", "vm start 500", "vm remove 500", "template build rocky9",
             "template destroy 9000", "report"]  # fmt: skip
    assert [text for text in quick if not _quick(grammar.parse(text))] == []
    assert [text for text in flows if _quick(grammar.parse(text))] == []
