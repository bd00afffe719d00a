"""Every GET is checked by one gate, from the schema's ``permissions``, before its handler runs.

pve-access-control ``src/PVE/RPCEnvironment.pm`` ``check_api2_permissions`` ->
``exec_api2_perm_check`` (run by pve-manager ``PVE/HTTPServer.pm`` ``rest_handler``); the
simulator's gate is ``handlers/api_permissions.py``. Each test takes a real GET path whose
vendored 9.1 schema has the form under test, calls it over HTTPS with proxmoxer as the API
token with and without the privilege, and as root@pam (a ticket), which passes every test.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from proxmoxer.core import ResourceException

from solti.sandbox.pve import PveSimulator, path_catalog
from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.auth import Identity
from solti.sandbox.pve.handlers.api_permissions import (
    UnknownCheck,
    check_api2_permissions,
    forms_of,
    method_permissions,
)
from solti.sandbox.pve.state.access import Access
from tests.sim.conftest import NODE, grant, refusal, root_login

TOKEN = Identity("root@pam", "solti")


def check_of(path: str) -> Any:
    return (method_permissions("GET", path) or {}).get("check")


def test_perm_names_the_first_missing_privilege_on_the_filled_path(
    pve: PveSimulator, api: Any
) -> None:
    """``['perm', '/nodes/{node}', ['Sys.Syslog']]`` (pve-manager ``API2/Nodes.pm``
    ``syslog``): ``check`` raises "(<path>, <priv>)" with ``{node}`` filled in."""
    assert check_of("/nodes/{node}/syslog") == ["perm", "/nodes/{node}", ["Sys.Syslog"]]
    syslog = api.nodes(NODE).syslog.get
    grant(pve, {"/": ["Sys.Audit"]})
    assert refusal(syslog) == (403, f"Permission check failed (/nodes/{NODE}, Sys.Syslog)")
    grant(pve, {"/": ["Sys.Audit"], f"/nodes/{NODE}": ["Sys.Syslog"]})
    assert isinstance(syslog(), list)
    # on another node the ACL entry of this one does not help
    other = api.nodes("pve2").syslog.get
    assert refusal(other) == (403, "Permission check failed (/nodes/pve2, Sys.Syslog)")
    assert isinstance(root_login(pve).nodes("pve2").syslog.get(), list)


def test_perm_of_a_modelled_route_is_the_same_gate(pve: PveSimulator, api: Any) -> None:
    """qemu-server ``API2/Qemu.pm`` ``vm_config``: ``['perm', '/vms/{vmid}', ['VM.Audit']]``,
    for a route the simulator models (``routes.ROUTES``) as for any other read."""
    pve.state.add_vm(100)
    pve.state.access.set_token_privileges("/vms/100", {"VM.PowerMgmt": 1})
    config = api.nodes(NODE).qemu(100).config.get
    assert refusal(config) == (403, "Permission check failed (/vms/100, VM.Audit)")
    assert root_login(pve).nodes(NODE).qemu(100).config.get()["scsi0"]


def test_perm_any_names_every_privilege(pve: PveSimulator, api: Any) -> None:
    """pve-storage ``API2/Storage/Status.pm`` ``read_status``: ``['perm', '/storage/{storage}',
    ['Datastore.Audit', 'Datastore.AllocateSpace'], any => 1]``; ``check_any`` names all."""
    path = "/nodes/{node}/storage/{storage}/status"
    assert check_of(path)[-2:] == ["any", 1]
    status = api.nodes(NODE).storage("local").status.get
    grant(pve, {"/": ["Sys.Audit"]})
    assert refusal(status) == (
        403,
        "Permission check failed (/storage/local, Datastore.Audit|Datastore.AllocateSpace)",
    )
    grant(pve, {"/": ["Sys.Audit"], "/storage/local": ["Datastore.AllocateSpace"]})
    assert status()["total"] > 0


def test_and_fails_with_the_message_of_its_failing_test(pve: PveSimulator, api: Any) -> None:
    """pve-network ``Fabrics/FabricNode.pm`` ``get_node``: ``['and', ['perm',
    '/sdn/fabrics/{fabric_id}', [SDN.Audit, SDN.Allocate], any => 1], ['perm',
    '/nodes/{node_id}', [Sys.Audit, Sys.Modify], any => 1]]``; ``and`` runs each test without
    ``noerr``, so the first failing one raises its own message."""
    assert check_of("/cluster/sdn/fabrics/node/{fabric_id}/{node_id}")[0] == "and"
    read = api.cluster.sdn.fabrics.node("f1")(NODE).get
    grant(pve, {"/nodes": ["Sys.Audit"]})
    assert refusal(read) == (
        403,
        "Permission check failed (/sdn/fabrics/f1, SDN.Audit|SDN.Allocate)",
    )
    grant(pve, {"/sdn/fabrics/f1": ["SDN.Audit"]})
    assert refusal(read) == (403, f"Permission check failed (/nodes/{NODE}, Sys.Audit|Sys.Modify)")
    grant(pve, {"/sdn/fabrics/f1": ["SDN.Audit"], "/nodes": ["Sys.Modify"]})
    # both pass: the handler runs (no fabric configured)
    assert refusal(read) == (500, "fabric 'f1' does not exist in configuration")


def test_or_passes_on_any_alternative_and_fails_bare(pve: PveSimulator, api: Any) -> None:
    """pve-storage ``API2/Disks.pm`` ``list``: ``['or', ['perm', '/', ['Sys.Audit']], ['perm',
    '/nodes/{node}', ['Sys.Audit']]]``; each alternative runs with ``noerr``, and none passing
    is the bare ``raise_perm_exc()``."""
    assert check_of("/nodes/{node}/disks/list")[0] == "or"
    disks = api.nodes(NODE).disks.list.get
    grant(pve, {"/": ["Sys.Modify"]})
    assert refusal(disks) == (403, "Permission check failed")
    grant(pve, {f"/nodes/{NODE}": ["Sys.Audit"]})
    assert [d["devpath"] for d in disks()]


def test_or_of_an_all_of_perm(pve: PveSimulator, api: Any) -> None:
    """pve-manager ``API2/Nodes.pm`` ``query_url_metadata``: ``['or', ['perm', '/', ['Sys.Audit',
    'Sys.Modify']], ['perm', '/nodes/{node}', ['Sys.AccessNetwork']]]``: the first alternative
    needs both privileges (``check``, not ``check_any``)."""
    query = api.nodes(NODE)("query-url-metadata").get
    grant(pve, {"/": ["Sys.Audit"]})
    assert refusal(lambda: query(url="http://127.0.0.1:9/a.iso")) == (
        403,
        "Permission check failed",
    )
    grant(pve, {"/": ["Sys.Audit", "Sys.Modify"]})
    with pytest.raises(ResourceException) as caught:
        query(url="http://127.0.0.1:9/a.iso")
    # past the gate: the handler's own error for a URL nothing listens on
    assert caught.value.status_code == 500
    assert caught.value.content.startswith("invalid server response: ")


def test_userid_group_needs_the_user_then_the_privilege(pve: PveSimulator, api: Any) -> None:
    """pve-access-control ``API2/User.pm`` ``read_user``: ``['userid-group', ['User.Modify',
    'Sys.Audit']]``: ``check_user_exist`` dies (500) for an unknown user; an existing one
    needs a privilege on ``/access/groups`` (the simulator has no groups to grant it by)."""
    assert check_of("/access/users/{userid}") == ["userid-group", ["User.Modify", "Sys.Audit"]]
    grant(pve, {"/": ["Sys.Modify"]})
    assert refusal(api.access.users("nobody@pve").get) == (500, "no such user ('nobody@pve')")
    assert refusal(api.access.users("root@pam").get) == (403, "Permission check failed")
    grant(pve, {"/access/groups": ["Sys.Audit"]})
    assert api.access.users("root@pam").get()["enable"] == 1


def test_userid_param_self_is_never_a_token(pve: PveSimulator, api: Any) -> None:
    """``API2/User.pm`` ``read_token``: ``['or', ['userid-param', 'self'], ['userid-group',
    ['User.Modify']]]``. A token's user name is the token id, so ``self`` never matches, even
    on its own user; ``userid-param`` calls ``verify_username`` without ``noerr``, so a name
    that is no user name dies (500) inside the ``or``."""
    token = pve.token_id.split("!")[1]
    read = api.access.users("root@pam").token(token).get
    grant(pve, {"/": ["Sys.Audit"]})
    assert refusal(read) == (403, "Permission check failed")
    assert refusal(api.access.users("xy").token.get) == (500, "user name 'xy' is too short")
    grant(pve, {"/access/groups": ["User.Modify"]})
    assert read() == {"expire": 0, "privsep": 1}
    assert root_login(pve).access.users("root@pam").token(token).get()["privsep"] == 1


def test_user_all_admits_any_token(pve: PveSimulator, api: Any) -> None:
    """pve-manager ``API2/Nodes.pm`` (``/nodes``) and ``PVE/API2.pm`` ``version``: ``user =>
    'all'``; a method of that kind checks (or filters) in its own code, e.g. qemu-server
    ``vmlist`` keeps the guests the token may ``VM.Audit``."""
    assert method_permissions("GET", "/version") == {"user": "all"}
    pve.state.add_vm(100)
    grant(pve, {"/": []})
    assert api.version.get()["release"]
    assert api.nodes(NODE).qemu.get() == []
    grant(pve, {"/vms/100": ["VM.Audit"]})
    assert [vm["vmid"] for vm in api.nodes(NODE).qemu.get()] == [100]


def test_user_world_needs_no_credentials(pve: PveSimulator, api: Any) -> None:
    """pve-access-control ``API2/Domains.pm`` ``index``: ``user => 'world'``, read by the login
    form before anyone logs in (pve-manager ``HTTPServer.pm`` ``auth_handler`` skips the
    authentication of ``GET /access/domains``)."""
    assert method_permissions("GET", "/access/domains")["user"] == "world"
    grant(pve, {"/": []})
    realms = [r["realm"] for r in api.access.domains.get()]
    assert realms == ["pam", "pve"]
    url = f"https://{pve.host}:{pve.port}/api2/json/access/domains"
    answer = requests.get(url, verify=pve.ca_path, timeout=5)
    assert answer.status_code == 200
    assert [r["realm"] for r in answer.json()["data"]] == realms
    guarded = requests.get(url.replace("access/domains", "version"), verify=pve.ca_path, timeout=5)
    assert guarded.status_code == 401


def test_no_permissions_is_root_only(pve: PveSimulator, api: Any) -> None:
    """pve-manager ``API2/Cluster/BackupInfo.pm`` ``index`` declares no ``permissions``:
    ``check_api2_permissions`` admits root@pam, then raises "user != root@pam"."""
    assert method_permissions("GET", "/cluster/backup-info") is None
    assert refusal(api.cluster("backup-info").get) == (
        403,
        "Permission check failed (user != root@pam)",
    )
    assert root_login(pve).cluster("backup-info").get() == [{"subdir": "not-backed-up"}]


def test_root_ticket_passes_every_test(pve: PveSimulator) -> None:
    """``check_api2_permissions``: ``return 1 if $username eq 'root@pam'`` before any test,
    whatever the token's ACL says."""
    grant(pve, {"/": []})
    root = root_login(pve)
    assert isinstance(root.nodes(NODE).syslog.get(), list)
    assert root.nodes(NODE).storage("local").status.get()["total"] > 0
    assert root.access.users("root@pam").get()["enable"] == 1


