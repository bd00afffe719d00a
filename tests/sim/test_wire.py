"""Envelope, status codes, reason phrases, request decoding and the request log."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import requests
from proxmoxer import ResourceException
from proxmoxer.tools import Tasks

from tests.sim.conftest import NODE, create_vm, run_ok


def _get(pve, path: str, **kw):
    headers = {"Authorization": f"PVEAPIToken={pve.token_id}={pve.token_secret}"}
    return requests.request(
        kw.pop("method", "GET"),
        f"{pve.url}/api2/json{path}",
        headers=headers,
        verify=pve.ca_path,
        timeout=5,
        **kw,
    )


def test_success_envelope_is_data_with_json_content_type(pve):
    response = _get(pve, "/version")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert response.json()["data"]["release"] == "9.1"


def test_unknown_path_is_501_with_pve_text(pve):
    response = _get(pve, "/nodes/pve/qemu/100/bogus")
    assert response.status_code == 501
    assert response.reason == "Method 'GET /nodes/pve/qemu/100/bogus' not implemented"
    assert response.json() == {
        "data": None,
        "message": "Method 'GET /nodes/pve/qemu/100/bogus' not implemented\n",
    }


def test_wrong_method_is_501(api):
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(100).clone.get()
    assert info.value.status_code == 501
    assert "Method 'GET /nodes/pve/qemu/100/clone' not implemented" in str(info.value)


def test_body_on_get_is_501(pve):
    response = _get(pve, "/version", data={"x": "1"})
    assert response.status_code == 501
    assert response.reason == "Unexpected content for method 'GET'"


def test_error_text_is_the_reason_phrase_and_reaches_proxmoxer(api):
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(500).config.get()
    assert info.value.status_code == 500
    assert (
        info.value.content == "Configuration file 'nodes/pve/qemu-server/500.conf' does not exist"
    )


def test_400_lists_every_bad_parameter(pve):
    response = _get(
        pve, "/nodes/pve/qemu", method="POST", data={"vmid": "99", "foo": "1", "onboot": "True"}
    )
    assert response.status_code == 400
    assert response.reason == "Parameter verification failed."
    errors = response.json()["errors"]
    assert "vmid" in errors
    assert "foo" in errors
    assert errors["onboot"] == "type check ('boolean') failed - got 'True'"


def test_json_body_is_accepted_with_real_booleans(pve, api):
    response = _get(
        pve,
        "/nodes/pve/qemu",
        method="POST",
        json={"vmid": 120, "onboot": True, "scsi0": "local-lvm:1"},
    )
    assert response.status_code == 200, response.text
    run_ok(api, response.json()["data"])
    assert api.nodes(NODE).qemu(120).config.get()["onboot"] == 1


def test_query_string_is_merged_over_body(pve, api):
    response = _get(
        pve,
        "/nodes/pve/qemu?name=fromquery",
        method="POST",
        data={"vmid": "121", "name": "frombody"},
    )
    run_ok(api, response.json()["data"])
    assert api.nodes(NODE).qemu(121).config.get()["name"] == "fromquery"


def test_unknown_node_is_hostname_lookup_failure(api):
    with pytest.raises(ResourceException) as info:
        api.nodes("pve9").qemu.get()
    assert info.value.content.startswith("hostname lookup 'pve9' failed")


def test_upid_decodes_and_is_accepted_percent_encoded(pve, api):
    upid = api.nodes(NODE).qemu.post(vmid=130, scsi0="local-lvm:1")
    decoded = Tasks.decode_upid(upid)
    assert decoded["type"] == "qmcreate"
    assert decoded["id"] == "130"
    assert decoded["user"] == "root@pam"
    assert upid.endswith(":root@pam!solti:")
    assert len(upid.split(":")) == 9
    response = _get(pve, f"/nodes/pve/tasks/{quote(upid, safe='')}/status")
    assert response.json()["data"]["upid"] == upid


def test_bad_and_unknown_upid_are_400(api):
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).tasks("nonsense").status.get()
    assert info.value.errors == {"upid": "unable to parse worker upid"}
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).tasks(
            "UPID:pve:00000001:00000001:00000001:qmstart:1:root@pam:"
        ).status.get()
    assert info.value.errors == {"upid": "no such task"}


def test_task_status_fields_for_token_tasks(api):
    upid = api.nodes(NODE).qemu.post(vmid=131, scsi0="local-lvm:1")
    status = run_ok(api, upid)
    assert status["user"] == "root@pam"
    assert status["tokenid"] == "solti"
    assert status["type"] == "qmcreate" and status["node"] == NODE
    log = api.nodes(NODE).tasks(upid).log.get()
    assert log[-1] == {"n": len(log), "t": "TASK OK"}


def test_request_log_counts_calls_and_hides_passwords(pve, api):
    create_vm(api, 140, cipassword="hunter2")
    posts = [r for r in pve.requests if r.method == "POST" and r.path == "/nodes/pve/qemu"]
    assert len(posts) == 1
    assert posts[0].status == 200
    assert posts[0].params["cipassword"] == "**********"
    assert "hunter2" not in repr(pve.requests)
