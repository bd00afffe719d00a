"""The last two GET paths of issue 11: the node's QEMU machine types and the SDN dry-run.

``handlers/machine_type_reads.py`` follows qemu-server ``src/PVE/API2/Qemu/Machine.pm``
``types`` over pve-qemu-kvm 10.1.2-7's machine list; ``handlers/sdn_dry_run_reads.py`` follows
pve-network ``src/PVE/API2/Network/SDN.pm`` ``dry-run`` on a node that never applied SDN. The
walk checks the shapes; these check the values.
"""

from __future__ import annotations

import json
import re
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from proxmoxer.core import ResourceException

from solti.sandbox.pve import PveSimulator
from solti.sandbox.pve.handlers import sdn_dry_run_reads as dry
from solti.sandbox.pve.handlers.machine_type_reads import version_key
from tests.sim.conftest import NODE

UPSTREAM_VERSIONS = [f"{major}.{minor}" for major in range(5, 10) for minor in range(3)]
UPSTREAM_VERSIONS = ["4.1", "4.2", *UPSTREAM_VERSIONS, "10.0", "10.1"]


def machines(api: Any, **params: str) -> list[dict[str, str]]:
    return api.nodes(NODE).capabilities.qemu.machines.get(**params)


def test_the_newest_machines_come_first_i440fx_before_q35(pve: PveSimulator, api: Any) -> None:
    """QEMU 10.1's newest types lead; equal versions keep the file's order (Perl's stable
    merge sort), the +pve1 of 10.0 ranks above plain 10.0 (machine_version_cmp)."""
    ids = [row["id"] for row in machines(api)]
    assert ids[:6] == [
        "pc-i440fx-10.1",
        "pc-q35-10.1",
        "pc-i440fx-10.0+pve1",
        "pc-q35-10.0+pve1",
        "pc-i440fx-10.0",
        "pc-q35-10.0",
    ]
    assert ids[-2:] == ["pc-i440fx-4.1", "pc-q35-4.1"]
    keys = [version_key(i) for i in ids]
    assert keys == sorted(keys, reverse=True)


def test_pve_revisions_carry_their_changes(pve: PveSimulator, api: Any) -> None:
    """Machine.pm adds one entry per $PVE_MACHINE_VERSION revision, with its text."""
    rows = {row["id"]: row for row in machines(api)}
    assert rows["pc-q35-9.2+pve1"] == {
        "id": "pc-q35-9.2+pve1",
        "type": "q35",
        "version": "9.2+pve1",
        "changes": "Disables S3/S4 power states by default.",
    }
    assert rows["pc-i440fx-4.1+pve2"]["changes"] == (
        "Increases the number of SCSI drives supported."
    )
    assert rows["pc-i440fx-8.2"] == {"id": "pc-i440fx-8.2", "type": "i440fx", "version": "8.2"}
    revised = sorted(i for i in rows if "+pve" in i)
    assert len(revised) == 8 and all("changes" in rows[i] for i in revised)
    assert not any("changes" in row for i, row in rows.items() if "+pve" not in i)


def test_every_version_from_4_1_of_both_types_and_nothing_older(
    pve: PveSimulator, api: Any
) -> None:
    """pve-qemu's 0040 patch deletes types older than 4.1 in QEMU 10.1; no pc-q35-4.0.1."""
    plain = [row for row in machines(api, arch="x86_64") if "+pve" not in row["id"]]
    for kind, prefix in (("i440fx", "pc-i440fx"), ("q35", "pc-q35")):
        versions = sorted((r["version"] for r in plain if r["type"] == kind), key=_numeric)
        assert versions == UPSTREAM_VERSIONS
        assert all(r["id"] == f"{prefix}-{r['version']}" for r in plain if r["type"] == kind)


def _numeric(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def test_the_data_file_is_what_parse_machines_prints() -> None:
    """debian/parse-machines.pl: one line of canonical JSON, in ``-machine help`` order
    (pc_piix family first, names in decreasing strcmp order)."""
    text = (
        resources.files("solti.sandbox.pve.data")
        .joinpath("machine-versions-x86_64.json")
        .read_text()
    )
    rows = json.loads(text)
    assert text == json.dumps(rows, separators=(",", ":"), sort_keys=True)
    i440fx = [r["id"] for r in rows if r["type"] == "i440fx"]
    assert [r["id"] for r in rows[: len(i440fx)]] == i440fx
    assert i440fx == sorted(i440fx, key=lambda i: f"{i}-machine", reverse=True)
    assert i440fx[0] == "pc-i440fx-9.2"


def dry_run(api: Any) -> dict[str, Any]:
    return api.cluster.sdn("dry-run").get(node=NODE)


def test_dry_run_shows_the_first_apply_of_an_empty_sdn(pve: PveSimulator, api: Any) -> None:
    """SDN.pm dry-run: the node's shipped frr.conf against the generated head, and an absent
    interfaces.d/sdn (-N, epoch) against ``#version:1``."""
    answer = dry_run(api)
    assert set(answer) == {"frr-diff", "interfaces-diff"}
    interfaces = answer["interfaces-diff"].splitlines()
    assert interfaces[0] == (
        "--- /etc/network/interfaces.d/sdn\t1970-01-01 00:00:00.000000000 +0000"
    )
    assert re.fullmatch(r"\+\+\+ /proc/\d+/fd/\d+\t\S+ \S+\.\d{9} \+0000", interfaces[1])
    assert interfaces[2:] == ["@@ -0,0 +1 @@", "+#version:1"]
    frr = answer["frr-diff"].splitlines()
    assert frr[0].startswith("--- /etc/frr/frr.conf\t")
    assert frr[2] == "@@ -1,10 +1,8 @@"
    assert f"+hostname {NODE}" in frr and " log syslog informational" in frr
    assert frr[-3:] == ["+!", "+line vty", "+!"]


def test_dry_run_hunks_are_gnu_diffs(tmp_path: Path, pve: PveSimulator, api: Any) -> None:
    """get_diff runs ``diff -b -N -u``: the simulator's hunks are that program's."""
    current = tmp_path / "frr.conf"
    current.write_text(dry.SHIPPED_FRR_CONF)
    pending = tmp_path / "pending"
    pending.write_text(dry.pending_frr_conf(NODE))
    real = subprocess.run(
        ["diff", "-b", "-N", "-u", str(current), str(pending)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert real.returncode == 1
    answer = dry_run(api)
    assert answer["frr-diff"].splitlines()[2:] == real.stdout.splitlines()[2:]
    pending.write_text(dry.pending_interfaces())
    missing = subprocess.run(
        ["diff", "-b", "-N", "-u", str(tmp_path / "absent"), str(pending)],
        capture_output=True,
        text=True,
        check=False,
        env={"TZ": "UTC"},
    )
    assert answer["interfaces-diff"].splitlines()[2:] == missing.stdout.splitlines()[2:]
    assert missing.stdout.splitlines()[0].endswith("\t1970-01-01 00:00:00.000000000 +0000")


def test_dry_run_needs_sys_audit_on_the_node(pve: PveSimulator, api: Any) -> None:
    """permissions: check => ['perm', '/nodes/{node}', ['Sys.Audit']]."""
    pve.state.access.replace_acl({"/vms": ["VM.Audit"]})
    with pytest.raises(ResourceException) as caught:
        dry_run(api)
    assert caught.value.status_code == 403
    pve.state.access.replace_acl({f"/nodes/{NODE}": ["Sys.Audit"]})
    assert set(dry_run(api)) == {"frr-diff", "interfaces-diff"}
