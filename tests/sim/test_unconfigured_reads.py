"""Reads of features a fresh cluster never configured answer as PVE's handlers do (issue 11).

Each test names the handler it follows; the answers are what those handlers return when the
config file (cluster.fw, ha/*.cfg, sdn/*.cfg, domains.cfg, user.cfg) holds nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from proxmoxer.core import ResourceException

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import NODE

SHA1_OF_NOTHING = hashlib.sha1(b"").hexdigest()


def test_firewall_options_carry_only_the_digest_of_no_options(pve: PveSimulator, api: Any) -> None:
    """pve-firewall API2/Firewall/{Cluster,Host}.pm get_options: copy_opject_with_digest of an
    empty options hash; rule lists are empty."""
    assert api.cluster.firewall.options.get() == {"digest": SHA1_OF_NOTHING}
    assert api.nodes(NODE).firewall.options.get() == {"digest": SHA1_OF_NOTHING}
    assert api.cluster.firewall.rules.get() == []


def test_firewall_of_an_unknown_vm_is_refused(pve: PveSimulator, api: Any) -> None:
    """The VM firewall handlers load the guest's config first: no VM, no answer."""
    with pytest.raises(ResourceException):
        api.nodes(NODE).qemu(999).firewall.rules.get()


def test_ha_status_without_resources_is_the_quorum_entry(pve: PveSimulator, api: Any) -> None:
    """pve-ha-manager API2/HA/Status.pm status: quorum always; master/lrm only after a CRM ran."""
    rows = api.cluster.ha.status.current.get()
    assert rows == [{"id": "quorum", "type": "quorum", "node": NODE, "status": "OK", "quorate": 1}]
    assert api.cluster.ha.status.manager_status.get()["manager_status"] == {}


def test_sdn_lists_only_the_builtin_pve_ipam(pve: PveSimulator, api: Any) -> None:
    """pve-network Network/SDN/Ipams.pm config adds the internal ``pve`` IPAM."""
    assert [row["ipam"] for row in api.cluster.sdn.ipams.get()] == ["pve"]
    assert api.cluster.sdn.zones.get() == []
    pve.state.access.revoke_token_privileges("/", "SDN.Audit", "SDN.Allocate")
    assert api.cluster.sdn.ipams.get() == []


def test_realms_are_the_two_builtin_ones(pve: PveSimulator, api: Any) -> None:
    """pve-access-control Auth/Plugin.pm parse_config adds pam and pve."""
    assert sorted(row["realm"] for row in api.access.domains.get()) == ["pam", "pve"]


def test_users_list_root_and_its_token_only_for_auditors(pve: PveSimulator, api: Any) -> None:
    """pve-access-control API2/User.pm index: User.Modify or Sys.Audit on /access/groups."""
    (root,) = api.access.users.get(full=1)
    assert root["userid"] == "root@pam"
    assert [token["tokenid"] for token in root["tokens"]] == [pve.token_id.split("!")[1]]
    pve.state.access.revoke_token_privileges("/", "User.Modify", "Sys.Audit")
    assert api.access.users.get() == []
