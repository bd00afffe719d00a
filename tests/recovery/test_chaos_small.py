"""A small chaos run in the suite (issue 12, point 5): 20 creates and 3 builds through the bot,
10 in flight, random faults on 20 % of the simulator's requests. `bench/chaos.py --chaos` runs
the full size (200 creates, 20 builds, 20 in flight); its figures are in docs/operations.md."""

from __future__ import annotations

from tests.recovery.chaos_run import run_chaos


def test_a_small_chaos_run_leaves_nothing_behind() -> None:
    figures = run_chaos(creates=20, builds=3, in_flight=10, rate=0.2, seed=7, timeout=600)
    report = "\n".join(figures.lines() + figures.unhandled[:10])
    # The faults did happen. (The dice are seeded, but which request meets which throw depends
    # on the threads' order, so only the frequent kinds are sure to come up in a run this small.)
    assert {"http_500", "drop", "held_lock"} <= set(figures.faults), report
    assert sum(figures.faults.values()) >= 20, report
    assert figures.created + figures.create_failed == 20, report
    assert figures.built + figures.build_failed == 3, report
    assert figures.created > 0, report  # a run where everything fails proves nothing
    assert figures.orphan_vms == [], report
    assert figures.duplicate_vmids == [] and figures.duplicate_names == [], report
    assert figures.ok_but_missing == [], report
    assert figures.records_not_final == 0 and figures.messages_not_final == 0, report
    assert figures.unanswered == 0 and figures.said_nothing_changed_wrongly == 0, report
    assert figures.slash_not_200 == 0 and figures.ack_timeouts == 0, report
    assert figures.probes > 0 and figures.probes_failed == 0, report
    assert figures.unhandled == [], report
