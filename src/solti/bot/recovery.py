"""The bot's recovery job: reconcile at start and every ``recovery.interval``, then bring the
Slack progress message of each interrupted operation to a final state.

A bot killed inside a create (every deploy is a restart) leaves a ``running`` audit record, a
half-made VM and a message showing "⏳ clone". The next bot process runs
``Provisioner.reconcile`` (the same survey and decisions as ``solti reconcile --yes``; records
whose owner is alive and fresh, ours or another process's, are never touched), and for each
operation it closed, finds the progress message by request id (``bot.recovery_book``), edits
it to what happened ("interrupted by a restart at step clone; the half-made VM 500 was
removed. Run the command again.") and tells the requester in its thread.

A message can also be left open by a process that died after its operation ended (the record
is final, the message never got its final state) or before the operation wrote its record:
such messages of a dead poster are finished from the audit record (``_orphans``).

Drift that needs a person (a VM unknown to the audit log, a lock with no task) is logged
once per process; the job never posts it anywhere.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from solti.bot.recovery_book import PostedMessage, ProgressBook
from solti.bot.recovery_text import finding_message, record_message, thread_note
from solti.bot.slackcalls import send_retrying
from solti.provisioning.ownership import pid_alive, process_identity, process_start_time

if TYPE_CHECKING:
    from solti.bot.runtime import Runtime
    from solti.provisioning.reconciliation import Finding

__all__ = ["RecoveryRun", "recover"]

log = logging.getLogger("solti.bot.recovery")
_drift_logged: set[tuple[str, int | None, str]] = set()
_one_at_a_time = threading.Lock()


@dataclass
class RecoveryRun:
    """What one run did: findings of reconcile, and the messages it brought to an end."""

    findings: list[Finding] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # request ids whose message was edited


def recover(runtime: Runtime) -> RecoveryRun:
    """One run (the scheduler's job, also callable from tests); never two at once here."""
    with _one_at_a_time:
        stale_after = runtime.policy.recovery.stale_after
        report = runtime.provisioner.reconcile(stale_after=stale_after, destructive=True)
        run = RecoveryRun(findings=list(report.findings))
        book = ProgressBook(runtime.database)
        for finding in report.findings:
            _log_finding(finding)
            if finding.kind != "interrupted" or not finding.request_id:
                continue
            if not (finding.done or "").startswith("closed"):
                continue  # not resolved (PVE refused): the record stays running, next run
            message = book.get(finding.request_id)
            if message is None or message.state != "open":
                continue
            payload, note = finding_message(message, finding)
            if _tell(runtime, book, message, payload, note):
                run.messages.append(message.request_id)
        for message, record in _orphans(runtime, book, stale_after):
            payload, note = record_message(message, record)
            if _tell(runtime, book, message, payload, note):
                run.messages.append(message.request_id)
        book.forget_final()
        return run


def _tell(
    runtime: Runtime,
    book: ProgressBook,
    message: PostedMessage,
    payload: dict[str, Any],
    note: str,
) -> bool:
    """Edit the message in place and tell the requester in its thread; final once edited.
    Only under a claim, so a second bot process recovering at the same time says it once."""
    if not book.claim(message.request_id):
        log.info("progress message of %s is being finished by another process",
                 message.request_id)  # fmt: skip
        return False
    client = runtime.client
    try:
        send_retrying(
            lambda: client.chat_update(channel=message.channel, ts=message.ts, **payload),
            "recovered progress message",
        )
    except Exception as exc:  # Slack down: the row stays open, the next run tries again
        log.warning("could not edit the message of %s: %s", message.request_id,
                    type(exc).__name__)  # fmt: skip
        book.release(message.request_id)
        return False
    book.mark_final(message.request_id)
    try:
        send_retrying(
            lambda: client.chat_postMessage(
                channel=message.channel, thread_ts=message.thread_ts, **thread_note(message, note)
            ),
            "recovery notice",
        )
    except Exception as exc:
        log.warning("could not tell %s in the thread: %s", message.requester, type(exc).__name__)
    log.info("progress message of %s brought to a final state", message.request_id)
    return True


def _orphans(
    runtime: Runtime, book: ProgressBook, stale_after: timedelta
) -> list[tuple[PostedMessage, Any]]:
    """Open messages whose poster is gone and whose operation is not running any more (or
    never wrote a record), with the audit record (None when there is none)."""
    found: list[tuple[PostedMessage, Any]] = []
    now = runtime.clock() if callable(runtime.clock) else datetime.now(UTC)
    for message in book.open_messages():
        if not _poster_gone(message, now, stale_after):
            continue
        record = runtime.audit.find_by_request_id(message.request_id, any_cluster=True)
        if record is not None and record.action.endswith(" request"):
            record = None  # an approved build whose own record was never written
        if record is not None and record.result == "running":
            continue  # reconcile's to judge (its owner may be another, live process)
        found.append((message, record))
    return found


def _poster_gone(message: PostedMessage, now: datetime, stale_after: timedelta) -> bool:
    """Whether the process that posted ``message`` is gone (as ``ownership`` judges owners):
    on this host, by pid and start time; elsewhere, once the message is older than
    ``stale_after`` (its operation has written a record by then, which decides)."""
    here = process_identity()
    host, _, rest = (message.owner or "").partition(":")
    pid_text, _, started = rest.partition(":")
    if host == here.host and pid_text.isdigit():
        pid = int(pid_text)
        if pid == here.pid and started == (here.started or ""):
            return False  # ours: the flow that posted it is still in this process
        if not pid_alive(pid):
            return True
        return bool(started) and process_start_time(pid) not in (None, started)
    try:
        posted = datetime.fromisoformat(message.posted_at or "")
    except ValueError:
        return True
    return now - posted > stale_after


def _log_finding(finding: Finding) -> None:
    """Each finding once per process: the job runs every few minutes and drift stays."""
    key = (finding.kind, finding.vmid, finding.found)
    if key in _drift_logged:
        return
    _drift_logged.add(key)
    level = logging.WARNING if finding.person else logging.INFO
    log.log(level, "reconcile: %s: %s; %s", finding.kind, finding.found,
            finding.done or finding.plan)  # fmt: skip
