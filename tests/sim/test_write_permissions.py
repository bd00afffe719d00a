"""Every modelled write is checked by the same gate as the reads, from the schema.

pve-manager ``PVE/HTTPServer.pm`` ``rest_handler`` fills ``$uri_param`` from the path and every
query and body parameter, then runs pve-access-control ``src/PVE/RPCEnvironment.pm``
``check_api2_permissions`` with the method's ``permissions``, then proxies to the method's node,
and only then (``RESTHandler::handle`` on that node) validates the parameters and runs the
method's code, which makes its own checks (``$rpcenv->check``). Each test calls a real write
over HTTPS with proxmoxer as the API token, without and with the privilege the vendored 9.1
schema's ``check`` names, asserts PVE's status and message, and that a refusal changed
nothing; root@pam by ticket passes every test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from proxmoxer.core import ResourceException

from solti.sandbox.pve import PveSimulator
from solti.sandbox.pve.handlers.api_permissions import forms_of, method_permissions
from solti.sandbox.pve.handlers.root_only_params import ROOT_ONLY_PARAMS
from solti.sandbox.pve.routes import ROUTES
from tests.sim.conftest import GIB, NODE, grant, qcow2_image, refusal, root_login, run_ok

VM = "/nodes/{node}/qemu/{vmid}"
SNAP = f"{VM}/snapshot/{{snapname}}"
CONFIG_PRIVS = (
    "VM.Config.Disk|VM.Config.CDROM|VM.Config.CPU|VM.Config.Memory|VM.Config.Network"
    "|VM.Config.HWType|VM.Config.Options|VM.Config.Cloudinit"
)

# Writes whose ``permissions`` have no ``check``: what checks them instead, in their code.
IN_CODE_CHECKS = {
    ("POST", "/access/ticket"): "user => 'world': the credentials are the check "
    "(pve-access-control API2/AccessControl.pm create_ticket)",
    ("POST", "/nodes/{node}/qemu"): "user => 'all': qemu-server API2/Qemu.pm create_vm "
    "(state/privileges.py check_vm_create, then check_storage_access and "
    "check_vm_modify_config_perm in state/configs.py create)",
}


def world(pve: PveSimulator) -> Any:
    """What a write could change, read by root@pam: guests (with power state and lock),
    VM 100's config, its snapshots, volumes, tasks."""
    root = root_login(pve)
    guests = sorted(
        (r["vmid"], r["status"], r.get("lock"), r.get("template"))
        for r in root.cluster.resources.get(type="vm")
    )
    config = root.nodes(NODE).qemu(100).config.get() if any(g[0] == 100 for g in guests) else {}
    snaps = root.nodes(NODE).qemu(100).snapshot.get() if config else []
    volumes = sorted(
        v["volid"]
        for store in ("local", "local-lvm")
        for v in root.nodes(NODE).storage(store).content.get()
    )
    tasks = len(root.nodes(NODE).tasks.get(limit=500))
    return guests, config, snaps, volumes, tasks


def refused_unchanged(pve: PveSimulator, call: Callable[[], Any]) -> tuple[int, str]:
    before = world(pve)
    answer = refusal(call)
    assert world(pve) == before
    return answer


def check_of(method: str, template: str) -> Any:
    return (method_permissions(method, template) or {}).get("check")


def vm(api: Any, vmid: int = 100) -> Any:
    return api.nodes(NODE).qemu(vmid)


# --- ['perm', '/vms/{vmid}', [one privilege]] ----------------------------------------------


PERM_WRITES = [
    # (method, template, privilege, call on the token's client, running VM?)
    ("DELETE", VM, "VM.Allocate", lambda api: vm(api).delete(), False),
    ("POST", f"{VM}/template", "VM.Allocate", lambda api: vm(api).template.post(), False),
    (
        "PUT",
        f"{VM}/resize",
        "VM.Config.Disk",
        lambda api: vm(api).resize.put(disk="scsi0", size="+1G"),
        False,
    ),
    ("POST", f"{VM}/status/start", "VM.PowerMgmt", lambda api: vm(api).status.start.post(), False),
    ("POST", f"{VM}/status/stop", "VM.PowerMgmt", lambda api: vm(api).status.stop.post(), True),
    (
        "POST",
        f"{VM}/status/shutdown",
        "VM.PowerMgmt",
        lambda api: vm(api).status.shutdown.post(forceStop=1, timeout=1),
        True,
    ),
    (
        "POST",
        f"{VM}/snapshot",
        "VM.Snapshot",
        lambda api: vm(api).snapshot.post(snapname="s2"),
        False,
    ),
    (
        "DELETE",
        SNAP,
        "VM.Snapshot",
        lambda api: vm(api).snapshot("s1").delete(),
        False,
    ),
    (
        "PUT",
        f"{SNAP}/config",
        "VM.Snapshot",
        lambda api: vm(api).snapshot("s1").config.put(description="new words"),
        False,
    ),
]


