"""Request and record models: strict fields, and validation errors a person can act on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from solti.provisioning.errors import InvalidRequest
from solti.provisioning.models import (
    AuditRecord,
    Progress,
    TemplateBuildRequest,
    TemplateInfo,
    UpdateStatus,
    VmCreateRequest,
    VmPlan,
    parse_request,
)
from solti.provisioning.sizes import Size
from tests.helpers.keys import new_ssh_key

KEY = new_ssh_key("alice@laptop")
CONTRACT = [
    "at", "actor", "via", "action", "vmid", "name", "node", "template_vmid", "template_name",
    "template_version", "params", "result", "error", "approver", "request_id", "duration_ms",
    "cluster",
]  # fmt: skip


def test_vm_create_request_normalises() -> None:
    request = parse_request(
        VmCreateRequest,
        {"template": " 9001 ", "disk": "20G", "ssh_keys": [KEY], "ip": "10.0.0.5/24",
         "gw": "10.0.0.1", "nameserver": "1.1.1.1,8.8.8.8"},
    )  # fmt: skip
    assert request.template == 9001
    assert request.disk == Size("20G")
    assert request.ssh_keys == [KEY]
    assert request.nameserver == "1.1.1.1 8.8.8.8"
    assert request.full is False and request.dry_run is False
    assert parse_request(VmCreateRequest, {"template": "rocky9"}).template == "rocky9"
    assert parse_request(VmCreateRequest, {"template": ""}).template is None
    assert parse_request(VmCreateRequest, {"ip": "dhcp"}).ip is None


def test_request_round_trips_through_json() -> None:
    request = VmCreateRequest(template="rocky9", disk=Size("50G"), name="web1", full=True)
    assert VmCreateRequest.model_validate_json(request.model_dump_json()) == request
    assert request.model_dump()["disk"] == "50G"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"disk": "32X"},
            "disk",
            "disk: '32X' is not a size; use a number with K, M, G or T, e.g. 32G",
        ),
        ({"cores": 0}, "cores", "cores: must be >= 1, got 0"),
        ({"cores": "lots"}, "cores", "cores: must be a whole number, got 'lots'"),
        ({"memory": 8}, "memory", "memory: must be >= 16"),
        ({"vmid": 99}, "vmid", "vmid: must be >= 100"),
        ({"name": "web_1"}, "name", "name: 'web_1' is not a DNS label"),
        ({"ip": "10.0.0.5/24"}, "gw", "gw: a static ip needs a gateway"),
        ({"gw": "10.0.0.1"}, "gw", "gw: a gateway needs a static ip"),
        ({"ssh_keys": ["ssh-rsa AAAA me"]}, "ssh_keys", "ssh_keys: key 1 (me) is not a valid"),
        ({"user": "Root"}, "user", "user: 'Root' is not a user name"),
        ({"full": "maybe"}, "full", "full: 'maybe' is not true or false"),
        ({"tmplate": "rocky9"}, "tmplate", "tmplate: unknown key (did you mean template?)"),
    ],
)
def test_validation_errors_name_the_field(data: dict, field: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_request(VmCreateRequest, data)
    assert info.value.field == field
    assert str(info.value).startswith(message)


def test_several_errors_are_all_reported() -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_request(VmCreateRequest, {"disk": "x", "cores": 0})
    assert "disk:" in str(info.value) and "cores:" in str(info.value)
    assert info.value.field == "disk"


def test_template_build_request() -> None:
    request = parse_request(TemplateBuildRequest, {"distribution": "rocky9", "disk": "10G"})
    assert request.secure_boot is False and request.disk == Size("10G")
    with pytest.raises(InvalidRequest, match="distribution: is required"):
        parse_request(TemplateBuildRequest, {})
    with pytest.raises(InvalidRequest, match="unknown key"):
        parse_request(TemplateBuildRequest, {"distribution": "rocky9", "secureboot": True})


def test_audit_record_dumps_exactly_the_contract() -> None:
    record = AuditRecord(id=7, at=datetime(2025, 1, 2, tzinfo=UTC), actor="U1", via="slack",
                         action="vm create", result="running")  # fmt: skip
    assert list(record.model_dump()) == CONTRACT
    assert record.id == 7
    with pytest.raises(ValidationError):
        AuditRecord(at=datetime.now(UTC), actor="U1", via="cli", action="x", result="done")


def test_results_and_plan() -> None:
    template = TemplateInfo(vmid=9000, name="rocky9-template", node="pve1", version="9.7",
                            disk_size="10G", tags=["rocky"])  # fmt: skip
    plan = VmPlan(
        template=template, node="pve1", vmid=500, name="rocky9-250101", full=False,
        disk_before=Size("10G"), disk_after=Size("20G"), resize=True, user="rocky",
    )  # fmt: skip
    assert plan.template_version == "9.7"
    assert plan.model_dump(mode="json")["disk_after"] == "20G"
    assert plan.ipconfig == "ip=dhcp"
    status = UpdateStatus(distribution="rocky9", state="update_available",
                          template_checksum="aa", upstream_checksum="bb")  # fmt: skip
    assert status.state == "update_available"
    with pytest.raises(ValidationError):
        UpdateStatus(distribution="rocky9", state="stale")


def test_progress_is_frozen_and_bounded() -> None:
    step = Progress(step="clone", index=2, total=5)
    with pytest.raises(ValidationError):
        step.index = 3  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Progress(step="clone", index=0, total=5)
