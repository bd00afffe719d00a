"""Authentication as pveproxy answers it: tokens, tickets, CSRF, permissions."""

from __future__ import annotations

import pytest
import requests
from proxmoxer import AuthenticationError, ResourceException

from tests.sim.conftest import NODE, root_login


def _raw(pve, method: str, path: str, headers: dict[str, str], **kw) -> requests.Response:
    return requests.request(
        method, f"{pve.url}/api2/json{path}", headers=headers, verify=pve.ca_path, timeout=5, **kw
    )


def test_missing_credentials_is_401_no_ticket_with_empty_body(pve):
    response = _raw(pve, "GET", "/nodes", {})
    assert response.status_code == 401
    assert response.reason == "No ticket"
    assert response.content == b""


def test_wrong_token_secret_is_401(pve):
    header = {"Authorization": f"PVEAPIToken={pve.token_id}=00000000-0000-0000-0000-000000000000"}
    response = _raw(pve, "GET", "/nodes", header)
    assert response.status_code == 401
    assert response.reason == "Authentication failed!"


def test_token_header_split_at_last_equals_and_unescaped(pve):
    token_id = pve.token_id.replace("!", "%21")
    response = _raw(
        pve, "GET", "/version", {"Authorization": f"PVEAPIToken={token_id}={pve.token_secret}"}
    )
    assert response.status_code == 200


def test_token_without_realm_is_rejected(pve):
    response = _raw(
        pve, "GET", "/version", {"Authorization": f"PVEAPIToken=root!solti={pve.token_secret}"}
    )
    assert response.status_code == 401


def test_proxmoxer_wrong_secret_raises_401(pve):
    client = pve.client(token_value="wrong")
    with pytest.raises(ResourceException) as info:
        client.nodes.get()
    assert info.value.status_code == 401


def test_password_login_gets_ticket_and_csrf_for_writes(pve):
    client = root_login(pve)
    assert client.version.get()["release"] == "9.1"
    upid = client.nodes(NODE).qemu.post(vmid=150, scsi0="local-lvm:1")
    assert ":root@pam:" in upid


def test_ticket_shape(pve):
    response = _raw(
        pve, "POST", "/access/ticket", {}, data={"username": "root@pam", "password": pve.password}
    )
    data = response.json()["data"]
    assert data["username"] == "root@pam"
    assert data["ticket"].startswith("PVE:root@pam:")
    assert "::" in data["ticket"]
    stamp, _, signature = data["CSRFPreventionToken"].partition(":")
    assert len(stamp) == 8 and signature


def test_ticket_write_without_csrf_is_401(pve):
    ticket = _raw(
        pve, "POST", "/access/ticket", {}, data={"username": "root@pam", "password": pve.password}
    ).json()["data"]
    cookie = {"Cookie": f"PVEAuthCookie={ticket['ticket']}"}
    assert _raw(pve, "GET", "/nodes", cookie).status_code == 200
    response = _raw(pve, "POST", "/nodes/pve/qemu", cookie, data={"vmid": "151"})
    assert response.status_code == 401
    assert response.reason == "Permission denied - invalid csrf token"
    with_csrf = {**cookie, "CSRFPreventionToken": ticket["CSRFPreventionToken"]}
    assert _raw(pve, "POST", "/nodes/pve/qemu", with_csrf, data={"vmid": "151"}).status_code == 200


def test_bad_password_is_401_authentication_failure_with_body(pve):
    response = _raw(
        pve, "POST", "/access/ticket", {}, data={"username": "root@pam", "password": "nope"}
    )
    assert response.status_code == 401
    assert response.reason == "authentication failure"
    assert response.json() == {"data": None, "message": "authentication failure\n"}
    with pytest.raises(AuthenticationError):
        root_login(pve, "nope")


def test_permissions_default_and_configurable(pve, api):
    assert api.access.permissions.get()["/"]["VM.Allocate"] == 1
    pve.state.set_token_privileges("/", {"VM.Audit": 1})
    perms = api.access.permissions.get(path="/vms/100")
    assert perms == {"/vms/100": {"VM.Audit": 1}}


def test_privileges_propagate_only_with_1(pve, api):
    pve.state.set_token_privileges("/vms", {"VM.Allocate": 0, "VM.Audit": 1})
    assert api.access.permissions.get(path="/vms") == {"/vms": {"VM.Allocate": 0, "VM.Audit": 1}}
    assert api.access.permissions.get(path="/vms/100") == {"/vms/100": {"VM.Audit": 1}}


def test_missing_privilege_is_403(pve, api):
    pve.state.add_template(9000, "tpl")
    pve.state.set_token_privileges("/vms", {"VM.Allocate": 1, "VM.Audit": 1})
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(9000).clone.post(newid=500)
    assert info.value.status_code == 403
    assert info.value.content == "Permission check failed (/vms/9000, VM.Clone)"
