"""The pure parts of many clusters: the policy section, the slash option, the registry, the
audit migration of a database made before clusters."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from solti.bot.grammar import UsageError
from solti.bot.grammar.cluster_option import take_cluster
from solti.provisioning import ConfigError, InvalidRequest, load_policy
from solti.provisioning.audit_log import AuditLog
from solti.provisioning.audit_schema import _STEPS, MIGRATION_SET
from solti.provisioning.clusters import Clusters
from solti.provisioning.lease_store import LeaseStore

ENTRY = {"url": "https://pve-lab:8006", "token_id": "solti@pve!bot",
         "token_secret_env": "LAB_SECRET"}  # fmt: skip


def policy_with(tmp_path: Path, clusters: Any) -> Any:
    import yaml

    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump({"clusters": clusters}, sort_keys=False), encoding="utf-8")
    return load_policy(path)


# --- the policy section ---------------------------------------------------------------------


def test_a_cluster_entry_loads_with_its_defaults(tmp_path: Path) -> None:
    policy = policy_with(tmp_path, {"lab": {**ENTRY, "channels": ["C0LAB"]}})
    lab = policy.clusters["lab"]
    assert (lab.url, lab.verify_ssl, lab.ca_bundle, lab.channels) == (
        "https://pve-lab:8006", True, None, ["C0LAB"],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("clusters", "message"),
    [
        ({"default": ENTRY}, "'default' is the cluster of the PROXMOX_* variables"),
        ({"all": ENTRY}, "'all' means every cluster (--cluster all)"),
        ({"Lab": ENTRY}, "'Lab' is not a cluster name"),
        ({"lab": {**ENTRY, "token_secret_env": "3f0c-uuid-secret"}}, "NAME of an environment"),
        ({"lab": {**ENTRY, "url": "http://pve-lab"}}, "is not https://host[:port]"),
        ({"lab": {**ENTRY, "token_id": "solti"}}, "is not user@realm!tokenname"),
        ({"lab": {**ENTRY, "token_secret": "x"}}, "token_secret"),
        ({"lab": {**ENTRY, "channels": ["#lab"]}}, "is not a Slack channel id"),
        ({"lab": {**ENTRY, "channels": ["C0X"]}, "b": {**ENTRY, "channels": ["C0X"]}},
         "channel C0X is routed to both 'lab' and 'b'"),
    ],
)  # fmt: skip
def test_bad_cluster_entries_are_named(tmp_path: Path, clusters: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        policy_with(tmp_path, clusters)
    assert "clusters" in str(caught.value) and message in str(caught.value)


# --- the slash option -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vm list", ("vm list", None)),
        ("vm list --cluster lab", ("vm list", "lab")),
        ("vm --cluster=lab list --mine", ("vm list --mine", "lab")),
        ("vm create rocky9 \u2014cluster site-2 --disk 50G",
         ("vm create rocky9 --disk 50G", "site-2")),
        ("key set ssh-ed25519 AAAA me --cluster x",
         ("key set ssh-ed25519 AAAA me --cluster x", None)),
        ("vm create rocky9 --name a--cluster", ("vm create rocky9 --name a--cluster", None)),
    ],
)  # fmt: skip
def test_take_cluster(text: str, expected: tuple[str, str | None]) -> None:
    assert take_cluster(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("vm list --cluster", "--cluster needs a cluster name"),
        ("vm list --cluster --mine", "--cluster needs a cluster name"),
        ("vm list --cluster Lab!", "`Lab!` is not a cluster name"),
        ("vm list --cluster a --cluster b", "given twice"),
    ],
)
def test_take_cluster_refuses_with_a_sentence(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        take_cluster(text)
    assert message in caught.value.message


# --- the registry -----------------------------------------------------------------------------


def test_registry_resolves_names_routes_and_reads_the_secret_only_when_built(
    tmp_path: Path,
) -> None:
    policy = policy_with(tmp_path, {"lab": {**ENTRY, "channels": ["C0LAB"]}})
    clusters = Clusters.from_settings(None, policy, tmp_path / "solti.db", {})
    assert clusters.names == ["default", "lab"] and clusters.many
    assert clusters.resolve(None, "C0LAB") == "lab"
    assert clusters.resolve("default", "C0LAB") == "default"
    assert clusters.resolve(None, "C0ELSE") == "default"
    with pytest.raises(InvalidRequest) as unknown:
        clusters.resolve("prod", None)
    assert str(unknown.value) == "cluster: unknown cluster 'prod'; known: default, lab"
    with pytest.raises(ConfigError) as missing:
        clusters.get("lab")  # LAB_SECRET is not set: named, and only now
    assert "LAB_SECRET" in str(missing.value) and "is not set" in str(missing.value)
    built = Clusters.from_settings(None, policy, tmp_path / "solti.db", {"LAB_SECRET": "s3cr3t"})
    lab = built.get("lab")
    assert lab.cluster == "lab" and built.get("lab") is lab
    assert "s3cr3t" not in repr(lab.client.__dict__)


def test_each_answers_per_cluster_and_keeps_going(tmp_path: Path) -> None:
    policy = policy_with(tmp_path, {"lab": ENTRY})
    clusters = Clusters.from_settings(None, policy, tmp_path / "solti.db", {"LAB_SECRET": "x"})
    answers = clusters.each(lambda p: p.cluster)
    assert [(a.cluster, a.value) for a in answers if a.answered] == [("lab", "lab")]
    failed = [a for a in answers if not a.answered]
    assert [a.cluster for a in failed] == ["default"] and "PROXMOX_URL" in str(failed[0].error)


# --- the audit file made before clusters ------------------------------------------------------


def test_m006_marks_old_records_and_leases_default(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    before = Migrations(MIGRATION_SET)
    for step in [s for s in _STEPS if s.__name__ != "m006_clusters"]:
        before()(step)
    db = Database(sqlite3.connect(path))
    before.apply(db)
    row = {"at": "2026-01-01T00:00:00+00:00", "actor": "U1", "via": "cli",
           "action": "vm create", "vmid": 500, "result": "ok", "params": "{}"}  # fmt: skip
    db["audit"].insert(row)
    db.execute(
        "INSERT INTO lease (vmid, owner, set_at, set_by)"
        " VALUES (500, 'U1', '2026-01-01T00:00:00+00:00', 'U1')"
    )
    db.execute(
        "INSERT INTO lease_event (vmid, expires_at, kind, at) VALUES (500, 'e', 'stop', 'a')"
    )
    db.conn.commit()
    db.conn.close()

    audit = AuditLog(path)
    assert [(r.cluster, r.vmid) for r in audit.query()] == [("default", 500)]
    default, lab = audit.scoped("default"), audit.scoped("lab")
    assert default.owners() == {500: "U1"} and lab.owners() == {}
    assert [lease.vmid for lease in LeaseStore(default).all()] == [500]
    assert LeaseStore(lab).all() == [] and LeaseStore(default).done() == {(500, "e", "stop")}
    lab.record("vm gone", "U2", "cli", "ok", vmid=500)  # lab's 500 is another VM
    assert default.owners() == {500: "U1"}
    audit.close()


# --- buttons name their cluster -------------------------------------------------------------


def test_vm_buttons_carry_the_cluster_only_when_several_are_configured() -> None:
    from solti.bot.cluster_context import NAMED, button_value, split_button_value

    assert button_value("500") == "500"  # one cluster: values as they always were
    token = NAMED.set("lab")
    try:
        assert button_value("500") == "500@lab"
        assert button_value("500:before-upgrade") == "500:before-upgrade@lab"
        assert button_value('{"template_vmid": 9000}') == '{"template_vmid": 9000}'
    finally:
        NAMED.reset(token)
    assert split_button_value("500:before-upgrade@lab") == ("500:before-upgrade", "lab")
    assert split_button_value("500@Lab!") == ("500@Lab!", None)
    assert split_button_value("500") == ("500", None)


def test_notices_sent_before_clusters_become_the_default_clusters(tmp_path: Path) -> None:
    """A bot database at m007 (notices keyed by owner and template) keeps its rows, now the
    default cluster's; the same template VMID on another cluster is a notice of its own."""
    import sqlite_utils

    from solti.bot.db import BotDatabase, migrations
    from solti.bot.notices import NoticeStore

    path = tmp_path / "bot.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m008_h2clusterlists_notice_cluster")
    old.execute(
        "INSERT INTO [template_notices] (owner, template_vmid, version, vmids, sent_at)"
        " VALUES ('U0ALICE', 9001, '9.7', '[500]', '2026-12-01T00:00:00+00:00')"
    )
    old.conn.commit()
    old.close()
    database = BotDatabase(path)
    store = NoticeStore(database)
    assert store.get("U0ALICE", 9001, cluster="default")["vmids"] == "[500]"
    assert store.get("U0ALICE", 9001, cluster="lab") is None

    class Build:
        vmid, version = 9001, "9.7"

    at = datetime(2026, 12, 2, tzinfo=UTC)
    assert store.claim("U0ALICE", Build(), [500], at, cluster="lab")
    assert not store.claim("U0ALICE", Build(), [500], at, cluster="default")
    database.close()
