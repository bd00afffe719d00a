"""``shared_claims`` and ``Reservations`` on one audit file seen from two "processes".

Two ``AuditLog`` connections to one file, each with the identity of a live process of its
own, stand for two `solti` processes: deterministic versions of the races the subprocess
tests run for real (a claim, a quota hold, a ``--count`` set, a claim left by a killed one).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from solti.provisioning.audit_log import AuditLog
from solti.provisioning.fleet import HeldVm
from solti.provisioning.ownership import ProcessIdentity, process_identity, process_start_time
from solti.provisioning.reservations import Reservations
from solti.provisioning.shared_claims import SharedClaims


def _side(db: Path, me: ProcessIdentity) -> Reservations:
    audit = AuditLog(db, cluster="default")
    reservations = Reservations()
    reservations.share(SharedClaims(audit.conn, audit.lock, "default", me=me))
    return reservations


def _parent() -> ProcessIdentity:
    """Another live process than this one: pytest's parent (a shell, or xdist's)."""
    here = process_identity()
    return ProcessIdentity(here.host, os.getppid(), process_start_time(os.getppid()))


@pytest.fixture
def two(tmp_path: Path) -> tuple[Reservations, Reservations]:
    db = tmp_path / "solti.db"
    return _side(db, process_identity()), _side(db, _parent())


def _lowest(ids: set[int], names: set[str]) -> tuple[int, str]:
    vmid = next(v for v in range(500, 600) if v not in ids)
    name = next(f"rocky9-{i}" for i in range(1, 100) if f"rocky9-{i}" not in names)
    return vmid, name


def test_a_claim_in_one_process_is_seen_by_the_other(two: tuple[Reservations, Reservations]):
    first, second = two
    assert first.claim(_lowest) == (500, "rocky9-1")
    assert second.claim(_lowest) == (501, "rocky9-2")
    assert second.names() == {"rocky9-1", "rocky9-2"}


def test_a_quota_hold_in_one_process_counts_in_the_other(two: tuple[Reservations, Reservations]):
    first, second = two
    vm = HeldVm(vmid=500, name="a", cores=2, memory=2048, disk=0)
    first.hold("ops", vm, lambda holds: None)
    seen: list[int] = []
    second.hold("ops", HeldVm(vmid=501, name="b", cores=1, memory=1, disk=0),
                lambda holds: seen.append(len(holds)))  # fmt: skip
    assert seen == [1]
    assert sorted(h.vm.cores for h in second.holds_of("ops")) == [1, 2]
    assert second.holds_of("someone else") == []


def test_a_failed_create_gives_its_quota_back(two: tuple[Reservations, Reservations]):
    first, second = two
    held = first.hold("ops", HeldVm(vmid=500, name="a", cores=1, memory=1, disk=0), lambda h: None)
    first.settle(held, None)
    assert second.holds_of("ops") == []


def test_a_count_set_is_refused_when_another_process_claimed_a_name(
    two: tuple[Reservations, Reservations],
):
    first, second = two
    clash, rows = first.claim_set([(500, "lab-1"), (501, "lab-2")])
    assert (clash, len(rows)) == ([], 2)
    assert second.claim_set([(502, "lab-2"), (503, "lab-3")]) == (["lab-2"], [])
    assert "lab-3" not in first.names()  # refused sets claim nothing


def test_claims_of_a_killed_process_are_forgotten(tmp_path: Path):
    db = tmp_path / "solti.db"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(gone.stdout)
    dead = _side(db, ProcessIdentity(process_identity().host, pid, "1"))
    dead.claim(_lowest)
    alive = _side(db, process_identity())
    assert alive.claim(_lowest) == (500, "rocky9-1")
