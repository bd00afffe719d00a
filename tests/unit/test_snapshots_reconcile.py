"""``decide_snapshot``: how reconcile closes an interrupted snapshot operation, from the VM's
snapshot list (pure; the killed-CLI versions are tests/recovery/test_kill_snapshot.py)."""

from __future__ import annotations

from solti.provisioning.snapshots_reconcile import SnapshotFacts, decide_snapshot


def facts(lock: str | None = None, parent: str | None = None, **snaps: str | None) -> SnapshotFacts:
    return SnapshotFacts(snapshots=dict(snaps), parent=parent, lock=lock, status="stopped")


def test_a_gone_vm_fails_every_action() -> None:
    for action in ("snapshot create", "snapshot rollback", "snapshot delete"):
        verdict = decide_snapshot(action, 500, "s1", "x", None)
        assert (verdict.result, verdict.text) == (
            "failed", "interrupted at step x; PVE no longer has VM 500"
        )  # fmt: skip


def test_create() -> None:
    assert decide_snapshot("snapshot create", 500, "s1", "snapshot", facts(s1=None)).result == "ok"
    missing = decide_snapshot("snapshot create", 500, "s1", "snapshot", facts(other=None))
    assert (missing.result, missing.person) == ("failed", False)
    assert missing.text.endswith("snapshot `s1` of VM 500 was not taken")
    half = decide_snapshot(
        "snapshot create", 500, "s1", "snapshot", facts("snapshot", s1="prepare")
    )
    assert half.result == "failed" and half.person
    assert "incomplete (snapstate prepare)" in half.text and "qm unlock 500" in half.text


def test_delete() -> None:
    assert decide_snapshot("snapshot delete", 500, "s1", "delete", facts()).result == "ok"
    left = decide_snapshot("snapshot delete", 500, "s1", "delete",
                           facts("snapshot-delete", s1="delete"))  # fmt: skip
    assert left.result == "failed" and left.person
    assert "still there (snapstate delete)" in left.text and "locked (snapshot-delete)" in left.text


def test_rollback() -> None:
    done = decide_snapshot("snapshot rollback", 500, "s1", "rollback", facts(parent="s1", s1=None))
    assert done.result == "ok" and "stopped and not locked" in done.text
    locked = decide_snapshot("snapshot rollback", 500, "s1", "rollback",
                             facts("rollback", parent="s0", s1=None, s0=None))  # fmt: skip
    assert locked.result == "failed" and locked.person and "did not complete" in locked.text
    other = decide_snapshot("snapshot rollback", 500, "s1", "rollback",
                            facts(parent="s2", s1=None, s2=None))  # fmt: skip
    assert other.result == "failed" and "was not rolled back to `s1`" in other.text