# --- the gate itself, without a server ---------------------------------------------------


def gate(permissions: Any, acl: dict[str, list[str]], **params: Any) -> None:
    access = Access()
    access.replace_acl(acl)
    check_api2_permissions(permissions, TOKEN, access, params)


def test_description_only_permissions_refuse_tokens() -> None:
    """``check_api2_permissions``: a ``permissions`` hash with neither ``user`` nor ``check``
    ends in the bare ``raise_perm_exc()`` for every user but root@pam (no 9.1 GET has one)."""
    with pytest.raises(PveError) as caught:
        gate({"description": "checked in the code"}, {"/": ["Sys.Audit"]})
    assert (caught.value.status, caught.value.message) == (403, "Permission check failed\n")


def test_an_unknown_form_fails_closed() -> None:
    """A test the gate does not interpret never lets a read through (PVE dies "unknown
    permission test"; the simulator answers 403 and names it)."""
    for check in (
        ["perm-sudo", "/", ["Sys.Audit"]],
        ["or", ["perm", "/", ["Sys.Audit"], "maybe", 1]],
        ["userid-param", "anyone"],
    ):
        with pytest.raises(PveError) as caught:
            gate({"check": check}, {"/": ["Sys.Audit"]}, userid="root@pam")
        assert caught.value.status == 403
        assert "unsupported permission check" in caught.value.message
        with pytest.raises(UnknownCheck):
            forms_of(check)


