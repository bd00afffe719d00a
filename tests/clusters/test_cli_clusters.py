"""`solti ... --cluster NAME` against two simulated clusters sharing one audit file.

Real parts: two ``PveSimulator`` behind ``SimEnvironment`` over HTTPS, the real CLI in-process
(``CliRunner``). The second cluster's secret lives only in the variable the policy names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from solti.provisioning.audit_log import AuditLog
from solti.sandbox.environment import SimEnvironment
from tests.cli.clihelpers import solti
from tests.clusters.worlds import (
    DEAD_SECRET_VARIABLE,
    LAB_SECRET_VARIABLE,
    closed_port,
    cluster_entry,
    dead_entry,
    policy_file,
)
from tests.helpers.keys import new_ssh_key
from tests.helpers.worlds import seed_template


@pytest.fixture
def env(home: SimEnvironment, lab: SimEnvironment, tmp_path: Path) -> dict[str, str]:
    home.reset()
    lab.reset()
    policy = policy_file(
        home, tmp_path, {"clusters": {"lab": cluster_entry(lab, LAB_SECRET_VARIABLE)}}
    )
    return {
        **home.env,
        "SOLTI_CONFIG": str(policy),
        LAB_SECRET_VARIABLE: lab.pve.token_secret,
        "SOLTI_DB": str(tmp_path / "solti.db"),
    }


def ok_json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def create(env: dict[str, str], *extra: str) -> Any:
    key = new_ssh_key("ops@example")
    return solti(env, "vm", "create", "rocky9", "--ssh-key", key, "--json", *extra)


def test_create_on_each_cluster_keeps_vmids_audit_and_leases_apart(
    env: dict[str, str], home: SimEnvironment, lab: SimEnvironment
) -> None:
    seed_template(home)
    seed_template(lab)
    on_lab = ok_json(create(env, "--cluster", "lab", "--name", "lab1"))
    on_home = ok_json(create(env, "--name", "home1"))
    # VMIDs are per cluster: both clusters handed out their first free id.
    assert on_lab["vm"]["vmid"] == on_home["vm"]["vmid"] == 500
    assert sorted(lab.pve.state.guests) == [500, 9000]
    assert lab.pve.state.guests[500].conf["name"] == "lab1"
    assert home.pve.state.guests[500].conf["name"] == "home1"

    audit = AuditLog(env["SOLTI_DB"])
    creates = audit.query(action="vm create")
    assert sorted((r.cluster, r.name) for r in creates) == [("default", "home1"), ("lab", "lab1")]
    assert audit.scoped("lab").owners() == {500: audit.scoped("default").owners()[500]}
    assert [r.name for r in audit.query(action="vm create", cluster="lab")] == ["lab1"]

    # SOLTI_CLUSTER chooses as --cluster does; the lease is the lab VM's, not home's.
    removed = solti({**env, "SOLTI_CLUSTER": "lab"}, "vm", "remove", "500", "--yes", "--json")
    assert removed.exit_code == 0, removed.output
    assert sorted(lab.pve.state.guests) == [9000]
    assert sorted(home.pve.state.guests) == [500, 9000]
    listed = ok_json(solti(env, "vm", "list", "--json"))
    assert [(row["cluster"], row["vmid"], row["lease_expires_at"] is not None)
            for row in listed] == [("default", 500, True)]  # fmt: skip


def test_list_without_cluster_asks_every_cluster(
    env: dict[str, str], home: SimEnvironment, lab: SimEnvironment
) -> None:
    home.pve.state.add_vm(500, "on-home")
    lab.pve.state.add_vm(500, "on-lab")
    lab.pve.state.add_vm(501, "also-lab")
    rows = ok_json(solti(env, "vm", "list", "--json"))
    assert sorted((r["cluster"], r["vmid"], r["name"]) for r in rows) == [
        ("default", 500, "on-home"), ("lab", 500, "on-lab"), ("lab", 501, "also-lab"),
    ]  # fmt: skip
    only_lab = ok_json(solti(env, "vm", "list", "--cluster", "lab", "--json"))
    assert {r["cluster"] for r in only_lab} == {"lab"} and len(only_lab) == 2
    table = solti(env, "vm", "list")
    assert table.exit_code == 0 and "on-lab" in table.stdout and "cluster" in table.stdout


def test_a_cluster_that_is_down_is_named_and_the_others_listed(
    env: dict[str, str], home: SimEnvironment, lab: SimEnvironment, tmp_path: Path
) -> None:
    clusters = {"lab": cluster_entry(lab, LAB_SECRET_VARIABLE),
                "dead": dead_entry(home, closed_port())}  # fmt: skip
    policy = policy_file(home, tmp_path, {"clusters": clusters})
    env = {**env, "SOLTI_CONFIG": str(policy), DEAD_SECRET_VARIABLE: "not-a-real-secret-value"}
    home.pve.state.add_vm(500, "on-home")
    lab.pve.state.add_vm(600, "on-lab")
    result = solti(env, "vm", "list")
    assert result.exit_code == 0, result.output
    assert "on-home" in result.stdout and "on-lab" in result.stdout
    down = [line for line in result.stdout.splitlines() if "did not answer" in line]
    assert len(down) == 1 and down[0].startswith("cluster dead did not answer: ")
    assert "not-a-real-secret-value" not in result.output
    as_doc = solti(env, "vm", "list", "--json")
    assert as_doc.exit_code == 0
    assert {r["cluster"] for r in json.loads(as_doc.stdout)} == {"default", "lab"}
    assert "cluster dead did not answer" in as_doc.stderr
    alone = solti(env, "vm", "list", "--cluster", "dead")
    assert alone.exit_code == 1 and "Traceback" not in alone.output
    assert "not-a-real-secret-value" not in alone.output


def test_unknown_cluster_and_missing_secret_are_one_line(env: dict[str, str]) -> None:
    unknown = solti(env, "vm", "list", "--cluster", "prod")
    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == ("Error: cluster: unknown cluster 'prod'; known: default, lab")
    no_secret = {k: v for k, v in env.items() if k != LAB_SECRET_VARIABLE}
    missing = solti(no_secret, "template", "list", "--cluster", "lab")
    assert missing.exit_code == 1
    assert LAB_SECRET_VARIABLE in missing.stderr and "is not set" in missing.stderr
    # The default cluster does not need the lab's secret.
    assert solti(no_secret, "template", "list", "--cluster", "default").exit_code == 0


@pytest.mark.parametrize(
    "args",
    [
        ("vm", "create", "--help"), ("vm", "list", "--help"), ("vm", "remove", "--help"),
        ("template", "build", "--help"), ("lease", "sweep", "--help"), ("audit", "--help"),
        ("quota", "--help"), ("reconcile", "--help"), ("check", "--help"),
    ],
)  # fmt: skip
def test_every_verb_takes_cluster(args: tuple[str, ...]) -> None:
    shown = solti({}, *args)
    assert shown.exit_code == 0 and "--cluster NAME" in shown.stdout


def test_check_runs_the_proxmox_items_for_each_cluster(
    env: dict[str, str], home: SimEnvironment, lab: SimEnvironment, tmp_path: Path
) -> None:
    clusters = {"lab": cluster_entry(lab, LAB_SECRET_VARIABLE),
                "dead": dead_entry(home, closed_port()),
                "nosecret": {**cluster_entry(lab, "PROXMOX_NOSECRET_TOKEN_SECRET")}}  # fmt: skip
    policy = policy_file(home, tmp_path, {"clusters": clusters})
    env = {**env, "SOLTI_CONFIG": str(policy), DEAD_SECRET_VARIABLE: "not-a-real-secret-value"}
    report = solti(env, "check", "--json")
    assert report.exit_code == 1  # the dead cluster and the missing secret fail
    checks = {c["name"]: c for c in json.loads(report.stdout)["checks"]}
    assert checks["proxmox.version"]["status"] == "ok"
    assert checks["proxmox[lab].version"]["status"] == "ok"
    assert checks["proxmox[lab].nodes"]["detail"] == "online: pve"
    assert checks["proxmox[dead].reachable"]["status"] == "fail"
    assert "clusters.dead.url" in checks["proxmox[dead].reachable"]["fix"]
    missing = checks["proxmox[nosecret].config"]
    assert missing["status"] == "fail" and "PROXMOX_NOSECRET_TOKEN_SECRET" in missing["detail"]
    for secret in (lab.pve.token_secret, home.pve.token_secret, "not-a-real-secret-value"):
        assert secret not in report.output
    only_lab = solti(env, "check", "--cluster", "lab", "--json")
    names = [c["name"] for c in json.loads(only_lab.stdout)["checks"]]
    assert "proxmox[lab].version" in names
    assert not [n for n in names if n.startswith(("proxmox.", "proxmox[dead]"))]


def with_dead(
    env: dict[str, str], home: SimEnvironment, lab: SimEnvironment, folder: Path
) -> dict[str, str]:
    """``env`` with a third cluster, ``dead``, whose URL answers nothing."""
    clusters = {"lab": cluster_entry(lab, LAB_SECRET_VARIABLE),
                "dead": dead_entry(home, closed_port())}  # fmt: skip
    policy = policy_file(home, folder, {"clusters": clusters})
    return {**env, "SOLTI_CONFIG": str(policy), DEAD_SECRET_VARIABLE: "not-a-real-secret-value"}


def test_lease_sweep_without_cluster_sweeps_every_cluster(
    env: dict[str, str], home: SimEnvironment, lab: SimEnvironment, tmp_path: Path
) -> None:
    seed_template(home)
    seed_template(lab)
    ok_json(create(env, "--name", "home1", "--lease", "2d"))
    ok_json(create(env, "--cluster", "lab", "--name", "lab1", "--lease", "2d"))
    env = with_dead(env, home, lab, tmp_path)
    later = ("--as-of", "2099-01-01T00:00:00Z")
    due = solti(env, "lease", "sweep", *later, "--dry-run", "--json")
    assert due.exit_code == 1  # the dead cluster was not swept
    parts = {p["cluster"]: p for p in json.loads(due.stdout)["clusters"]}
    assert [(a["vmid"], a["action"]) for a in parts["default"]["actions"]] == [(500, "stop")]
    assert [(a["vmid"], a["action"]) for a in parts["lab"]["actions"]] == [(500, "stop")]
    assert "error" in parts["dead"] and "not-a-real-secret-value" not in due.output

    done = solti(env, "lease", "sweep", *later)
    assert done.exit_code == 1, done.output
    lines = done.stdout.splitlines()
    assert [line.split(" as of")[0] for line in lines if line.startswith("lease sweep")] == [
        "lease sweep on cluster default", "lease sweep on cluster lab",
    ]  # fmt: skip
    assert next(line for line in lines if "did not answer" in line).startswith("cluster dead")
    # Both live clusters' VMs were stopped; each cluster's stop is recorded on it.
    assert not home.pve.state.guests[500].running and not lab.pve.state.guests[500].running
    stops = AuditLog(env["SOLTI_DB"]).query(action="vm stop", result="ok")
    assert sorted(r.cluster for r in stops) == ["default", "lab"]
    only_lab = ok_json(solti(env, "lease", "sweep", *later, "--cluster", "lab", "--json"))
    # With several clusters configured the document has one shape, whatever --cluster says.
    assert [(p["cluster"], p["actions"]) for p in only_lab["clusters"]] == [("lab", [])]


def test_quota_shows_each_clusters_usage(
    env: dict[str, str], home: SimEnvironment, lab: SimEnvironment, tmp_path: Path
) -> None:
    seed_template(home)
    seed_template(lab)
    made = ok_json(create(env, "--name", "home1"))
    ok_json(create(env, "--cluster", "lab", "--name", "lab1"))
    ok_json(create(env, "--cluster", "lab", "--name", "lab2"))
    owner = AuditLog(env["SOLTI_DB"]).scoped("default").owners()[made["vm"]["vmid"]]
    env = with_dead(env, home, lab, tmp_path)
    report = ok_json(solti(env, "quota", "--user", owner, "--json"))
    parts = {p["cluster"]: p for p in report["clusters"]}
    assert parts["default"]["used"]["vms"] == 1 and parts["lab"]["used"]["vms"] == 2
    assert sorted(v["vmid"] for v in parts["lab"]["vms"]) == [500, 501]
    assert "error" in parts["dead"]
    text = solti(env, "quota", "--user", owner)
    assert text.exit_code == 0, text.output
    assert f"quota of {owner} on cluster lab" in text.stdout
    assert "cluster dead did not answer" in text.stdout
    alone = ok_json(solti(env, "quota", "--user", owner, "--cluster", "lab", "--json"))
    assert [(p["cluster"], p["used"]["vms"]) for p in alone["clusters"]] == [("lab", 2)]


def test_reconcile_without_cluster_reconciles_every_cluster(
    env: dict[str, str], home: SimEnvironment, lab: SimEnvironment, tmp_path: Path
) -> None:
    seed_template(home)
    seed_template(lab)
    ok_json(create(env, "--name", "home1"))
    ok_json(create(env, "--cluster", "lab", "--name", "lab1"))
    lab.pve.state.guests.drop(500)  # removed outside solti, on lab only
    clean = solti(env, "reconcile", "--dry-run")
    assert clean.exit_code == 0, clean.output
    assert "lab" in clean.stdout and "vm gone" in clean.stdout
    assert "Nothing to reconcile on cluster default" in clean.stdout
    env = with_dead(env, home, lab, tmp_path)
    done = solti(env, "reconcile", "--json")
    assert done.exit_code == 1  # the dead cluster needs a person
    parts = {p["cluster"]: p for p in json.loads(done.stdout)["clusters"]}
    assert [f["kind"] for f in parts["lab"]["findings"]] == ["vm gone"]
    assert parts["default"]["findings"] == [] and "error" in parts["dead"]
    gone = AuditLog(env["SOLTI_DB"]).query(action="vm gone")
    assert [(r.cluster, r.vmid) for r in gone] == [("lab", 500)]
    assert sorted(home.pve.state.guests) == [500, 9000]
