"""`solti lease sweep` from cron at the moment another sweep runs (the bot's, or a second cron
line), on one audit file: each expired VM is removed once and audited once.

Each piece of sweep work is claimed by a unique insert (``lease_store.claim``); the race to
guard is the one between a sweep that has read the leases and another that has finished a
removal meanwhile and forgotten the VM's lease.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from solti.provisioning.audit_log import AuditLog
from solti.provisioning.lease_store import Lease, LeaseStore
from solti.sandbox.environment import SimEnvironment
from tests.concurrency.procs import audit, explain, together
from tests.concurrency.test_parallel_creates import create_args, vms

POLICY = {"leases": {"on_expiry": "remove"}, "limits": {"max_count": 3}}
SWEEPS = 3
AFTER_THE_END = "2099-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def world() -> Iterator[SimEnvironment]:
    with SimEnvironment(policy=POLICY) as env:
        yield env


def test_parallel_sweeps_remove_each_expired_vm_once(env: dict[str, str], world: SimEnvironment):
    made = together(env, [create_args("--count", "3", "--lease", "30m")])
    assert made[0].code == 0, explain(made)
    assert len(vms(world)) == 3
    sweep = ["lease", "sweep", "--as-of", AFTER_THE_END]
    ran = together(env, [sweep] * SWEEPS)
    assert all(r.code == 0 and not r.traceback for r in ran), explain(ran)
    assert vms(world) == {}
    rows = audit(env["SOLTI_DB"], "SELECT action, result, vmid FROM audit "
                                  "WHERE action IN ('vm remove', 'vm expire')")  # fmt: skip
    assert Counter((a, r) for a, r, _ in rows) == {("vm remove", "ok"): 3, ("vm expire", "ok"): 3}
    assert len({v for a, _, v in rows if a == "vm remove"}) == 3


def test_work_of_a_lease_forgotten_meanwhile_cannot_be_claimed(tmp_path: Path):
    """The interleaving behind a `vm expire` recorded twice, on two connections to one file:
    sweep B read the lease; sweep A claimed, removed the VM and forgot the lease; B claims."""
    db = tmp_path / "solti.db"
    first, second = LeaseStore(AuditLog(db, "default")), LeaseStore(AuditLog(db, "default"))
    end = datetime(2026, 12, 1, tzinfo=UTC)
    first.put(Lease(500, "ops", end, end - timedelta(days=14), "ops", "rocky9-261203"))
    assert second.ending_before(end + timedelta(days=1))  # B has read the lease
    assert first.claim(500, end, "expire", end)
    first.forget(500)  # A removed the VM
    assert not second.claim(500, end, "expire", end)
    first.put(Lease(500, "ops", end + timedelta(days=7), end, "ops", "other"))  # VMID reused
    assert not second.claim(500, end, "remove", end)  # old end: void
    assert second.claim(500, end + timedelta(days=7), "expire", end)