def test_template_placeholders_missing_or_false_become_a_dash() -> None:
    """pve-common ``Tools.pm`` ``template_replace``: ``$data->{$3} || '-'``, so a missing
    parameter checks ``/nodes/-`` (pve-manager ``ACMEAccount.pm`` ``get_meta`` declares
    ``/nodes/{node}`` without a ``node`` parameter)."""
    with pytest.raises(PveError) as caught:
        gate({"check": ["perm", "/nodes/{node}", ["Sys.Audit"]]}, {"/nodes/pve": ["Sys.Audit"]})
    assert caught.value.message == "Permission check failed (/nodes/-, Sys.Audit)\n"
    gate({"check": ["perm", "/nodes/{node}", ["Sys.Audit"]]}, {"/nodes/-": ["Sys.Audit"]})


def test_every_get_of_the_schema_has_a_form_the_gate_knows() -> None:
    """Walks every GET of the vendored schema: each ``check`` is made of forms the gate
    interprets (no silent pass); the forms the tests above exercise all occur."""
    seen: set[str] = set()
    kinds: set[str] = set()
    for path in path_catalog.get_paths():
        permissions = method_permissions("GET", path)
        if permissions is None:
            kinds.add("none")
            continue
        if permissions.get("user") in ("all", "world"):
            kinds.add(permissions["user"])
            continue
        assert permissions.get("check"), f"GET {path}: neither user nor check"
        seen |= forms_of(permissions["check"])
    assert kinds == {"none", "all", "world"}
    assert seen == {"perm", "perm-any", "and", "or", "userid-param", "userid-group"}


