"""Where each operation's Slack progress message is, kept in the bot's database.

A progress message lives in the memory of the process that posted it. When that process dies
inside a create (a deploy is a restart), the message would show "⏳ clone" for ever: nobody
knows where it is any more. So ``ProgressMessage.post`` writes one row here (request id,
channel, ts, thread, requester, title, and who posted it), the final state marks it
``final``, and after ``reconcile`` resolves an interrupted operation the bot's recovery job
(``bot.recovery``) finds the message by request id and edits it.

The poster's identity (host, pid, process start time, as ``provisioning.ownership`` has it)
lets recovery leave alone the messages of operations a live process is still running.

Two bot processes on one database (a rolling deploy overlaps the old and the new, or two
replicas share the file) both find a dead operation's open message. Before editing it, a
recovery ``claim``s the row in one write transaction; the loser leaves it alone, so the
message is edited and the requester told once. A claim whose holder died before finishing
lapses after ``CLAIM_LAPSES_AFTER``, and a failed edit gives the row back at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from solti.bot.db import BotDatabase
from solti.provisioning.ownership import ProcessIdentity, process_identity

__all__ = ["PostedMessage", "ProgressBook"]

TABLE = "slack_progress_messages"
KEEP_FINAL = timedelta(days=7)  # final rows are kept a while for people who look into the db
# An edit and a thread note take seconds even with Slack's rate-limit retries; a claim older
# than this is one whose holder died in between.
CLAIM_LAPSES_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class PostedMessage:
    """One operation's progress message, as remembered."""

    request_id: str
    channel: str
    ts: str
    thread_ts: str
    requester: str | None
    title: str
    state: str
    owner: str | None
    posted_at: str | None

    def posted_by(self, identity: ProcessIdentity) -> bool:
        return self.owner == owner_text(identity)


def owner_text(identity: ProcessIdentity) -> str:
    return f"{identity.host}:{identity.pid}:{identity.started or ''}"


class ProgressBook:
    """The ``slack_progress_messages`` table: remembered on post, marked final at the end."""

    def __init__(
        self,
        database: BotDatabase,
        clock: Callable[[], datetime] | None = None,
        identity: ProcessIdentity | None = None,
    ) -> None:
        self.database = database
        self.clock = clock or (lambda: datetime.now(UTC))
        self.identity = identity or process_identity()

    def remember(
        self,
        request_id: str,
        *,
        channel: str,
        ts: str,
        thread_ts: str | None = None,
        requester: str | None,
        title: str,
    ) -> None:
        """The message of ``request_id`` is (channel, ts); a re-run of the same request (the
        same id) replaces the row, since its newest message is the one people look at."""
        row = {
            "request_id": request_id,
            "channel": channel,
            "ts": ts,
            "thread_ts": thread_ts or ts,
            "requester": requester,
            "title": title,
            "state": "open",
            "owner": owner_text(self.identity),
            "posted_at": self.clock().isoformat(),
            "final_at": None,
        }
        with self.database.transaction():
            self.database.db[TABLE].upsert(row, pk="request_id")

    def mark_final(self, request_id: str) -> None:
        with self.database.transaction() as conn:
            conn.execute(
                f"UPDATE {TABLE} SET state = 'final', final_at = ? "
                "WHERE request_id = ? AND state = 'open'",
                [self.clock().isoformat(), request_id],
            )

    def claim(self, request_id: str) -> bool:
        """Take the open message of ``request_id`` for this process to finish; False when it
        is final or another process holds a claim that has not lapsed."""
        now = self.clock()
        lapsed = (now - CLAIM_LAPSES_AFTER).isoformat()
        me = owner_text(self.identity)
        with self.database.transaction() as conn:
            cursor = conn.execute(
                f"UPDATE {TABLE} SET claimed_by = ?, claimed_at = ? "
                "WHERE request_id = ? AND state = 'open' "
                "AND (claimed_by IS NULL OR claimed_by = ? OR claimed_at < ?)",
                [me, now.isoformat(), request_id, me, lapsed],
            )
        return cursor.rowcount == 1

    def release(self, request_id: str) -> None:
        """Give back a claim this process could not finish (Slack was down): the next run,
        here or elsewhere, tries again at once rather than after the claim lapses."""
        with self.database.transaction() as conn:
            conn.execute(
                f"UPDATE {TABLE} SET claimed_by = NULL, claimed_at = NULL "
                "WHERE request_id = ? AND claimed_by = ?",
                [request_id, owner_text(self.identity)],
            )

    def forget_final(self, older_than: timedelta = KEEP_FINAL) -> int:
        """Drop rows final for longer than ``older_than`` (nothing will edit them again);
        returns how many. Open rows stay whatever their age: recovery still owes them."""
        cutoff = (self.clock() - older_than).isoformat()
        with self.database.transaction() as conn:
            cursor = conn.execute(
                f"DELETE FROM {TABLE} WHERE state = 'final' AND final_at < ?", [cutoff]
            )
        return int(cursor.rowcount or 0)

    def get(self, request_id: str) -> PostedMessage | None:
        with self.database.lock:
            rows = list(self.database.db[TABLE].rows_where("request_id = ?", [request_id]))
        return _message(rows[0]) if rows else None

    def open_messages(self) -> list[PostedMessage]:
        """Messages not yet in a final state, oldest first."""
        with self.database.lock:
            rows = list(self.database.db[TABLE].rows_where("state = 'open'", order_by="posted_at"))
        return [_message(row) for row in rows]


def _message(row: dict[str, object]) -> PostedMessage:
    return PostedMessage(
        request_id=str(row["request_id"]),
        channel=str(row["channel"]),
        ts=str(row["ts"]),
        thread_ts=str(row.get("thread_ts") or row["ts"]),
        requester=str(row["requester"]) if row.get("requester") else None,
        title=str(row.get("title") or ""),
        state=str(row.get("state") or "open"),
        owner=str(row["owner"]) if row.get("owner") else None,
        posted_at=str(row["posted_at"]) if row.get("posted_at") else None,
    )
