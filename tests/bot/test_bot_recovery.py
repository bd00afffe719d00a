"""The bot's recovery job (``bot.recovery``) in process: progress messages are remembered by
request id, an interrupted create of a dead process is undone and its message made final with
the requester told, a live owner's work and pending approvals are left alone.

The killed-process version of this, with a real `solti bot` killed inside each step, is
tests/recovery/test_bot_kill_at_every_step.py.
"""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from solti.bot.recovery import recover
from solti.bot.recovery_book import ProgressBook
from solti.bot.scheduler import BotScheduler
from solti.provisioning.ownership import ProcessIdentity, process_start_time
from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn
from tests.bot.conftest import ALICE, APPROVALS, APPROVER, INFRA, KEY, Harness, make_harness

VMID = 777


def _dead_pid() -> int:
    """The pid of a process that has ended (reused pids are told apart by start time)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _own(bot: Harness, request_id: str, *, pid: int, started: str | None, beat: datetime) -> None:
    """Make the running record of ``request_id`` another process's (as its start wrote it)."""
    with sqlite3.connect(bot.db) as conn:
        conn.execute(
            "UPDATE audit SET owner_host = ?, owner_pid = ?, owner_started = ?, heartbeat = ?, "
            "step = 'clone' WHERE request_id = ?",
            [socket.gethostname(), pid, started, beat.isoformat(), request_id],
        )


def _posted(bot: Harness, request_id: str, *, identity: ProcessIdentity | None = None) -> str:
    """A progress message in #infra remembered for ``request_id``; its ts."""
    sent = bot.runtime.client.chat_postMessage(channel=INFRA, text="Creating half-made ⏳ clone")
    book = ProgressBook(bot.runtime.database, identity=identity)
    book.remember(request_id, channel=INFRA, ts=sent["ts"], requester=ALICE,
                  title=f"Creating half-made (VMID {VMID}) from rocky9")  # fmt: skip
    return str(sent["ts"])


def _text(standin: SlackStandIn, ts: str) -> str:
    (message,) = [m for m in standin.messages(INFRA) if m["ts"] == ts]
    return str(message.get("text", ""))


def _thread(standin: SlackStandIn, ts: str) -> list[str]:
    return [m.get("text", "") for m in standin.messages(INFRA, thread_ts=ts) if m["ts"] != ts]


@pytest.fixture
def half_made(bot: Harness, sim: SimEnvironment) -> Iterator[str]:
    """A create interrupted at its clone: VM 777 stopped and bare, a `running` record."""
    sim.pve.state.add_vm(VMID, "half-made")
    bot.audit.start("vm create", ALICE, "slack", request_id="req-half", vmid=VMID,
                    name="half-made", params={"template": "rocky9"})  # fmt: skip
    try:
        yield "req-half"
    finally:
        if VMID in sim.pve.state.guests:  # the package's tests share one cluster
            bot.provisioner.remove_vm(VMID, actor="test-cleanup", via="cli")