@pytest.mark.parametrize(
    ("method", "template", "privilege", "call", "running"),
    PERM_WRITES,
    ids=[f"{m} {t.removeprefix(VM) or '/'}" for m, t, *_ in PERM_WRITES],
)
def test_perm_writes_need_their_privilege_on_the_vm(
    pve: PveSimulator,
    api: Any,
    method: str,
    template: str,
    privilege: str,
    call: Callable[[Any], Any],
    running: bool,
) -> None:
    """qemu-server ``API2/Qemu.pm`` ``destroy_vm``, ``template``, ``resize_vm``, ``vm_start``,
    ``vm_stop``, ``vm_shutdown``, ``snapshot``, ``delsnapshot``, ``update_snapshot_config``:
    ``['perm', '/vms/{vmid}', [P]]``; ``check`` names the path and the privilege."""
    assert check_of(method, template) == ["perm", "/vms/{vmid}", [privilege]]
    pve.state.add_vm(100, running=running)
    root = root_login(pve)
    if "/snapshot" in template:
        run_ok(root, vm(root).snapshot.post(snapname="s1"))
    others = [p for p in ("VM.Audit", "VM.Allocate", "VM.Config.Disk", "VM.PowerMgmt",
                          "VM.Snapshot", "VM.Clone") if p != privilege]  # fmt: skip
    grant(pve, {"/": ["Datastore.AllocateSpace", "Datastore.Audit"], "/vms/100": others})
    assert refused_unchanged(pve, lambda: call(api)) == (
        403,
        f"Permission check failed (/vms/100, {privilege})",
    )
    # on another VM the privilege does not help
    grant(pve, {"/": ["Datastore.AllocateSpace"], "/vms/101": [privilege]})
    assert refusal(lambda: call(api))[0] == 403
    grant(pve, {"/": ["Datastore.AllocateSpace"], "/vms/100": [privilege]})
    answer = call(api)
    if isinstance(answer, str) and answer.startswith("UPID:"):
        run_ok(root, answer)


def test_rollback_takes_either_snapshot_privilege(pve: PveSimulator, api: Any) -> None:
    """``rollback``: ``['perm', '/vms/{vmid}', ['VM.Snapshot', 'VM.Snapshot.Rollback'], any =>
    1]``; ``check_any`` names both. Its code adds ``VM.PowerMgmt`` when ``start`` is set."""
    assert check_of("POST", f"{SNAP}/rollback")[-2:] == ["any", 1]
    pve.state.add_vm(100)
    root = root_login(pve)
    run_ok(root, vm(root).snapshot.post(snapname="s1"))
    root.nodes(NODE).qemu(100).config.put(memory=4096)
    rollback = vm(api).snapshot("s1").rollback.post
    grant(pve, {"/vms/100": ["VM.Audit", "VM.PowerMgmt"]})
    assert refused_unchanged(pve, rollback) == (
        403,
        "Permission check failed (/vms/100, VM.Snapshot|VM.Snapshot.Rollback)",
    )
    grant(pve, {"/vms/100": ["VM.Snapshot.Rollback"]})
    assert refused_unchanged(pve, lambda: rollback(start=1)) == (
        403,
        "Permission check failed (/vms/100, VM.PowerMgmt)",
    )
    run_ok(root, rollback())
    assert root.nodes(NODE).qemu(100).config.get()["memory"] != "4096"


