"""Approval requests: pending -> approved | denied | expired, each move done exactly once.

State lives in SQLite, never in memory or in the button, so a double click, a Slack retry or
a restart cannot start a second build: ``decide`` changes a row only while it is still
``pending`` and tells the caller whether it won.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from solti.bot import slack_metrics
from solti.bot.db import BotDatabase

__all__ = [
    "KINDS",
    "Approval",
    "ApprovalStore",
    "Outcome",
    "Vote",
    "request_action",
    "request_outcome",
]

PENDING = "pending"
FINAL_STATES = ("approved", "denied", "expired")
_VOTERS_SQL = "SELECT voter FROM slack_approval_votes WHERE approval_id = ? ORDER BY at, voter"
KINDS = ("template_build", "template_destroy", "vm_create")


@dataclass(frozen=True)
class Approval:
    id: str
    kind: str
    target: str
    requester: str
    origin_channel: str | None
    state: str
    created_at: datetime
    expires_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    channel: str | None = None
    ts: str | None = None
    details: tuple[tuple[str, str], ...] = ()
    # What the approved work needs besides ``target`` (a create: its request and plan).
    payload: dict[str, Any] | None = None

    @classmethod
    def from_row(cls, row: dict) -> Approval:
        return cls(
            id=row["id"],
            kind=row["kind"],
            target=row["target"],
            requester=row["requester"],
            origin_channel=row["origin_channel"],
            state=row["state"],
            created_at=datetime.fromisoformat(row["created_at"]),
            expires_at=datetime.fromisoformat(row["expires_at"]),
            decided_by=row["decided_by"],
            decided_at=datetime.fromisoformat(row["decided_at"]) if row["decided_at"] else None,
            channel=row["channel"],
            ts=row["ts"],
            details=tuple(tuple(p) for p in json.loads(row["details"] or "[]")),
            payload=json.loads(row["payload"]) if row.get("payload") else None,
        )


def request_action(kind: str) -> str:
    """The audit action of a request row (``template build request``), the key it is found by."""
    return kind.replace("_", " ") + " request"


def request_outcome(approval: Approval) -> tuple[str, str | None]:
    """``(result, error)`` that completes a decided request's audit row.

    An approval ends the request ``ok``: the build or destroy it lets run is recorded in its
    own row (same request id), so a failed build never rewrites who decided what. A denial or
    an expiry says why nothing ran, in words the audit view can show as they are.
    """
    if approval.state not in FINAL_STATES:
        raise ValueError(f"request {approval.id} is still {approval.state}")
    if approval.state == "approved":
        return "ok", None
    if approval.state == "denied":
        return "denied", f"denied by {approval.decided_by or 'an approver'}"
    deadline = approval.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "expired", f"no approver decided before {deadline}"


@dataclass(frozen=True)
class Outcome:
    """What ``decide`` did: ``changed`` is False when someone (or the clock) got there first."""

    approval: Approval
    changed: bool


@dataclass(frozen=True)
class Vote:
    """One approver's click counted: ``added`` is False when they had approved already."""

    added: bool
    voters: tuple[str, ...]


class ApprovalStore:
    def __init__(self, database: BotDatabase, clock: Callable[[], datetime] | None = None) -> None:
        self.database = database
        self.clock = clock or (lambda: datetime.now(UTC))

    def create(
        self,
        kind: str,
        target: str,
        requester: str,
        origin_channel: str | None,
        expires_in: timedelta,
        details: list[tuple[str, str]],
        payload: dict[str, Any] | None = None,
    ) -> Approval:
        now = self.clock()
        row = {
            "id": "req-" + uuid.uuid4().hex[:10],
            "kind": kind,
            "target": target,
            "requester": requester,
            "origin_channel": origin_channel,
            "state": PENDING,
            "created_at": now.isoformat(),
            "expires_at": (now + expires_in).isoformat(),
            "decided_by": None,
            "decided_at": None,
            "channel": None,
            "ts": None,
            "details": json.dumps(details),
            "payload": json.dumps(payload) if payload is not None else None,
        }
        with self.database.transaction():
            self.database.db["slack_approvals"].insert(row)
        self.publish_waiting()
        return Approval.from_row(row)

    def get(self, request_id: str) -> Approval | None:
        with self.database.lock:
            rows = list(self.database.db["slack_approvals"].rows_where("id = ?", [request_id]))
        return Approval.from_row(rows[0]) if rows else None

    def attach_message(self, request_id: str, channel: str, ts: str) -> None:
        with self.database.transaction() as conn:
            conn.execute(
                "UPDATE slack_approvals SET channel = ?, ts = ? WHERE id = ?",
                [channel, ts, request_id],
            )

    def decide(self, request_id: str, state: str, by: str | None) -> Outcome | None:
        """Move a pending request to ``state``; a request past its expiry becomes ``expired``."""
        if state not in FINAL_STATES:
            raise ValueError(f"state must be one of {FINAL_STATES}")
        now = self.clock()
        with self.database.transaction() as conn:
            row = conn.execute(
                "SELECT expires_at, state FROM slack_approvals WHERE id = ?", [request_id]
            ).fetchone()
            if row is None:
                return None
            changed = False
            if row[1] == PENDING:
                if datetime.fromisoformat(row[0]) <= now and state != "expired":
                    state, by = "expired", None
                cursor = conn.execute(
                    "UPDATE slack_approvals SET state = ?, decided_by = ?, decided_at = ? "
                    "WHERE id = ? AND state = ?",
                    [state, by, now.isoformat(), request_id, PENDING],
                )
                changed = cursor.rowcount == 1
        if changed:
            self.publish_waiting()
        approval = self.get(request_id)
        assert approval is not None
        return Outcome(approval, changed)

    def vote(self, request_id: str, voter: str) -> Vote:
        """Count ``voter``'s approval of a pending request, once per person.

        The insert and the count are one transaction, so two approvers clicking at once are
        counted as two, and one approver clicking twice as one (``added`` False).
        """
        now = self.clock().isoformat()
        with self.database.transaction() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO slack_approval_votes (approval_id, voter, at) "
                "VALUES (?, ?, ?)",
                [request_id, voter, now],
            )
            voters = [
                row[0]
                for row in conn.execute(
                    _VOTERS_SQL,
                    [request_id],
                )
            ]
        return Vote(added=cursor.rowcount == 1, voters=tuple(voters))

    def voters(self, request_id: str) -> tuple[str, ...]:
        """Who has approved ``request_id`` so far, first first."""
        with self.database.lock:
            rows = self.database.db.execute(
                _VOTERS_SQL,
                [request_id],
            ).fetchall()
        return tuple(row[0] for row in rows)

    def due(self) -> list[Approval]:
        """Pending requests whose time is up (the sweeper expires them)."""
        now = self.clock().isoformat()
        with self.database.lock:
            rows = self.database.db["slack_approvals"].rows_where(
                "state = ? AND expires_at <= ?", [PENDING, now]
            )
            return [Approval.from_row(r) for r in rows]

    def pending_count(self) -> int:
        with self.database.lock:
            return self.database.db["slack_approvals"].count_where("state = ?", [PENDING])

    def publish_waiting(self) -> int:
        """Set ``solti_approvals_waiting`` from the table (at start-up and on every change).

        Read back rather than counted up and down, so a second bot or the CLI writing the
        same file, or a restart, cannot make the gauge drift.
        """
        waiting = self.pending_count()
        slack_metrics.APPROVALS_WAITING.set(waiting)
        return waiting
