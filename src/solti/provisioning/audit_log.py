"""The audit log: one SQLite record per action, written when it starts and completed when it ends.

A record is written as ``running`` before anything changes, so a crash leaves a visible trace.
The database runs in WAL mode so the CLI can read while the bot writes; inside one process a
single connection guarded by a lock serves every thread (the bot finishes work on worker
threads). The schema is applied with sqlite-utils ``Migrations``; ``bot/`` keeps its own tables in
the same file.

Rows are read and written with plain ``sqlite3``: sqlite-utils (~60 ms to import) loads only
when a migration is pending or a caller asks for ``.db``, so a CLI create or list, which opens
an up-to-date file, does not pay for it at start-up (docs/performance.md).
"""

from __future__ import annotations

import copy
import csv
import io
import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from solti.provisioning.audit_schema import (
    MIGRATION_SET,
    OWNER_COLUMNS,
    TABLE,
    migrations,
    pending,
)
from solti.provisioning.errors import NotFound
from solti.provisioning.models import AuditRecord, AuditResult
from solti.provisioning.ownership import RunningRecord, process_identity
from solti.provisioning.sqlite_files import use_wal, write_locked

if TYPE_CHECKING:  # sqlite-utils loads when a log is opened (~75 ms), not with this module
    from sqlite_utils import Database

__all__ = [
    "CONTRACT_FIELDS",
    "MIGRATION_SET",
    "VM_CREATE",
    "VM_GIVE",
    "VM_GONE",
    "VM_REMOVE",
    "AuditLog",
    "RunningRecord",
    "migrations",
]

VM_CREATE = "vm create"
VM_REMOVE = "vm remove"
VM_GIVE = "vm give"  # ownership moved: params {"from": old owner, "to": new owner}
VM_GONE = "vm gone"  # reconcile: a VM solti made was removed outside solti
CONTRACT_FIELDS = [name for name in AuditRecord.model_fields if name != "id"]
_OPTIONAL = {
    "vmid", "name", "node", "template_vmid", "template_name", "template_version", "approver",
}  # fmt: skip


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - _OPTIONAL
    if unknown:
        raise TypeError(f"unknown audit fields: {', '.join(sorted(unknown))}")


