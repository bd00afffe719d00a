"""Work after the ack (bot.runtime.AfterAck) waits for acknowledgements in progress (AckGate)."""

from __future__ import annotations

import threading

import pytest

from solti.bot.runtime import AckGate, AfterAck


def _work(priority_seconds: float) -> AfterAck:
    return AfterAck(priority_seconds=priority_seconds)


def test_gate_counts_acks_and_is_idle_after_them() -> None:
    gate = AckGate(quiet_seconds=0)
    assert gate.wait_idle(0)
    with gate.acknowledging():
        with gate.acknowledging():
            assert gate.busy == 2
        assert gate.busy == 1
        assert not gate.wait_idle(0)
    assert gate.busy == 0
    assert gate.wait_idle(0)


def test_a_burst_is_over_only_after_a_quiet_period() -> None:
    """Between two acks of a burst the gate is not settled: work waits for the burst's end."""
    gate = AckGate(quiet_seconds=60)
    assert gate.settled()  # no ack yet
    with gate.acknowledging():
        pass
    assert gate.busy == 0 and not gate.settled() and not gate.wait_idle(0)


def test_background_work_starts_once_the_ack_is_done() -> None:
    work = _work(priority_seconds=60)
    order: list[str] = []
    ran = threading.Event()

    def job() -> None:
        order.append("work")
        ran.set()

    with work.acks.acknowledging():
        future = work.long(job)
        assert not ran.wait(0.05)  # held back while the ack is in progress
        order.append("ack done")
    future.result(timeout=10)
    assert order == ["ack done", "work"]


def test_background_work_is_held_back_only_for_a_bounded_time() -> None:
    work = _work(priority_seconds=0)
    ran = threading.Event()
    with work.acks.acknowledging():
        work.long(ran.set).result(timeout=10)
        assert ran.is_set()  # ran although an ack was still in progress


def test_failures_in_held_back_work_are_logged_not_raised() -> None:
    work = _work(priority_seconds=0)

    def broken() -> None:
        raise RuntimeError("boom")

    assert work.long(broken).result(timeout=10) is None


def test_quick_work_and_flows_run_in_separate_pools() -> None:
    work = _work(priority_seconds=0)
    names: dict[str, str] = {}

    def record(kind: str) -> None:
        names[kind] = threading.current_thread().name

    work.long(record, "flow").result(timeout=10)
    work.quick(record, "quick").result(timeout=10)
    assert names["flow"].startswith("solti-flow")
    assert names["quick"].startswith("solti-reply")


def test_a_pool_full_of_long_flows_does_not_hold_up_quick_replies() -> None:
    work = _work(priority_seconds=0)
    release = threading.Event()
    flows = [work.long(release.wait, 30) for _ in range(20)]  # more than the flow pool
    try:
        done = work.quick(lambda: None)
        done.result(timeout=10)  # would wait for a flow to end if both shared one pool
        assert not any(flow.done() for flow in flows)
    finally:
        release.set()
    for flow in flows:
        flow.result(timeout=10)


def test_work_during_an_ack_is_not_held_back_by_it() -> None:
    """The form's check runs while its own ack is in progress: the gate must not hold it."""
    work = _work(priority_seconds=60)
    with work.acks.acknowledging():
        assert work.during_ack(lambda: "checked").result(timeout=10) == "checked"


def test_after_shutdown_no_new_work_is_taken() -> None:
    work = _work(priority_seconds=0)
    work.long(lambda: None).result(timeout=10)
    work.shutdown()
    with pytest.raises(RuntimeError):
        work.quick(lambda: None)


def test_commands_are_sorted_into_quick_replies_and_flows() -> None:
    from solti.bot import grammar
    from solti.bot.listeners.slash import _quick

    quick = ["key show", "audit", "template list", "vm list", "vm verify 500",
             "vm create", "vm create rocky9 --dry-run"]  # fmt: skip
    flows = ["vm create rocky9", "vm start 500", "vm remove 500", "template build rocky9",
             "template destroy 9000", "report"]  # fmt: skip
    assert [text for text in quick if not _quick(grammar.parse(text))] == []
    assert [text for text in flows if _quick(grammar.parse(text))] == []