def test_a_create_remembers_its_message_and_marks_it_final(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    bot.user.slash("vm create rocky9")
    record = bot.standin.wait_for(
        lambda: next(iter(bot.audit.query(action="vm create", result="ok")), None), 60
    )
    book = ProgressBook(bot.runtime.database)
    posted = bot.standin.wait_for(
        lambda: (m := book.get(str(record.request_id))) and m.state == "final" and m, 20
    )
    assert (posted.channel, posted.requester) == (INFRA, ALICE)
    assert posted.thread_ts == posted.ts and _text(bot.standin, posted.ts)
    assert posted.posted_by(book.identity)
    bot.provisioner.remove_vm(int(record.vmid), actor="test-cleanup", via="cli")


def test_recovery_undoes_a_dead_processes_create_and_finishes_its_message(
    bot: Harness, half_made: str, sim: SimEnvironment
) -> None:
    # Its process is gone, and its heartbeat an hour old (either alone makes it interrupted;
    # both, so that a pid reused at once on a busy machine cannot make the test wrong).
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    _own(bot, half_made, pid=_dead_pid(), started="1", beat=an_hour_ago)
    ts = _posted(bot, half_made)

    run = recover(bot.runtime)

    assert run.messages == [half_made]
    assert VMID not in sim.pve.state.guests
    record = bot.audit.find_by_request_id(half_made)
    assert record is not None and record.result == "failed"
    assert "interrupted at step clone; half-made VM 777 removed" in (record.error or "")
    text = _text(bot.standin, ts)
    assert (
        "interrupted by a restart at step clone; the half-made VM 777 was removed. "
        "Run the command again." in text
    ), text
    (notice,) = _thread(bot.standin, ts)
    assert f"<@{ALICE}>" in notice and "VM 777 was removed" in notice
    # Once is enough: the next run finds nothing to say.
    updates = len(bot.standin.calls_to("chat.update"))
    assert recover(bot.runtime).messages == []
    assert len(bot.standin.calls_to("chat.update")) == updates


def test_a_live_owners_create_is_left_alone(
    bot: Harness, half_made: str, sim: SimEnvironment
) -> None:
    """Another bot or a CLI on this host, alive and beating: never touched."""
    other = subprocess.Popen(["sleep", "60"])
    try:
        started = process_start_time(other.pid)
        _own(bot, half_made, pid=other.pid, started=started, beat=datetime.now(UTC))
        identity = ProcessIdentity(socket.gethostname(), other.pid, started)
        ts = _posted(bot, half_made, identity=identity)
        run = recover(bot.runtime)
        assert run.messages == [] and VMID in sim.pve.state.guests
        record = bot.audit.find_by_request_id(half_made)
        assert record is not None and record.result == "running"
        assert "interrupted" not in _text(bot.standin, ts)
    finally:
        other.kill()
        other.wait()
    # Its owner gone, the next run undoes it.
    assert recover(bot.runtime).messages == [half_made]
    assert VMID not in sim.pve.state.guests


def test_messages_left_open_by_a_dead_poster_end_from_the_audit_record(bot: Harness) -> None:
    dead = ProcessIdentity(socket.gethostname(), _dead_pid(), "1")
    never = _posted(bot, "req-never", identity=dead)  # died before the record was written
    bot.audit.record("vm create", ALICE, "slack", "ok", request_id="req-done", vmid=VMID)
    done = _posted(bot, "req-done", identity=dead)  # died before the final edit
    ours = _posted(bot, "req-ours")  # this process posted it: its flow is still at work
    # An approved build killed before its own record: only the request's (decided) is there.
    bot.audit.record("template build request", ALICE, "slack", "ok", request_id="req-build")
    build = _posted(bot, "req-build", identity=dead)

    run = recover(bot.runtime)

    assert sorted(run.messages) == ["req-build", "req-done", "req-never"]
    assert "nothing was made" in _text(bot.standin, build)
    assert "before it changed anything; nothing was made. Run the command again." in _text(
        bot.standin, never
    )
    assert f"finished before a restart; VM {VMID} is ready" in _text(bot.standin, done)
    assert "interrupted" not in _text(bot.standin, ours)
    assert ProgressBook(bot.runtime.database).get("req-ours").state == "open"  # type: ignore[union-attr]


@pytest.fixture
def restart(bot: Harness, sim: SimEnvironment, standin: SlackStandIn,
            tmp_path: Path) -> Iterator[list[Harness]]:  # fmt: skip
    lives: list[Harness] = []
    yield lives
    for life in lives:
        life.server.stop()


def test_a_pending_approval_survives_a_restart_and_its_recovery(
    bot: Harness, sim: SimEnvironment, standin: SlackStandIn, tmp_path: Path,
    restart: list[Harness],
) -> None:  # fmt: skip
    """An approval request's `running` row is no operation: no owner, no heartbeat, hours old;
    recovery at start must leave it for the approver, who then decides as usual."""
    seen = len(bot.ephemeral_texts())
    bot.user.slash("template build rocky9")
    reply = bot.standin.wait_for(
        lambda: next((t for t in bot.ephemeral_texts()[seen:] if "waiting for an" in t), None), 10
    )
    found = re.search(r"`(req-[\w-]+)`", reply)
    assert found, reply
    request_id = found.group(1)
    card = bot.standin.wait_for(lambda: bot.standin.last_message(APPROVALS), 20)
    hours_ago = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    with sqlite3.connect(bot.db) as conn:
        conn.execute("UPDATE audit SET at = ? WHERE request_id = ?", [hours_ago, request_id])
    bot.server.stop()
    second = make_harness(sim, standin, tmp_path)
    restart.append(second)

    recover(second.runtime)

    row = second.audit.find_by_request_id(request_id, action="template build request")
    assert row is not None and row.result == "running"
    second.user.click(card, "approval_deny", user=APPROVER)

    def settled() -> Any:
        row = second.audit.find_by_request_id(request_id, action="template build request")
        return row if row is not None and row.result != "running" else None

    assert second.standin.wait_for(settled, 20).result == "denied"


def test_the_recovery_job_runs_at_start_and_every_policy_interval() -> None:
    rules = SimpleNamespace(reports_channel=None, reports_cron=None, reports_timezone="UTC")
    policy = SimpleNamespace(recovery=SimpleNamespace(interval=timedelta(minutes=7)))
    scheduler = BotScheduler(SimpleNamespace(rules=rules, policy=policy)).build()  # type: ignore[arg-type]
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("recovery")
        assert job.trigger.interval == timedelta(minutes=7)
        assert job.next_run_time <= datetime.now(UTC) + timedelta(seconds=1)  # at start
        assert job.max_instances == 1 and job.coalesce
    finally:
        scheduler.shutdown(wait=False)


def test_a_vm_seen_again_before_vm_gone_is_written_stays_its_owners(
    bot: Harness, sim: SimEnvironment
) -> None:
    """The survey's snapshot is older than its reading of the audit log; the bot runs it
    beside its own creates. A VM present again when reconcile is about to write `vm gone`
    (here: seeded between the two phases) keeps its owner."""
    from solti.provisioning.reconcile_actions import carry_out
    from solti.provisioning.reconciliation import survey

    bot.audit.record("vm create", ALICE, "slack", "ok", vmid=VMID, name="late", request_id="late")
    ops = bot.provisioner.ops
    findings = survey(ops, stale_after=timedelta(minutes=2))
    (gone,) = [f for f in findings if f.kind == "vm gone" and f.vmid == VMID]
    sim.pve.state.add_vm(VMID, "late")
    try:
        carry_out(ops, findings, destructive=True)
        assert gone.done == "it exists again; nothing recorded"
        assert bot.audit.query(vmid=VMID, action="vm gone") == []
        assert bot.audit.owners()[VMID] == ALICE
    finally:
        bot.provisioner.remove_vm(VMID, actor="test-cleanup", via="cli")


def test_final_rows_are_forgotten_after_a_week_open_ones_never(bot: Harness) -> None:
    clock = bot.clock
    book = ProgressBook(bot.runtime.database, clock=clock)
    book.remember("req-old", channel=INFRA, ts="1.000001", requester=ALICE, title="old")
    book.remember("req-open", channel=INFRA, ts="1.000002", requester=ALICE, title="open")
    book.mark_final("req-old")
    clock.advance(days=6)
    assert book.forget_final() == 0
    clock.advance(days=2)
    assert book.forget_final() == 1
    assert book.get("req-old") is None
    assert book.get("req-open") is not None and book.get("req-open").state == "open"  # type: ignore[union-attr]


def test_a_message_is_claimed_by_one_process_at_a_time(bot: Harness) -> None:
    """Two bot processes on one database: the first claim lands, the second does not until
    the first lapses or is given back; a final message is never claimed again."""
    _posted(bot, "req-claim")
    now = datetime.now(UTC)
    first = ProgressBook(bot.runtime.database, identity=ProcessIdentity("a", 1, "1"))
    second = ProgressBook(bot.runtime.database, identity=ProcessIdentity("b", 2, "2"))
    assert first.claim("req-claim") is True
    assert second.claim("req-claim") is False
    assert first.claim("req-claim") is True  # its own claim, renewed
    first.release("req-claim")
    assert second.claim("req-claim") is True
    later = ProgressBook(bot.runtime.database, clock=lambda: now + timedelta(minutes=6),
                         identity=ProcessIdentity("a", 1, "1"))  # fmt: skip
    assert later.claim("req-claim") is True  # the second's claim lapsed (its holder died)
    later.mark_final("req-claim")
    assert second.claim("req-claim") is False


def test_recovery_leaves_a_message_another_process_is_finishing(bot: Harness) -> None:
    """A rolling deploy: the old and the new bot both find a dead poster's open message; the
    one whose claim landed edits it, the other says nothing, so the requester hears once."""
    dead = ProcessIdentity(socket.gethostname(), _dead_pid(), "1")
    bot.audit.record("vm create", ALICE, "slack", "ok", request_id="req-twice", vmid=VMID)
    ts = _posted(bot, "req-twice", identity=dead)
    other = ProgressBook(bot.runtime.database, identity=ProcessIdentity("other-host", 9, "9"))
    assert other.claim("req-twice")

    assert recover(bot.runtime).messages == []
    assert "ready" not in _text(bot.standin, ts) and _thread(bot.standin, ts) == []

    # Its holder died without finishing: once the claim lapses, this process finishes it.
    stale = (datetime.now(UTC) - timedelta(minutes=6)).isoformat()
    with sqlite3.connect(bot.db) as conn:
        conn.execute("UPDATE slack_progress_messages SET claimed_at = ? WHERE request_id = ?",
                     [stale, "req-twice"])  # fmt: skip
    assert recover(bot.runtime).messages == ["req-twice"]
    assert f"finished before a restart; VM {VMID} is ready" in _text(bot.standin, ts)
    assert len(_thread(bot.standin, ts)) == 1