# --- config: ['perm', '/vms/{vmid}', [every VM.Config.*], any => 1] + the code's per option -----


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_config_needs_any_config_privilege_then_the_options_class(
    pve: PveSimulator, api: Any, method: str
) -> None:
    """``update_vm`` / ``update_vm_async``: the schema's ``check_any`` of the eight
    ``VM.Config.*`` privileges (all named on failure), then ``$update_vm_api``'s
    ``$check_vm_modify_config_perm``: ``name`` is an option of ``$generaloptions``."""
    assert check_of(method, f"{VM}/config") == [
        "perm", "/vms/{vmid}", CONFIG_PRIVS.split("|"), "any", 1,
    ]  # fmt: skip
    pve.state.add_vm(100)
    config = vm(api).config
    send = config.put if method == "PUT" else config.post
    grant(pve, {"/vms/100": ["VM.Audit", "VM.PowerMgmt", "VM.Allocate"]})
    assert refused_unchanged(pve, lambda: send(memory=4096)) == (
        403,
        f"Permission check failed (/vms/100, {CONFIG_PRIVS})",
    )
    grant(pve, {"/vms/100": ["VM.Config.Memory"]})
    assert refused_unchanged(pve, lambda: send(name="renamed")) == (
        403,
        "Permission check failed (/vms/100, VM.Config.Options)",
    )
    answer = send(memory=4096)
    if method == "POST":
        run_ok(root_login(pve), answer)
    assert root_login(pve).nodes(NODE).qemu(100).config.get()["memory"] == "4096"


# --- clone: ['and', perm VM.Clone, ['or', perm /vms/{newid}, perm /pool/{pool} require_param]] --


def test_clone_fills_newid_from_the_body(pve: PveSimulator, api: Any) -> None:
    """``clone_vm``: the ``and`` fails with its first failing test's message; the ``or``'s
    ``/vms/{newid}`` is filled from the POST body (``$uri_param`` holds every parameter) and
    ``/pool/{pool}`` is skipped without ``pool`` (``require_param``), so the ``or`` fails
    bare. The code then checks ``Datastore.AllocateSpace`` per disk
    (``$check_storage_access_clone``)."""
    assert check_of("POST", f"{VM}/clone")[0] == "and"
    pve.state.add_template(9000, "tpl")
    clone = vm(api, 9000).clone.post
    grant(pve, {"/": ["Datastore.AllocateSpace", "SDN.Use"], "/vms/500": ["VM.Allocate"]})
    assert refused_unchanged(pve, lambda: clone(newid=500)) == (
        403,
        "Permission check failed (/vms/9000, VM.Clone)",
    )
    grant(pve, {"/": ["Datastore.AllocateSpace", "SDN.Use"], "/vms/9000": ["VM.Clone"],
                "/vms/501": ["VM.Allocate"]})  # fmt: skip
    assert refused_unchanged(pve, lambda: clone(newid=500)) == (403, "Permission check failed")
    grant(pve, {"/": ["SDN.Use"], "/vms/9000": ["VM.Clone"], "/vms/500": ["VM.Allocate"]})
    assert refused_unchanged(pve, lambda: clone(newid=500)) == (
        403,
        "Permission check failed (/storage/local-lvm, Datastore.AllocateSpace)",
    )
    grant(pve, {"/": ["Datastore.AllocateSpace", "SDN.Use"], "/vms/9000": ["VM.Clone"],
                "/vms/500": ["VM.Allocate"]})  # fmt: skip
    run_ok(root_login(pve), clone(newid=500, name="copy"))
    assert root_login(pve).nodes(NODE).qemu(500).config.get()["name"] == "copy"


def test_clone_fills_newid_from_a_json_body(pve: PveSimulator) -> None:
    """``AnyEvent.pm`` ``extract_params`` decodes a JSON body into the same parameters; the
    number ``500`` fills ``/vms/{newid}`` as Perl prints it (``template_replace``)."""
    pve.state.add_template(9000, "tpl")
    grant(pve, {"/": ["Datastore.AllocateSpace", "SDN.Use"], "/vms/9000": ["VM.Clone"],
                "/vms/501": ["VM.Allocate"]})  # fmt: skip
    url = f"{pve.url}/api2/json/nodes/{NODE}/qemu/9000/clone"
    headers = {"Authorization": f"PVEAPIToken={pve.token_id}={pve.token_secret}"}

    def post(newid: int) -> requests.Response:
        return requests.post(url, json={"newid": newid}, headers=headers,
                             verify=pve.ca_path, timeout=5)  # fmt: skip

    before = world(pve)
    refused = post(500)
    assert (refused.status_code, refused.json()["message"]) == (
        403,
        "Permission check failed\n",
    )
    assert world(pve) == before
    answer = post(501)
    assert answer.status_code == 200
    run_ok(root_login(pve), answer.json()["data"])


