"""GET paths of the PVE 9.1 schema answer with data their ``returns`` schema accepts.

Every GET path is routed (issue 11), walked and validated.

Read-only clients (exporters, inventory, service discovery) walk far more of the API than the
product does; a 501 there ends their run. The paths are the whole official schema
(``data/apidata.json.gz``), filled with the simulator's own node, VM, storage and task ids.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
import requests

from solti.sandbox.pve import PveSimulator, path_catalog
from solti.sandbox.pve.handlers.absent_features import ABSENT_FEATURES
from solti.sandbox.pve.handlers.reads import MODELLED_IDS, read_handler
from solti.sandbox.pve.routes import ROUTES
from tests.sim import get_walk
from tests.sim.conftest import NODE, run_ok
from tests.sim.returns_schema import to_json_schema

VMID = 100


def _ids(template: str) -> set[str]:
    return set(re.findall(r"\{([^}]+)\}", template))


def walkable() -> list[str]:
    """GET paths whose ids the simulator models (its node, VM, storage, task)."""
    return [
        p for p in path_catalog.get_paths() if _ids(p) <= MODELLED_IDS and "/lxc/{vmid}" not in p
    ]


# Ids the simulator does not model, filled so PVE's own parameter checks pass and the handler
# itself answers (a missing firewall rule, an unknown SDN zone); an area may override one
# template's values in ``get_walk.SAMPLE_IDS``.
DEFAULT_IDS = {
    "id": "solti-missing", "name": "solti-missing", "group": "solti-missing", "pos": "0",
    "cidr": "192.0.2.0/24", "sid": "vm:999", "rule": "solti-missing", "flag": "noout",
    "vnet": "soltimis", "subnet": "192.0.2.0-24", "zone": "soltimis", "controller": "soltimis",
    "ipam": "pve", "dns": "soltimis", "fabric": "soltimis", "fabric_id": "soltimis",
    "node_id": "pve", "osdid": "0", "service": "pveproxy", "iface": "vmbr0",
    "pci-id-or-mapping": "0000:00:02.0", "volume": "local:iso/missing.iso",
    "snapname": "missing", "userid": "root@pam", "tokenid": "solti-missing",
    "groupid": "solti-missing", "realm": "pam", "poolid": "solti-missing",
    "roleid": "PVEAuditor",
}  # fmt: skip


def fill(template: str, seeded: dict[str, str]) -> str:
    """``template`` with the simulator's ids where it models them, sample ids elsewhere."""
    values = {**DEFAULT_IDS, **seeded, **get_walk.SAMPLE_IDS.get(template, {})}
    return re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], template)


def routed(template: str) -> bool:
    return ("GET", template) in ROUTES or read_handler(template) is not None


@pytest.fixture
def seeded(pve: PveSimulator, api: Any) -> dict[str, str]:
    """A running VM with an answering agent and one finished task, to fill the paths in."""
    pve.state.add_vm(VMID, "web", agent="1")
    pve.faults.agent_boot(0)
    upid = api.nodes(NODE).qemu(VMID).status.start.post()
    run_ok(api, upid)
    return {"node": NODE, "vmid": str(VMID), "storage": "local", "upid": upid}


# Values for required query parameters the schema gives no enum for (an enum's first value
# is sent otherwise: rrddata's ``timeframe=hour``, cloudinit/dump's ``type=user``...).
SAMPLE_PARAMS = {"ds": "cpu,mem", "schedule": "*/15", "config-keys": "global:fsid", "id": "0"}

# Paths real PVE answers with an error on a fresh cluster (``handlers/absent_features.py``
# names each handler): the walk expects exactly that error.
CEPH = "binary not installed: /usr/bin/ceph-mon"
EXPECTED_ERRORS = {
    **{
        template: (500, CEPH)
        for template in ABSENT_FEATURES
        if template.startswith(("/nodes/{node}/ceph/", "/cluster/ceph/"))
    },
    "/cluster/ha/groups": (500, "cannot index groups: ha groups have been migrated to rules"),
    **get_walk.EXPECTED_ERRORS,
}


def required_params(template: str) -> dict[str, str]:
    """The query parameters ``template``'s GET declares required, filled from the schema."""
    info = path_catalog.endpoints()[template]["GET"]
    props = (info.get("parameters") or {}).get("properties") or {}
    out = {}
    for name, prop in props.items():
        if prop.get("optional") or "{" + name + "}" in template:
            continue
        if name in get_walk.PARAMS.get(template, {}):
            continue
        out[name] = prop["enum"][0] if prop.get("enum") else SAMPLE_PARAMS[name]
    return out