# --- root@pam's own privileges inside a method's code ------------------------------------


def test_a_root_ticket_sees_what_the_token_may_not(pve: PveSimulator, api: Any) -> None:
    """qemu-server ``API2/Qemu.pm`` ``vmlist`` filters by ``$rpcenv->check($authuser,
    "/vms/$vmid", ['VM.Audit'], 1)``; for root@pam ``RPCEnvironment.pm`` ``permissions``
    gives every privilege, so root's list is whole while the token's is empty."""
    pve.state.add_vm(100)
    grant(pve, {"/": []})
    assert api.nodes(NODE).qemu.get() == []
    assert [vm["vmid"] for vm in root_login(pve).nodes(NODE).qemu.get()] == [100]
    assert api.nodes(NODE).qemu.get() == []  # the token's view is unchanged afterwards


def test_access_permissions_answers_for_the_user_asked_about(pve: PveSimulator, api: Any) -> None:
    """pve-access-control ``API2/AccessControl.pm`` ``permissions``: the caller's own by
    default, root@pam's are every privilege on ``/``, a token's are its ACL; another user's
    need ``Sys.Audit`` on ``/access`` ("Permission check failed (/access, Sys.Audit)")."""
    grant(pve, {"/vms": ["VM.Audit"]})
    root = root_login(pve)
    assert api.access.permissions.get() == {"/vms": {"VM.Audit": 1}}
    everything = root.access.permissions.get()
    assert list(everything) == ["/"] and everything["/"]["Sys.Audit"] == 1
    assert len(everything["/"]) == len(Access().permissions_for("/")["/"])
    assert root.access.permissions.get(userid=pve.token_id) == {"/vms": {"VM.Audit": 1}}
    assert root.access.permissions.get(userid=pve.token_id, path="/vms/100") == {
        "/vms/100": {"VM.Audit": 1}
    }
    assert refusal(lambda: api.access.permissions.get(userid="root@pam")) == (
        403,
        "Permission check failed (/access, Sys.Audit)",
    )
    assert root.access.permissions.get(userid="alice@pve") == {}


def test_access_acl_lists_the_token_entries_to_root_too(pve: PveSimulator) -> None:
    """``/access/acl`` (``read_acl``) lists the ACL as configured, whoever asks: root@pam's
    every privilege is not an ACL entry."""
    grant(pve, {"/vms": ["VM.Audit"]})
    rows = root_login(pve).access.acl.get()
    assert {(row["path"], row["ugid"]) for row in rows} == {("/vms", pve.token_id)}
