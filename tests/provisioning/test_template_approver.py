"""Who approved a template build or destroy is part of the audit contract (``approver``)."""

from __future__ import annotations

import json

import pytest

from solti.provisioning.errors import Conflict
from solti.provisioning.service import Provisioner


def test_build_records_the_approver(provisioner: Provisioner) -> None:
    result = provisioner.build_template(
        "debian12", actor="U_REQ", via="slack", request_id="appr-1", approver="U_BOSS"
    )
    record = provisioner.audit.get(result.audit_id)
    assert record.action == "template build" and record.result == "ok"
    assert record.actor == "U_REQ" and record.approver == "U_BOSS"
    exported = json.loads(provisioner.audit.to_json())
    assert exported[0]["approver"] == "U_BOSS"


def test_build_without_approver_records_none(provisioner: Provisioner) -> None:
    result = provisioner.build_template("debian12", actor="ops")
    assert provisioner.audit.get(result.audit_id).approver is None


def test_destroy_records_the_approver_refused_or_done(
    provisioner: Provisioner, ssh_key: str
) -> None:
    info = provisioner.build_template("rocky9").template
    vm = provisioner.create_vm({"template": info.vmid, "ssh_keys": [ssh_key]}).vm
    with pytest.raises(Conflict):
        provisioner.destroy_template(info.vmid, actor="U_REQ", approver="U_BOSS")
    refused = provisioner.audit.query(action="template destroy")[0]
    assert refused.result == "failed" and refused.approver == "U_BOSS"
    provisioner.remove_vm(vm.vmid)
    provisioner.destroy_template(info.vmid, actor="U_REQ", via="slack", approver="U_OTHER")
    done = provisioner.audit.query(action="template destroy")[0]
    assert done.result == "ok" and done.approver == "U_OTHER" and done.actor == "U_REQ"