def get(pve: PveSimulator, path: str, params: dict[str, str] | None = None) -> requests.Response:
    return requests.get(
        f"{pve.url}/api2/json{path}",
        params=params,
        headers={"Authorization": f"PVEAPIToken={pve.token_id}={pve.token_secret}"},
        verify=pve.ca_path,
        timeout=5,
    )


# Where real PVE's own answer departs from its ``returns`` schema, the simulator answers as PVE
# does; the walk forgives exactly that departure (the error message) and nothing else.
PVE_OWN_SCHEMA_GAPS: dict[str, set[str]] = {
    # qemu-server QemuServer.pm foreach_volid sets ``size`` only from a drive's ``size=``, and
    # API2/Qemu.pm create_disks writes the cloud-init drive without one, so its local_disks
    # entry has no size although the schema does not mark it optional.
    "/nodes/{node}/qemu/{vmid}/migrate": {"'size' is a required property"},
    # pve-container src/PVE/API2/LXC.pm ip: get_interfaces returns nothing when the VMID has
    # no running container (find_lxc_pid dies), and PVE does not verify results: data null.
    "/nodes/{node}/lxc/{vmid}/interfaces": {"None is not of type 'array'"},
    # pve-manager PVE/VZDump.pm read_vzdump_defaults builds ``performance`` and ``fleecing`` as
    # hashes of their formats' defaults and API2/VZDump.pm defaults prints only
    # ``prune-backups`` back into a property string, so both go out as objects.
    "/nodes/{node}/vzdump/defaults": {
        "{'max-workers': 16, 'pbs-entries-max': 1048576} is not of type 'string'",
        "{'enabled': 0} is not of type 'string'",
    },
    # pve-storage Diskmanage.pm get_disks sets ``mounted`` only for a mounted device and
    # ``osdid-list`` to undef without Ceph OSDs, though the schema requires both.
    "/nodes/{node}/disks/list": {"'mounted' is a required property", "None is not of type 'array'"},
}


def schema_errors(template: str, data: Any) -> list[str]:
    """The messages of every way ``data`` breaks the path's ``returns`` schema, less the
    departure real PVE itself makes there (``PVE_OWN_SCHEMA_GAPS``)."""
    schema = to_json_schema(path_catalog.returns("GET", template))
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(data)]
    return [e for e in errors if e not in PVE_OWN_SCHEMA_GAPS.get(template, set())]


def test_the_paths_clients_named_in_issue_11_are_routed() -> None:
    """The reads found failing with common exporters (issue 11, "Real clients read more")."""
    named = [
        "/cluster/status",
        "/cluster/backup-info/not-backed-up",
        "/cluster/config/qdevice",
        "/nodes/{node}/lxc",
        "/nodes/{node}/replication",
        "/nodes/{node}/subscription",
        "/nodes/{node}/qemu/{vmid}/agent/info",
        "/nodes/{node}/tasks",
    ]
    assert [p for p in named if not routed(p)] == []


def test_every_routed_get_path_answers_schema_valid_data(
    pve: PveSimulator, seeded: dict[str, str]
) -> None:
    """Each routed GET path answers as real PVE does on the simulator's cluster: 200 with data
    that validates against the method's ``returns`` schema in the official 9.1 dump, the error
    PVE gives there (``EXPECTED_ERRORS``), or a non-JSON body of the expected type."""
    failures: list[str] = []
    checked = 0
    for template in path_catalog.get_paths():
        if not routed(template):
            continue
        path = fill(template, seeded)
        params = {**required_params(template), **get_walk.PARAMS.get(template, {})}
        response = get(pve, path, params)
        checked += 1
        failures += answer_failures(template, path, response)
    assert failures == []
    assert checked == len(path_catalog.get_paths())


def answer_failures(template: str, path: str, response: requests.Response) -> list[str]:
    """How ``response`` departs from what the walk expects of ``template`` (none: [])."""
    got = f"{path}: {response.status_code} {response.reason}"
    if template in EXPECTED_ERRORS:
        return [] if (response.status_code, response.reason) == EXPECTED_ERRORS[template] else [got]
    if response.status_code != 200:
        return [got]
    if template in get_walk.NOT_JSON:
        kind = response.headers.get("content-type", "").split(";")[0]
        return [] if kind == get_walk.NOT_JSON[template] else [f"{path}: content type {kind}"]
    return [f"{path}: {e}" for e in schema_errors(template, response.json()["data"])]


def test_every_get_path_of_the_schema_has_a_handler() -> None:
    """No GET of the 9.1 schema answers 501 (issue 11): each has a handler, which the walk
    above calls. A write the simulator does not model still answers a clear 501."""
    assert [p for p in path_catalog.get_paths() if not routed(p)] == []