# --- download-url: ['and', perm storage, ['or', perm / [Sys.Audit, Sys.Modify], perm node]] ---


def test_download_url_is_the_schemas_and_of_an_or(pve: PveSimulator, api: Any) -> None:
    """pve-storage ``API2/Storage/Status.pm`` ``download_url``: the ``or`` the simulator once
    hand-wrote is in the 9.1 schema; its first alternative needs both ``Sys.Audit`` and
    ``Sys.Modify`` (``check``, not ``check_any``)."""
    template = "/nodes/{node}/storage/{storage}/download-url"
    assert check_of("POST", template)[2][1] == ["perm", "/", ["Sys.Audit", "Sys.Modify"]]
    download = api.nodes(NODE).storage("local")("download-url").post

    def call() -> Any:
        return download(url="http://127.0.0.1:9/a.qcow2", filename="a.qcow2", content="import")

    grant(pve, {"/": ["Sys.Audit", "Sys.Modify"], "/storage/local": ["Datastore.Audit"]})
    assert refused_unchanged(pve, call) == (
        403,
        "Permission check failed (/storage/local, Datastore.AllocateTemplate)",
    )
    grant(pve, {"/": ["Sys.Modify", "Datastore.AllocateTemplate"]})
    assert refused_unchanged(pve, call) == (403, "Permission check failed")
    grant(pve, {"/": ["Datastore.AllocateTemplate"], f"/nodes/{NODE}": ["Sys.AccessNetwork"]})
    assert call().startswith("UPID:")
    grant(pve, {"/": ["Sys.Audit", "Sys.Modify", "Datastore.AllocateTemplate"]})
    assert call().startswith("UPID:")


# --- create_vm: user => 'all', every check in its code ------------------------------------


def test_create_checks_in_its_code_in_perl_order(pve: PveSimulator, api: Any) -> None:
    """qemu-server ``API2/Qemu.pm`` ``create_vm`` (``user => 'all'``, "check inside"):
    ``check_pool_exist``, ``Datastore.AllocateSpace`` on ``storage``, ``VM.PowerMgmt`` for
    ``start``, then ``VM.Allocate`` on ``/vms/{vmid}`` with ``noerr`` and a bare
    ``raise_perm_exc()``, then each option's class."""
    assert method_permissions("POST", "/nodes/{node}/qemu")["user"] == "all"
    create = api.nodes(NODE).qemu.post
    grant(pve, {"/": ["Datastore.AllocateSpace", "SDN.Use"], "/vms/101": ["VM.Allocate"]})
    assert refused_unchanged(pve, lambda: create(vmid=100, pool="web")) == (
        403,
        "Permission check failed (pool 'web' does not exist)",
    )
    assert refused_unchanged(pve, lambda: create(vmid=100, scsi0="local-lvm:1")) == (
        403,
        "Permission check failed",
    )
    grant(pve, {"/vms/100": ["VM.Allocate"]})
    assert refused_unchanged(pve, lambda: create(vmid=100, storage="local-lvm")) == (
        403,
        "Permission check failed (/storage/local-lvm, Datastore.AllocateSpace)",
    )
    assert refused_unchanged(pve, lambda: create(vmid=100, start=1)) == (
        403,
        "Permission check failed (/vms/100, VM.PowerMgmt)",
    )
    assert refused_unchanged(pve, lambda: create(vmid=100, memory=2048)) == (
        403,
        "Permission check failed (/vms/100, VM.Config.Memory)",
    )
    grant(pve, {"/vms/100": ["VM.Allocate", "VM.Config.Memory"]})
    run_ok(root_login(pve), create(vmid=100, memory=2048))
    assert root_login(pve).nodes(NODE).qemu(100).config.get()["memory"] == "2048"