class AuditLog:
    """The audit store at ``path`` (a file; ``":memory:"`` for throwaway use).

    ``cluster`` (policy ``clusters:``): a log for one cluster writes its name into every record
    and reads only that cluster's records (owners, request ids, running operations), since
    VMIDs are per cluster. ``None`` (the CLI's ``solti audit``) reads every cluster and writes
    ``default``. ``scoped(name)`` is a view of the same file for another cluster.
    """

    def __init__(self, path: str | Path, cluster: str | None = None) -> None:
        self.cluster = cluster
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self.conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db: Database | None = None
        if self.path != ":memory:":
            use_wal(self.conn)
        # Every commit reaches the disk before a Proxmox call follows it, even through a power
        # cut (NORMAL would save ~1 ms a commit; docs/operations.md, "Durability").
        self.conn.execute("PRAGMA synchronous=FULL")
        with self._lock:
            if pending(self.conn):  # read without a lock: an up-to-date file stops here
                with write_locked(self.conn):
                    if pending(self.conn):  # another process may have applied them meanwhile
                        migrations().apply(self.db)
        self._started: dict[int, float] = {}

    def scoped(self, cluster: str) -> AuditLog:
        """This log (same connection and lock) for the records of ``cluster``."""
        view = copy.copy(self)
        view.cluster = cluster
        return view

    @property
    def writes_cluster(self) -> str:
        return self.cluster or "default"

    def _in_cluster(self, where: str, args: list[Any], cluster: str | None = None) -> str:
        """``where`` narrowed to ``cluster`` (default this log's), when there is one."""
        chosen = cluster or self.cluster
        if chosen is None:
            return where
        args.append(chosen)
        return f"({where}) AND cluster = ?" if where else "cluster = ?"

    @property
    def db(self) -> Database:
        """The same connection as a sqlite-utils ``Database`` (loads sqlite-utils)."""
        if self._db is None:
            from sqlite_utils import Database

            self._db = Database(self.conn)
        return self._db

    @property
    def lock(self) -> threading.RLock:
        """The lock every use of ``conn`` holds (other stores in this file share it)."""
        return self._lock

    @property
    def journal_mode(self) -> str:
        with self._lock:
            return str(self.conn.execute("PRAGMA journal_mode").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def _rows(
        self,
        where: str | None,
        args: list[Any],
        *,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        sql = f"SELECT * FROM [{TABLE}]"
        if where:
            sql += f" WHERE {where}"
        if order_by:
            sql += f" ORDER BY {order_by}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            cursor = self.conn.execute(sql, args)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # --- writing ------------------------------------------------------------------------------

    def _insert(self, record: AuditRecord) -> int:
        row = record.model_dump(mode="json")
        row["cluster"] = self.writes_cluster
        row["at"] = _stamp(record.at)
        row["params"] = json.dumps(record.params, sort_keys=True, default=str)
        columns = ", ".join(f"[{name}]" for name in row)
        marks = ", ".join("?" for _ in row)
        with self._lock, self.conn:
            cursor = self.conn.execute(
                f"INSERT INTO [{TABLE}] ({columns}) VALUES ({marks})", list(row.values())
            )
            return int(cursor.lastrowid or 0)

    def start(
        self,
        action: str,
        actor: str,
        via: str,
        *,
        params: dict[str, Any] | None = None,
        request_id: str | None = None,
        at: datetime | None = None,
        **fields: Any,
    ) -> int:
        """Write a ``running`` record before the action changes anything; returns its id."""
        _check_fields(fields)
        record = AuditRecord(
            at=at or _now(), actor=actor, via=via, action=action, params=params or {},
            result="running", request_id=request_id, **fields,
        )  # fmt: skip
        audit_id = self._insert(record)
        self._started[audit_id] = time.monotonic()
        owner = process_identity()
        self._update(
            audit_id,
            owner_host=owner.host,
            owner_pid=owner.pid,
            owner_started=owner.started,
            heartbeat=_stamp(_now()),
        )
        return audit_id

    def _update(self, audit_id: int, **columns: Any) -> None:
        assignments = ", ".join(f"[{name}] = ?" for name in columns)
        with self._lock, self.conn:
            self.conn.execute(
                f"UPDATE [{TABLE}] SET {assignments} WHERE id = ?", [*columns.values(), audit_id]
            )

    def beat(self, audit_id: int, step: str | None = None, **fields: Any) -> None:
        """The heartbeat of a running record, with the step it is in and fields learnt
        (a VMID that changed after a lost race)."""
        _check_fields(fields)
        columns: dict[str, Any] = {"heartbeat": _stamp(_now())}
        if step is not None:
            columns["step"] = step
        columns.update({k: v for k, v in fields.items() if v is not None})
        self._update(audit_id, **columns)

    def running(self) -> list[RunningRecord]:
        """Every ``running`` record with its owner and heartbeat, oldest first."""
        args: list[Any] = []
        rows = self._rows(self._in_cluster("result = 'running'", args), args, order_by="id")
        out = []
        for row in rows:
            extra = {column: row.pop(column, None) for column in OWNER_COLUMNS}
            beat = extra["heartbeat"]
            out.append(
                RunningRecord(
                    record=self._from_row(row),
                    owner_host=extra["owner_host"],
                    owner_pid=extra["owner_pid"],
                    owner_started=extra["owner_started"],
                    heartbeat=datetime.fromisoformat(beat) if beat else None,
                    step=extra["step"],
                )
            )
        return out

    def finish(
        self,
        audit_id: int,
        result: AuditResult,
        error: str | None = None,
        *,
        duration_ms: int | None = None,
        params: dict[str, Any] | None = None,
        **fields: Any,
    ) -> AuditRecord:
        """Complete a started record: result, error, duration and any fields learnt on the way."""
        _check_fields(fields)
        current = self.get(audit_id)
        if duration_ms is None:
            began = self._started.pop(audit_id, None)
            if began is not None:
                duration_ms = int((time.monotonic() - began) * 1000)
            else:  # started by another process: fall back to the wall clock
                duration_ms = max(0, int((_now() - current.at).total_seconds() * 1000))
        else:
            self._started.pop(audit_id, None)
        update: dict[str, Any] = {"result": result, "error": error, "duration_ms": duration_ms}
        update.update({k: v for k, v in fields.items() if v is not None})
        if params is not None:
            update["params"] = json.dumps({**current.params, **params}, sort_keys=True, default=str)
        AuditRecord.model_validate({**current.model_dump(), **update, "params": {}})  # types
        assignments = ", ".join(f"[{name}] = ?" for name in update)
        with self._lock, self.conn:
            self.conn.execute(
                f"UPDATE [{TABLE}] SET {assignments} WHERE id = ?", [*update.values(), audit_id]
            )
        return self.get(audit_id)

    def record(
        self,
        action: str,
        actor: str,
        via: str,
        result: AuditResult,
        error: str | None = None,
        *,
        params: dict[str, Any] | None = None,
        request_id: str | None = None,
        duration_ms: int | None = None,
        at: datetime | None = None,
        **fields: Any,
    ) -> int:
        """A one-shot entry for decisions (approve, deny, expire, refused by policy)."""
        _check_fields(fields)
        record = AuditRecord(
            at=at or _now(), actor=actor, via=via, action=action, params=params or {},
            result=result, error=error, request_id=request_id, duration_ms=duration_ms, **fields,
        )  # fmt: skip
        return self._insert(record)

    # --- reading ------------------------------------------------------------------------------

    @staticmethod
    def _from_row(row: dict[str, Any]) -> AuditRecord:
        data = {k: v for k, v in row.items() if k not in OWNER_COLUMNS}
        data["params"] = json.loads(data["params"]) if data.get("params") else {}
        return AuditRecord.model_validate(data)

    def get(self, audit_id: int) -> AuditRecord:
        rows = self._rows("id = ?", [audit_id])
        if not rows:
            raise NotFound(f"no audit record {audit_id}")
        return self._from_row(rows[0])

    def query(
        self,
        user: str | None = None,
        vmid: int | None = None,
        template: int | str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        action: str | None = None,
        result: str | None = None,
        limit: int | None = 100,
        cluster: str | None = None,
    ) -> list[AuditRecord]:
        """Records matching every given filter, newest first.

        ``template`` is a template VMID or name; ``since`` is inclusive, ``until`` exclusive;
        ``cluster`` (default: this log's, if it has one) narrows to one cluster.
        """
        where: list[str] = []
        args: list[Any] = []
        for column, value in (("actor", user), ("vmid", vmid), ("action", action),
                              ("result", result)):  # fmt: skip
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if template is not None:
            if isinstance(template, int) or str(template).isdigit():
                where.append("template_vmid = ?")
                args.append(int(template))
            else:
                where.append("(template_name = ? OR template_name = ?)")
                args.extend([template, f"{template}-template"])
        if since is not None:
            where.append("at >= ?")
            args.append(_stamp(since))
        if until is not None:
            where.append("at < ?")
            args.append(_stamp(until))
        clause = self._in_cluster(" AND ".join(where), args, cluster)
        rows = self._rows(clause, args, order_by="at DESC, id DESC", limit=limit)
        return [self._from_row(row) for row in rows]

    def find_by_request_id(
        self, request_id: str, action: str | None = None, *, any_cluster: bool = False
    ) -> AuditRecord | None:
        """The newest record of ``request_id`` (for idempotent re-runs), or None; of this
        log's cluster unless ``any_cluster`` (a Slack request id names one request anywhere)."""
        where, args = "request_id = ?", [request_id]
        if action is not None:
            where += " AND action = ?"
            args.append(action)
        if not any_cluster:
            where = self._in_cluster(where, args)
        rows = self._rows(where, args, order_by="id DESC", limit=1)
        return self._from_row(rows[0]) if rows else None

    def owners(self) -> dict[int, str]:
        """VMID -> owner: the actor of the newest successful create not followed by a
        successful remove (or by a ``vm gone`` record: removed outside solti, found by
        reconcile), or the person a later ``vm give`` moved it to."""
        owned: dict[int, str] = {}
        args: list[Any] = [VM_CREATE, VM_REMOVE, VM_GONE, VM_GIVE]
        where = "result = 'ok' AND vmid IS NOT NULL AND action IN (?, ?, ?, ?)"
        rows = self._rows(self._in_cluster(where, args), args, order_by="id")
        for row in rows:
            if row["action"] == VM_CREATE:
                owned[row["vmid"]] = row["actor"]
            elif row["action"] == VM_GIVE:
                receiver = json.loads(row["params"] or "{}").get("to")
                if receiver and row["vmid"] in owned:
                    owned[row["vmid"]] = str(receiver)
            else:
                owned.pop(row["vmid"], None)
        return owned

    def count_active_vms(self, actor: str, live_vmids: Iterable[int] | None = None) -> int:
        """VMs ``actor`` owns (optionally only those still present on the cluster)."""
        live = None if live_vmids is None else set(live_vmids)
        return sum(
            1
            for vmid, owner in self.owners().items()
            if owner == actor and (live is None or vmid in live)
        )

    # --- exports ------------------------------------------------------------------------------

    def to_json(self, records: Iterable[AuditRecord] | None = None) -> str:
        """The contract's JSON: a list of records with exactly the contract fields."""
        chosen = self.query(limit=None) if records is None else list(records)
        return json.dumps([r.model_dump(mode="json") for r in chosen], indent=2)

    def to_csv(self, records: Iterable[AuditRecord] | None = None) -> str:
        """CSV with a header of the contract fields; ``params`` as a JSON cell."""
        chosen = self.query(limit=None) if records is None else list(records)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CONTRACT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for r in chosen:
            row = r.model_dump(mode="json")
            row["params"] = json.dumps(row["params"], sort_keys=True)
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
        return out.getvalue()
