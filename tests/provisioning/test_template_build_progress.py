"""Every template build step reports what it does, as the VM create steps do.

The ``vmid`` and ``resize`` details come from a lookup inside their step (the cluster, the
imported disk), so their report waits for it; a failure there still names the step.
"""

from __future__ import annotations

import pytest

from solti.provisioning.errors import RangeExhausted
from solti.provisioning.models import Progress
from solti.provisioning.service import Provisioner
from solti.provisioning.template_build import BUILD_STEPS
from solti.sandbox.environment import SimEnvironment


def _build(provisioner: Provisioner, distribution: str, **kw: object) -> dict[str, str | None]:
    seen: list[Progress] = []
    provisioner.build_template(distribution, actor="bob", progress=seen.append, **kw)
    assert [p.step for p in seen] == BUILD_STEPS  # each step once, in order
    assert [p.index for p in seen] == list(range(1, len(BUILD_STEPS) + 1))
    return {p.step: p.detail for p in seen}


def test_each_step_says_what_it_did(provisioner: Provisioner, world: SimEnvironment) -> None:
    first = _build(provisioner, "debian12")  # the mirror's Debian image is 3G
    assert all(first.values()), first
    assert first["vmid"] == "9000, the first template VMID (none of 9000-9999 in use)"
    assert first["create"] == "VM 9000"
    assert first["resize"] == "3G -> 10G"
    notes = provisioner.ops.client.vm_config("pve", 9000)["description"]
    version = provisioner.verify_template(9000).version
    assert first["notes"] == (
        f"{len(notes.splitlines())} lines: version {version} (last-modified), sha512 checksum, "
        "image, sizes, hardware, builder, build date; tags debian, debian12, solti, template"
    )

    second = _build(provisioner, "rocky9")  # Rocky's image is already 10G
    assert second["vmid"] == "9001, next after 9000 (highest template VMID in use)"
    assert second["resize"] == "not needed (image is 10G, template size 10G)"
    assert second["notes"] and "sha256 checksum" in second["notes"]
    assert "request id" not in second["notes"]
    assert "rocky9" in second["notes"].split("; tags ")[1]


def test_vmid_reason_counts_a_build_in_progress(provisioner: Provisioner) -> None:
    """Another build holding 9004 (reserved, not yet on the cluster) moves this one past it."""
    provisioner.ops.reservations.claim(lambda _ids, _names: (9004, None))
    try:
        details = _build(provisioner, "ubuntu2404")
    finally:
        provisioner.ops.reservations.release(9004)
    assert details["vmid"] == (
        "9005, next after 9004 (highest template VMID reserved by a build in progress)"
    )
    assert details["create"] == "VM 9005"


def test_a_vmid_lost_to_a_race_is_named_in_the_create_step(
    provisioner: Provisioner, world: SimEnvironment
) -> None:
    """Someone takes the chosen VMID between the lookup and the create: the next one is used."""
    seen: list[Progress] = []

    def progress(update: Progress) -> None:
        seen.append(update)
        if update.step == "vmid":  # reported once chosen, before the create asks for it
            world.pve.state.add_vm(9000, "someone-else")

    result = provisioner.build_template(
        "rocky9", actor="bob", progress=progress, request_id="race-1"
    )
    assert result.template.vmid == 9001
    details = [(p.step, p.detail) for p in seen]
    assert ("vmid", "9000, the first template VMID (none of 9000-9999 in use)") in details
    assert [d for s, d in details if s == "create"] == ["VM 9000", "VM 9001 (9000 was taken)"]


def test_a_failure_while_choosing_the_vmid_is_reported_as_that_step(
    provisioner: Provisioner, world: SimEnvironment
) -> None:
    world.pve.state.add_template(9999, "last-template")
    seen: list[Progress] = []
    with pytest.raises(RangeExhausted):
        provisioner.build_template("rocky9", actor="bob", progress=seen.append, request_id="full-1")
    assert [p.step for p in seen] == ["checksum", "download", "vmid"]
    assert seen[-1].detail is None  # released bare: the display marks vmid as the failed step
    record = provisioner.audit.find_by_request_id("full-1")
    assert record is not None and record.result == "failed"
    assert record.error is not None and record.error.startswith("vmid: template VMIDs")