def test_create_checks_storage_then_options_then_bridges(pve: PveSimulator, api: Any) -> None:
    """``create_vm`` after ``VM.Allocate``: ``$check_storage_access`` (the new disk's storage,
    then pve-storage ``check_volume_access`` of the ``import-from`` source: an ``import``
    volume needs ``Datastore.AllocateSpace`` or ``Datastore.Audit``), then
    ``$check_vm_modify_config_perm``, then ``check_bridge_access`` (``SDN.Use``)."""
    pve.state.add_import_image("a.qcow2", qcow2_image(GIB))
    create = api.nodes(NODE).qemu.post
    params = {
        "vmid": 100,
        "scsi0": "local-lvm:0,import-from=local:import/a.qcow2",
        "net0": "virtio,bridge=vmbr0",
    }
    grant(pve, {"/vms/100": ["VM.Allocate", "VM.Config.Network"]})
    assert refused_unchanged(pve, lambda: create(**params)) == (
        403,
        "Permission check failed (/storage/local-lvm, Datastore.AllocateSpace)",
    )
    grant(pve, {"/vms/100": ["VM.Allocate"], "/storage/local-lvm": ["Datastore.AllocateSpace"]})
    assert refused_unchanged(pve, lambda: create(**params)) == (
        403,
        "Permission check failed (/storage/local, Datastore.AllocateSpace|Datastore.Audit)",
    )
    grant(pve, {"/vms/100": ["VM.Allocate"], "/storage": ["Datastore.AllocateSpace"]})
    assert refused_unchanged(pve, lambda: create(**params)) == (
        403,
        "Permission check failed (/vms/100, VM.Config.Network)",
    )
    grant(pve, {"/vms/100": ["VM.Allocate", "VM.Config.Network"],
                "/storage": ["Datastore.AllocateSpace"]})  # fmt: skip
    assert refused_unchanged(pve, lambda: create(**params)) == (
        403,
        "Permission check failed (/sdn/zones/localnetwork/vmbr0, SDN.Use)",
    )
    grant(pve, {"/vms/100": ["VM.Allocate", "VM.Config.Network"],
                "/storage": ["Datastore.AllocateSpace"],
                "/sdn/zones/localnetwork/vmbr0": ["SDN.Use"]})  # fmt: skip
    run_ok(root_login(pve), create(**params))
    assert root_login(pve).nodes(NODE).qemu(100).config.get()["net0"].endswith("bridge=vmbr0")


def test_create_refuses_the_host_cdrom_and_paths_to_the_token(pve: PveSimulator, api: Any) -> None:
    """``$check_storage_access``: the host's CD-ROM drive needs ``Sys.Console`` on ``/``;
    pve-storage ``check_volume_access`` of a path (no storage) dies unless root@pam (Perl
    adds " at .../Storage.pm line N." to that ``die``; the simulator leaves the place out)."""
    create = api.nodes(NODE).qemu.post
    grant(pve, {"/vms/100": ["VM.Allocate", "VM.Config.CDROM", "VM.Config.Disk"]})
    assert refused_unchanged(pve, lambda: create(vmid=100, ide2="cdrom,media=cdrom")) == (
        403,
        "Permission check failed (/, Sys.Console)",
    )
    grant(pve, {"/vms/100": ["VM.Allocate"], "/storage": ["Datastore.AllocateSpace"]})
    assert refused_unchanged(
        pve, lambda: create(vmid=100, scsi0="local-lvm:0,import-from=/root/a.qcow2")
    ) == (500, "Only root can pass arbitrary filesystem paths.")


# --- where in the pipeline ------------------------------------------------------------------


def test_permissions_come_before_validation_and_proxying(pve: PveSimulator, api: Any) -> None:
    """``rest_handler``: ``check_api2_permissions`` before the proxy to the method's node,
    which validates (``handle``): a refused token learns nothing of its parameters, and a
    request for an offline node fails with the proxy's 595 whatever its parameters."""
    pve.state.add_vm(100)
    config = vm(api).config.put
    grant(pve, {"/vms/100": ["VM.Audit"]})
    assert refusal(lambda: config(memory="lots")) == (
        403,
        f"Permission check failed (/vms/100, {CONFIG_PRIVS})",
    )
    grant(pve, {"/vms/100": ["VM.Config.Memory"]})
    status, _ = refusal(lambda: config(memory="lots"))
    assert status == 400
    pve.state.add_vm(200, node="pve2")
    pve.node_offline("pve2")
    grant(pve, {"/vms/200": ["VM.Audit"]})
    assert refusal(api.nodes("pve2").qemu(200).status.start.post)[0] == 403
    grant(pve, {"/vms/200": ["VM.PowerMgmt"]})
    assert refusal(lambda: api.nodes("pve2").qemu(200).status.start.post(timeout="soon"))[0] == 595


