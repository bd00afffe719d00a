"""A quota of N VMs, and N+2 `solti vm create` by one person at once, in separate processes.

Each process plans from its own snapshot, where none of the others' VMs exists yet; quota
holds kept only in a process's memory let every one of them pass. The claims in the audit file
(``provisioning.shared_claims``) make them see each other: never more than N VMs, the others
refused with the quota's sentence and no traceback.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from solti.sandbox.environment import SimEnvironment
from tests.concurrency.procs import audit, explain, together
from tests.concurrency.test_parallel_creates import create_args, vms

QUOTA = 2


@pytest.fixture(scope="module")
def world() -> Iterator[SimEnvironment]:
    with SimEnvironment(policy={"quotas": {"max_vms_per_user": QUOTA}}) as env:
        yield env


def test_parallel_creates_never_pass_the_quota(env: dict[str, str], world: SimEnvironment):
    ran = together(env, [create_args() for _ in range(QUOTA + 2)])
    assert not any(r.traceback for r in ran), explain(ran)
    made = [r for r in ran if r.code == 0]
    refused = [r for r in ran if r.code != 0]
    assert len(made) == QUOTA, explain(ran)
    assert all("max_vms_per_user" in r.err for r in refused), explain(ran)
    assert len(vms(world)) == QUOTA
    ok = audit(env["SOLTI_DB"], "SELECT vmid FROM audit WHERE action = 'vm create' "
                                "AND result = 'ok'")  # fmt: skip
    assert len(ok) == QUOTA
