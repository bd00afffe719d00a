"""The audit log on a real SQLite file: crash traces, queries, exports, WAL, threads."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from solti.provisioning.audit_log import CONTRACT_FIELDS, VM_CREATE, VM_REMOVE, AuditLog, migrations
from solti.provisioning.errors import NotFound

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    log = AuditLog(tmp_path / "solti.db")
    yield log
    log.close()


def test_wal_and_migrations_applied_once(tmp_path: Path) -> None:
    first = AuditLog(tmp_path / "a.db")
    assert first.journal_mode == "wal"
    first.record("template build", "U1", "cli", "ok")
    first.close()
    again = AuditLog(tmp_path / "a.db")  # re-opening must not re-create or wipe the table
    assert len(again.query()) == 1
    names = [m.name for m in migrations().applied(again.db)]
    assert names == [
        "m001_audit", "m002_action_result_index", "m003_owner_and_heartbeat", "m004_leases",
        "m005_rebuild_journal",
        "m006_clusters", "m007_racehunt_claims",
    ]  # fmt: skip
    again.close()


def test_a_crash_leaves_a_running_record(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    log = AuditLog(path)
    log.start(VM_CREATE, "U1", "slack", params={"template": "rocky9"}, request_id="r-1")
    log.close()  # the process dies before finish()
    reader = sqlite3.connect(path)  # another process (the CLI) sees it
    result, actor = reader.execute("select result, actor from audit").fetchone()
    assert (result, actor) == ("running", "U1")
    reader.close()


def test_start_then_finish(audit: AuditLog) -> None:
    audit_id = audit.start(VM_CREATE, "U1", "slack", params={"disk": "20G"}, request_id="r-2",
                           template_vmid=9001, template_name="rocky9-template")  # fmt: skip
    done = audit.finish(audit_id, "ok", vmid=512, name="rocky9-250301", node="pve1",
                        template_version="9.7-20251123.2", params={"full": False})  # fmt: skip
    assert done.result == "ok" and done.error is None
    assert done.vmid == 512 and done.template_version == "9.7-20251123.2"
    assert done.params == {"disk": "20G", "full": False}
    assert done.duration_ms is not None and done.duration_ms >= 0
    failed = audit.finish(audit.start(VM_CREATE, "U1", "cli"), "failed", error="clone: no space",
                          duration_ms=1234)  # fmt: skip
    assert (failed.result, failed.error, failed.duration_ms) == ("failed", "clone: no space", 1234)


def test_finish_rejects_bad_values(audit: AuditLog) -> None:
    audit_id = audit.start(VM_CREATE, "U1", "cli")
    with pytest.raises(ValueError):
        audit.finish(audit_id, "done")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unknown audit fields: colour"):
        audit.finish(audit_id, "ok", colour="blue")
    with pytest.raises(NotFound):
        audit.finish(999, "ok")
    assert audit.get(audit_id).result == "running"


def _seed(audit: AuditLog) -> None:
    audit.record(VM_CREATE, "U1", "slack", "ok", vmid=500, template_vmid=9000,
                 template_name="rocky9-template", at=T0)  # fmt: skip
    audit.record(VM_CREATE, "U2", "cli", "ok", vmid=501, template_vmid=9002,
                 template_name="debian12-template", at=T0 + timedelta(hours=1))  # fmt: skip
    audit.record(VM_CREATE, "U1", "slack", "ok", vmid=502, template_vmid=9000,
                 template_name="rocky9-template", at=T0 + timedelta(hours=2))  # fmt: skip
    audit.record(VM_REMOVE, "U1", "slack", "ok", vmid=500, at=T0 + timedelta(hours=3))
    audit.record("template build", "U3", "slack", "denied", approver="U9",
                 at=T0 + timedelta(hours=4))  # fmt: skip


def test_queries(audit: AuditLog) -> None:
    _seed(audit)
    assert [r.vmid for r in audit.query(user="U1")] == [500, 502, 500]  # newest first
    assert [r.action for r in audit.query(vmid=500)] == [VM_REMOVE, VM_CREATE]
    assert [r.vmid for r in audit.query(template=9000)] == [502, 500]
    assert [r.vmid for r in audit.query(template="rocky9")] == [502, 500]
    assert [r.vmid for r in audit.query(template="debian12-template")] == [501]
    window = audit.query(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3))
    assert [r.vmid for r in window] == [502, 501]
    assert [r.approver for r in audit.query(result="denied")] == ["U9"]
    assert len(audit.query(action=VM_CREATE)) == 3
    assert len(audit.query(limit=2)) == 2
    assert audit.query(user="nobody") == []


def test_owners_and_quota_counts(audit: AuditLog) -> None:
    _seed(audit)
    audit.record(VM_CREATE, "U2", "cli", "failed", vmid=503)
    assert audit.owners() == {501: "U2", 502: "U1"}
    assert audit.count_active_vms("U1") == 1
    assert audit.count_active_vms("U2", live_vmids=[502]) == 0


def test_find_by_request_id(audit: AuditLog) -> None:
    first = audit.start(VM_CREATE, "U1", "slack", request_id="req-7")
    audit.finish(first, "failed", error="boom")
    second = audit.start(VM_CREATE, "U1", "slack", request_id="req-7")
    audit.finish(second, "ok", vmid=600)
    found = audit.find_by_request_id("req-7")
    assert found is not None and found.id == second and found.vmid == 600
    assert audit.find_by_request_id("req-7", action="template build") is None
    assert audit.find_by_request_id("other") is None


def test_json_export_is_the_contract(audit: AuditLog) -> None:
    _seed(audit)
    data = json.loads(audit.to_json())
    assert len(data) == 5
    assert all(list(item) == CONTRACT_FIELDS for item in data)
    assert data[-1]["at"].startswith("2025-03-01T12:00:00")
    assert data[-1]["template_name"] == "rocky9-template"
    only = json.loads(audit.to_json(audit.query(user="U2")))
    assert [item["vmid"] for item in only] == [501]


def test_csv_export(audit: AuditLog) -> None:
    audit.record(VM_CREATE, "U1", "cli", "ok", vmid=500, params={"disk": "20G", "note": "a,b"})
    rows = list(csv.DictReader(io.StringIO(audit.to_csv())))
    assert list(rows[0]) == CONTRACT_FIELDS
    assert rows[0]["vmid"] == "500" and rows[0]["error"] == ""
    assert json.loads(rows[0]["params"]) == {"disk": "20G", "note": "a,b"}


def test_writes_from_many_threads(audit: AuditLog) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                audit_id = audit.start(VM_CREATE, f"U{n}", "slack", request_id=f"{n}-{i}")
                audit.finish(audit_id, "ok", vmid=1000 + n * 10 + i)
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    records = audit.query(limit=None)
    assert len(records) == 80
    assert all(r.result == "ok" for r in records)
    assert len({r.vmid for r in records}) == 80


def test_second_process_sees_writes(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    writer, reader = AuditLog(path), AuditLog(path)
    writer.record(VM_CREATE, "U1", "slack", "ok", vmid=700)
    assert [r.vmid for r in reader.query()] == [700]
    writer.close()
    reader.close()


def test_a_database_from_before_the_index_gets_it_and_keeps_its_rows(tmp_path: Path) -> None:
    """Upgrades migrate in place: an audit file written by the first schema gains the
    (action, result) index the approval sweep uses, and nothing in it is lost."""
    path = tmp_path / "old.db"
    AuditLog(path).record("template build request", "U1", "slack", "running")
    with sqlite3.connect(path) as old:  # make it look like a file from before m002
        old.execute("DROP INDEX idx_audit_action_result")
        old.execute("DELETE FROM _sqlite_migrations WHERE name = 'm002_action_result_index'")
    upgraded = AuditLog(path)
    with sqlite3.connect(path) as db:
        plan = " ".join(
            str(row)
            for row in db.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM audit WHERE action = ? AND result = ?",
                ("template build request", "running"),
            )
        )
    assert "idx_audit_action_result" in plan
    assert [r.action for r in upgraded.query(result="running")] == ["template build request"]