def test_a_conflicting_path_parameter_is_refused_before_the_check(
    pve: PveSimulator, api: Any
) -> None:
    """``rest_handler``: a body parameter naming a path parameter with another value is a
    400 before ``check_api2_permissions``, so it cannot steer the checked path."""
    pve.state.add_vm(100)
    grant(pve, {"/vms/101": ["VM.PowerMgmt"]})
    with pytest.raises(ResourceException) as caught:
        vm(api).status.start.post(vmid=101)
    assert caught.value.status_code == 400
    assert caught.value.errors == {
        "vmid": "duplicate parameter (already defined in URI) with conflicting values!"
    }
    assert world(pve)[0] == [(100, "stopped", None, 0)]


def test_root_only_parameters_are_refused_to_the_token(pve: PveSimulator, api: Any) -> None:
    """qemu-server ``API2/Qemu.pm`` ``vm_stop`` (and ``destroy_vm``, ``resize_vm``,
    ``vm_start``, ``vm_shutdown``, ``$update_vm_api``): ``raise_param_exc({ skiplock =>
    "Only root may use this option." }) if $skiplock && $authuser ne 'root@pam'``: the API
    token of root is not root@pam; root's ticket passes."""
    pve.state.add_vm(100, running=True)
    with pytest.raises(ResourceException) as caught:
        vm(api).status.stop.post(skiplock=1)
    assert caught.value.status_code == 400
    assert caught.value.errors == {"skiplock": "Only root may use this option."}
    assert world(pve)[0] == [(100, "running", None, 0)]
    root = root_login(pve)
    run_ok(root, vm(root).status.stop.post(skiplock=1))
    assert world(pve)[0] == [(100, "stopped", None, 0)]


def test_root_ticket_passes_every_write_check(pve: PveSimulator) -> None:
    """``check_api2_permissions`` returns for root@pam before any test, and
    ``RPCEnvironment.pm`` ``permissions`` gives root every privilege in the method's own
    checks too (``create_vm``'s ``VM.Allocate``)."""
    grant(pve, {"/": []})
    root = root_login(pve)
    run_ok(root, root.nodes(NODE).qemu.post(vmid=100, scsi0="local-lvm:1", memory=1024))
    root.nodes(NODE).qemu(100).config.put(name="mine")
    run_ok(root, root.nodes(NODE).qemu(100).clone.post(newid=101))
    assert [g[0] for g in world(pve)[0]] == [100, 101]


# --- the schema walk ----------------------------------------------------------------------


def test_every_modelled_write_has_a_check_the_gate_knows_or_a_named_in_code_check() -> None:
    """Each POST/PUT/DELETE of ``routes.ROUTES``: its ``permissions`` ``check`` is made of
    forms ``exec_api2_perm_check`` interprets, or it has none and ``IN_CODE_CHECKS`` names
    where its own code checks; every root-only parameter table entry is a modelled write."""
    writes = [(m, t) for m, t in ROUTES if m != "GET"]
    seen: set[str] = set()
    for method, template in writes:
        permissions = method_permissions(method, template)
        assert permissions is not None, f"{method} {template}: no permissions (root only)"
        check = permissions.get("check")
        if check:
            assert (method, template) not in IN_CODE_CHECKS
            seen |= forms_of(check)
        else:
            assert permissions.get("user") in ("all", "world"), f"{method} {template}"
            assert (method, template) in IN_CODE_CHECKS, f"{method} {template}"
    assert seen == {"perm", "perm-any", "and", "or"}
    assert set(IN_CODE_CHECKS) <= set(writes)
    assert set(ROOT_ONLY_PARAMS) <= set(writes)
